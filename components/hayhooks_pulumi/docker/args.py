"""HayhooksContainerArgs: everything a HayhooksContainer is configured with, validated and defaulted."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from ..model import ConfigModel
from ..profile import Profile
from ..scratch import ScratchArgs
from ..settings import SecretEnvName, ServerSettings
from ..types import Labels

MIN_UID = 10000
# Docker's own minimum for `--memory`.
MIN_MEMORY_MB = 6
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+\Z")
_DURATION_UNITS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}
_SIZE = re.compile(r"^(?P<number>[0-9]+)(?P<unit>[kKmMgG]i?|[bB])?\Z")
_SIZE_UNITS = {"b": 1, "k": 2**10, "m": 2**20, "g": 2**30}
_LOG_SIZE = re.compile(r"^[1-9][0-9]*[kmg]\Z")
_USER = re.compile(r"^(?P<uid>[0-9]+):(?P<gid>[0-9]+)\Z")


def duration_seconds(text: str) -> Decimal:
    """A Docker health-check duration (`30s`, `1m30s`, `500ms`) in seconds."""
    if not _DURATION.match(text):
        raise ValueError(f"{text!r} is not a duration: write e.g. 30s, 1m30s or 500ms (units ms, s, m, h)")
    return sum((Decimal(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text)), Decimal(0))


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


class HealthcheckArgs(ConfigModel):
    """The container health check: `GET /status` with the image's Python (the official image has no curl)."""

    interval: str = "30s"
    """Time between checks once started."""
    timeout: str = "10s"
    """Time one check may take before it counts as failed."""
    retries: Annotated[int, Field(ge=1, le=100)] = 3
    """Consecutive failures that make the container unhealthy."""
    start_period: str = "40s"
    """Time the server may take to load its pipelines before failures count."""
    start_interval: str | None = "5s"
    """Time between checks during the start period (Docker Engine 25+), so a fast start is seen early;
    `null` leaves Docker's default (`interval`)."""
    wait: bool = True
    """Make `pulumi up` wait until the container is healthy (and fail when it does not become healthy)."""

    @field_validator("interval", "timeout", "start_period", "start_interval")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            duration_seconds(value)
        return value

    @field_validator("interval", "timeout", "start_interval")
    @classmethod
    def _at_least_a_second(cls, value: str | None) -> str | None:
        if value is not None and duration_seconds(value) < 1:
            raise ValueError(f"{value!r} is shorter than a second")
        return value

    def seconds(self, field: str) -> Decimal:
        value = getattr(self, field)
        return Decimal(0) if value is None else duration_seconds(value)


class PublishAuth(StrEnum):
    """Who authenticates clients that reach the published port (the server itself has no authentication)."""

    NONE = "none"
    """Nobody: fine on loopback, refused in production on a wider address."""
    EXTERNAL = "external"
    """Something in front of the port does (a reverse proxy, a VPN, a firewall allow-list); you vouch for it."""


class PublishArgs(ConfigModel):
    """The server port published on the host."""

    host_ip: str = "127.0.0.1"
    """Host address to publish on. Loopback by default; anything wider is an explicit choice."""
    host_port: Annotated[int, Field(ge=1, le=65535)] = 1416
    """Host port."""
    auth: PublishAuth = PublishAuth.NONE
    """Who authenticates clients on this port; `none` with a non-loopback `hostIp` is refused in production."""

    @field_validator("host_ip")
    @classmethod
    def _ip(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)"
            ) from None

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.host_ip).is_loopback


class ConfigSecret(ConfigModel):
    """A secret environment variable whose value is a Pulumi config secret."""

    from_config: str = Field(min_length=1)
    """The config key, set with `pulumi config set --secret <key> <value>`; kept secret in state."""
    optional: bool = False
    """Leave the variable out when the key is not set (instead of failing)."""


class LogDriver(StrEnum):
    """Docker logging drivers that rotate with `max-size`/`max-file` and keep `docker logs` working."""

    JSON_FILE = "json-file"
    LOCAL = "local"


class LogOptionsArgs(ConfigModel):
    """Log rotation, so a chatty server cannot fill the host's disk."""

    driver: LogDriver = LogDriver.JSON_FILE
    """Logging driver."""
    max_size: str = "10m"
    """Size at which a log file is rotated, e.g. `10m` (units k, m, g)."""
    max_file: Annotated[int, Field(ge=1, le=100)] = 3
    """Log files kept."""

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: str) -> str:
        if not _LOG_SIZE.match(value):
            raise ValueError(f"{value!r} is not a log size: write e.g. 10m, 512k or 1g")
        return value


class HayhooksContainerArgs(ConfigModel):
    """Configuration of a HayhooksContainer (stack config key `hayhooks:service` with `hayhooks:target: docker`)."""

    profile: Profile = Profile.PRODUCTION
    """`production` refuses what the production guide forbids; `development` allows local conveniences."""
    image: str | None = None
    """Image reference, e.g. `deepset/hayhooks:v2.1.0@sha256:<digest>`; may instead be passed as an Output."""
    pipelines_path: str = "pipelines"
    """Local directory of pipelines (relative to the working directory), bind-mounted read-only; for an engine on
    another machine, copied into a volume mounted read-only."""
    server: ServerSettings = Field(default_factory=ServerSettings)
    """Server settings (env vars). `host` stays `0.0.0.0` inside the container; limit exposure with `publish`."""
    workload_type: WorkloadType = WorkloadType.IO
    """`io` (one worker) or `cpu` (2 x CPU limit + 1 workers; incompatible with durable mode)."""
    resources: ContainerResourcesArgs = Field(default_factory=ContainerResourcesArgs)
    """Memory and CPU limits."""
    scratch: ScratchArgs = Field(default_factory=ScratchArgs)
    """Sizes of the writable `/tmp` and `HOME` (tmpfs: they use memory as they fill)."""
    healthcheck: HealthcheckArgs = Field(default_factory=HealthcheckArgs)
    """Health check timings."""
    user: str = "10001:10001"
    """`uid:gid` the server runs as (both >= 10000; the official image runs as any UID)."""
    publish: PublishArgs | None = Field(default_factory=PublishArgs)
    """The published host port; `null` publishes nothing (reach the server on its network by its alias)."""
    secrets: dict[SecretEnvName, ConfigSecret] = Field(default_factory=dict)
    """Secret environment variables, by name, from Pulumi config: the pipelines', and the server's
    `HAYHOOKS_TRACING_TOKEN` and `HAYHOOKS_DURABLE_REDIS_URL` (with a password)."""
    env_file: str | None = None
    """A `KEY=VALUE` file read at deploy time; every value is kept secret. Local testing only: refused in production."""
    log_options: LogOptionsArgs = Field(default_factory=LogOptionsArgs)
    """Log driver and rotation."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on the container and the network."""

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        match = _USER.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not numeric uid:gid, e.g. 10001:10001")
        for part in ("uid", "gid"):
            number = int(match.group(part))
            if number < MIN_UID:
                raise ValueError(f"{part} {number} is below {MIN_UID} (it could collide with a host user's)")
        return f"{int(match.group('uid'))}:{int(match.group('gid'))}"

    @field_validator("secrets")
    @classmethod
    def _sorted(cls, value: dict[str, ConfigSecret]) -> dict[str, ConfigSecret]:
        return dict(sorted(value.items()))

    @property
    def uid(self) -> int:
        return int(self.user.split(":")[0])

    @property
    def gid(self) -> int:
        return int(self.user.split(":")[1])
