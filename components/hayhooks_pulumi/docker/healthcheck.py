"""The container health check: `GET /status` with the image's own Python, since the image has no curl."""

from __future__ import annotations

import math

import pulumi_docker as docker

from ..server.facts import status_url
from .plan import ContainerPlan

# Seconds left between the client's own timeout and Docker's, so the script reports before it is killed.
_MARGIN = 1


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


def healthcheck_args(plan: ContainerPlan) -> docker.ContainerHealthcheckArgs:
    check = plan.args.healthcheck
    return docker.ContainerHealthcheckArgs(
        tests=health_command(plan),
        interval=check.interval,
        timeout=check.timeout,
        retries=check.retries,
        start_period=check.start_period,
        start_interval=check.start_interval,
    )


def wait_timeout_seconds(plan: ContainerPlan) -> int:
    """Long enough for the slowest healthy start: the start period, then `retries` failing checks."""
    check = plan.args.healthcheck
    budget = check.seconds("start_period") + check.retries * (check.seconds("interval") + check.seconds("timeout"))
    return math.ceil(budget)
