"""What the plan's checks judge before anything registers, and the shape of a check.

Each feature keeps its checks beside its models (`<feature>/checks.py`), each a function of a `Proposal` returning
the problems it finds; the plan runs them all and raises once, listing every problem.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..errors import Problem
from ..pipelines import PipelineSet
from .args import HayhooksServiceArgs


@dataclass(frozen=True)
class Proposal:
    """A service as proposed: its validated args, its pipelines, the secret values the program gave."""

    args: HayhooksServiceArgs
    pipelines: PipelineSet | None
    """None when they could not be read (that problem is reported already); checks of them then wait."""
    given: frozenset[str]
    """The keys of `secret_values` (the `fromConfig` values, by variable name or `OIDC_CLIENT_SECRET_VALUE`)."""


Check = Callable[[Proposal], list[Problem]]
