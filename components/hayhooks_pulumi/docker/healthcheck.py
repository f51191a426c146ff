"""The container health check: its timings, and `GET /status` with the image's own Python, since the image has
no curl. (The container's args take it in `container.py`: models and checks load no provider SDK.)"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from ..model import ConfigModel
from ..server.facts import status_url

if TYPE_CHECKING:
    from .plan import ContainerPlan

_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+\Z")
_DURATION_UNITS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600)}
# Seconds left between the client's own timeout and Docker's, so the script reports before it is killed.
_MARGIN = 1


def duration_seconds(text: str) -> Decimal:
    """A Docker health-check duration (`30s`, `1m30s`, `500ms`) in seconds."""
    if not _DURATION.match(text):
        raise ValueError(f"{text!r} is not a duration: write e.g. 30s, 1m30s or 500ms (units ms, s, m, h)")
    return sum((Decimal(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text)), Decimal(0))


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


def health_script(url: str, timeout: float) -> str:
    """Exits 0 on a 200 answer, 1 on anything else (refused, timeout, error status), saying why on stderr."""
    return (
        "import sys, urllib.request\n"
        "try:\n"
        f"    with urllib.request.urlopen({url!r}, timeout={timeout!r}) as answer:\n"
        "        sys.exit(0 if answer.status == 200 else 1)\n"
        "except Exception as error:\n"
        "    print(f'unhealthy: {error}', file=sys.stderr)\n"
        "    sys.exit(1)\n"
    )


def health_command(plan: ContainerPlan) -> list[str]:
    """The `CMD` form: no shell needed in the image."""
    timeout = max(1, math.floor(plan.args.healthcheck.seconds("timeout")) - _MARGIN)
    return ["CMD", "python", "-c", health_script(status_url(plan.port), timeout)]


def wait_timeout_seconds(plan: ContainerPlan) -> int:
    """Long enough for the slowest healthy start: the start period, then `retries` failing checks."""
    check = plan.args.healthcheck
    budget = check.seconds("start_period") + check.retries * (check.seconds("interval") + check.seconds("timeout"))
    return math.ceil(budget)
