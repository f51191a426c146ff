"""How much the container may use and how many server processes it runs: the limits and the workload type, what
they may not combine, and the number of workers they make."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from ..errors import Problem
from ..model import ConfigModel
from ..server.facts import MEASURED_SERVER_MIB, MIN_MEMORY_LIMIT_MIB
from ..server.models import DurableStore

if TYPE_CHECKING:
    from .args import HayhooksContainerArgs

# Docker's own minimum for `--memory`.
MIN_MEMORY_MB = 6
_SIZE = re.compile(r"^(?P<number>[0-9]+)(?P<unit>[kKmMgG]i?|[bB])?\Z")
_SIZE_UNITS = {"b": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def size_mb(text: str) -> int:
    """A memory size (`4g`, `512m`, `2Gi`) in MiB, which is what Docker's `--memory` and the provider's
    `memory` count in."""
    match = _SIZE.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a size: write e.g. 4g, 512m (or 4Gi, 512Mi)")
    unit = (match.group("unit") or "b")[0].lower()
    size = int(match.group("number")) * _SIZE_UNITS[unit]
    if size % 2**20:
        raise ValueError(f"{text!r} is not a whole number of MiB, which Docker's memory limit counts in")
    return size // 2**20


class WorkloadType(StrEnum):
    """What the pipelines spend their time on; decides the number of server processes."""

    IO = "io"
    """Waiting on LLM APIs and other services: one worker, async pipelines (the default)."""
    CPU = "cpu"
    """Local computation: `--workers` = 2 x the CPU limit + 1. Durable mode refuses more than one worker."""


class ContainerResourcesArgs(ConfigModel):
    """Limits of the container (the production guide's Docker defaults)."""

    memory: str | None = "4g"
    """Memory limit, e.g. `4g`, `512m` (or `4Gi`); `null` removes it (refused in production)."""
    cpus: Annotated[float, Field(gt=0, le=1024)] | None = 2.0
    """CPU limit in cores, e.g. `2.0` or `0.5`; `null` removes it (then `workloadType: cpu` cannot size its workers)."""

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and size_mb(value) < MIN_MEMORY_MB:
            raise ValueError(f"{value!r} is below Docker's minimum of {MIN_MEMORY_MB}m")
        return value

    @property
    def memory_mb(self) -> int | None:
        return None if self.memory is None else size_mb(self.memory)


def workers(args: HayhooksContainerArgs) -> int:
    """One for I/O-bound pipelines; 2 x CPU limit + 1 for CPU-bound ones (the production guide's rule)."""
    if args.workload_type is WorkloadType.CPU and args.resources.cpus is not None:
        return int(2 * args.resources.cpus) + 1
    return 1


def workload_problems(args: HayhooksContainerArgs) -> list[Problem]:
    """`cpu` runs several worker processes, which durable mode (and a missing CPU limit) rules out."""
    if args.workload_type is not WorkloadType.CPU:
        return []
    problems = []
    if args.server.durable_mode:
        problems.append(
            Problem(
                "workloadType",
                "'cpu' runs `hayhooks run --workers <2 x cpus + 1>`, and durable mode serves one process per "
                "server (the server exits with more). Choose one: keep server.durableMode true with workloadType "
                "'io' and scale by running more containers (required in production), or set server.durableMode "
                "false (development only) to use several workers on one host",
            )
        )
    if args.resources.cpus is None:
        problems.append(
            Problem("resources.cpus", "required with workloadType 'cpu': the number of workers is 2 x cpus + 1")
        )
    return problems


def resources_production_problems(args: HayhooksContainerArgs) -> list[Problem]:
    """Production keeps a memory limit the server starts in, and a durable store that outlives the container."""
    problems = []
    memory = args.resources.memory_mb
    if memory is None:
        problems.append(
            Problem("resources.memory", "required in production (a container without one can starve its host)")
        )
    elif memory < MIN_MEMORY_LIMIT_MIB:
        problems.append(
            Problem(
                "resources.memory",
                f"{args.resources.memory} is below {MIN_MEMORY_LIMIT_MIB}m, the least production accepts: the server "
                f"alone holds about {MEASURED_SERVER_MIB} MiB once started with small pipelines, so the container "
                "would be OOM-killed at start; give it what your pipelines need (the default is 4g)",
            )
        )
    if args.server.durable_store is DurableStore.MEMORY:
        problems.append(
            Problem(
                "server.durableStore",
                "'memory' is refused in production: a restart of the container loses the durable runs that durable "
                "mode promises to keep and retry; use 'redis' (server.durableRedisUrl)",
            )
        )
    return problems
