"""Many services per stack: registration grows linearly, and `make bench` measures it.

The thresholds are loose on purpose (a loaded CI machine must not fail them): they catch work
that grows with the square of the services, not a few milliseconds. `make bench` has the figures.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pulumi
from hayhooks_pulumi import HayhooksService
from helpers.engine import register
from helpers.paths import REPO

IMAGE = "deepset/hayhooks:v2.1.0@sha256:" + "ab" * 32


def service_args(index: int) -> dict[str, Any]:
    """Every feature on, so each service registers all it can."""
    return {
        "image": IMAGE,
        "namespace": {"name": "bench", "create": index == 0},
        "pipelinesPath": str(REPO / "pipelines"),
        "server": {"cors": {"allowOrigins": ["https://app.example.com"]}},
        "ingress": {"host": f"svc{index}.example.com", "tlsSecretName": f"svc{index}-tls"},
        "secretStore": {"name": "vault"},
        "secrets": {
            "LLM_API_KEY": {"fromStore": {"remoteKey": f"bench/svc{index}"}},
            "WEBHOOK_TOKEN": {"fromConfig": "webhookToken"},
        },
        "autoscaling": {"enabled": True},
    }


def services(count: int) -> Callable[[], None]:
    def program() -> None:
        for index in range(count):
            HayhooksService(
                f"svc{index}",
                service_args(index),
                secret_values={"WEBHOOK_TOKEN": pulumi.Output.secret("token")},
            )

    return program


def fastest(count: int, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        register(services(count))
        best = min(best, time.perf_counter() - start)
    return best


def test_each_service_adds_the_same_resources() -> None:
    one, ten = len(register(services(1))), len(register(services(10)))
    per_service = one - 1  # the namespace comes once
    assert ten == 10 * per_service + 1


def test_registration_time_is_linear_in_the_number_of_services() -> None:
    register(services(1))  # lazy imports of the provider SDKs happen once, not per service
    one, ten = fastest(1), fastest(10)
    assert ten < 10 * one + 0.5, f"1 service: {one:.3f} s, 10 services: {ten:.3f} s"
    assert (ten - one) / 9 < 0.15, f"{(ten - one) / 9 * 1000:.0f} ms per extra service"


def test_make_bench_renders_each_size_and_reports_the_marginal_cost() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--sizes", "1,3", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    table = [line.split() for line in result.stdout.splitlines()]
    rows = {row[0]: row for row in table if len(row) == 5 and row[0].isdigit()}
    assert set(rows) == {"1", "3"}
    # services, resources, wall s, peak MiB, s/service: the resources grow by the same count per service.
    assert int(rows["3"][1]) - int(rows["1"][1]) == 2 * (int(rows["1"][1]) - 1)
    assert all(float(row[2]) > 0 and float(row[3]) > 0 for row in rows.values())
    assert "marginal cost per extra service:" in result.stdout
