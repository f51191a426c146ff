"""`make bench` (benchmarks/bench.py): it renders each size and reports the marginal cost per service, and
`--check` fails on a cost per service that grows with the number of services. Only what does not depend on
the machine's speed is asserted here."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest
from helpers.paths import REPO

BENCH = REPO / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    """benchmarks/bench.py imported as a module (it is a script, outside any package)."""
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # its dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["bench"]


def test_make_bench_renders_each_size_and_reports_the_marginal_cost() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "1,3", "--repeat", "1"],
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


def test_the_check_fails_a_cost_per_service_that_grows_and_passes_a_constant_one(bench: ModuleType) -> None:
    def runs(*seconds: float) -> list:
        return [
            bench.Run(services=n, seconds=s, peak_mib=100.0, resources=1 + 12 * n)
            for n, s in zip((1, 10, 50), seconds, strict=True)
        ]

    # A second to start, then 50 ms a service whatever the size: linear.
    assert bench.superlinear(runs(1.0, 1.45, 3.45)) == []
    # Each service costs more the more there are (50 ms, then 250 ms): the square of the services.
    [failure] = bench.superlinear(runs(1.0, 1.45, 11.45))
    assert failure.startswith("10 -> 50 services: 250 ms/service, more than 2 x 50 ms (the 1 -> 10 step)")


def test_the_check_needs_three_sizes() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "1,3", "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "at least three sizes" in result.stderr
