"""`make bench` (benchmarks/bench.py): it renders each size beside the SDK floor (benchmarks/floor.py) and
reports the marginal cost per service, and `--check` fails above 1.2 x the floor or on a cost per service
that grows with the number of services. Only what does not depend on the machine's speed is asserted here."""

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


def test_make_bench_renders_each_size_beside_the_floor_and_reports_the_marginal_cost() -> None:
    # The bench itself exits non-zero when a floor render does not hold the package render's resources.
    result = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "1,3", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    table = [line.split() for line in result.stdout.splitlines()]
    rows = {row[0]: row for row in table if len(row) == 9 and row[0].isdigit()}
    assert set(rows) == {"1", "3"}
    # services, resources, then CPU s, the floor's, the ratio, wall s, the floor's, the ratio, peak MiB: the
    # resources grow by the same count per service (the component and what it registers).
    assert int(rows["3"][1]) - int(rows["1"][1]) == 2 * (int(rows["1"][1]) - 1)
    assert all(float(cell) > 0 for row in rows.values() for cell in row[2:])
    assert "per extra service:" in result.stdout
    assert "over the floor (CPU):" in result.stdout


def _run(bench: ModuleType, services: int, cpu: float) -> object:
    return bench.Run(services=services, cpu=cpu, seconds=cpu, peak_mib=100.0, resources=1 + 13 * services)


def test_the_check_fails_a_cost_per_service_that_grows_and_passes_a_constant_one(bench: ModuleType) -> None:
    def runs(*seconds: float) -> list:
        return [_run(bench, n, s) for n, s in zip((1, 10, 50), seconds, strict=True)]

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


def test_the_check_fails_above_the_limit_over_the_floor_at_one_service_or_per_service(bench: ModuleType) -> None:
    def sizes(first: float, per_service: float) -> list:
        # The floor: 1 s at one service, then 50 ms a service; three repeats alike.
        return [
            bench.Size(
                pairs=((_run(bench, n, first + per_service * (n - 1)), _run(bench, n, 1.0 + 0.05 * (n - 1))),) * 3
            )
            for n in (1, 10, 50)
        ]

    assert bench.above_limit(sizes(1.1, 0.055)) == []
    [first] = bench.above_limit(sizes(1.3, 0.055))
    assert first == "at 1 service: 1.30 x the floor's CPU time, more than 1.2 x"
    [per_service] = bench.above_limit(sizes(1.1, 0.065))
    assert per_service == "per extra service: 1.30 x the floor's CPU time, more than 1.2 x"


def test_a_ratio_is_the_median_of_the_pairs_so_one_burst_moves_it_little(bench: ModuleType) -> None:
    quiet = (_run(bench, 1, 1.1), _run(bench, 1, 1.0))
    burst_on_the_floor = (_run(bench, 1, 1.1), _run(bench, 1, 1.6))
    burst_on_the_package = (_run(bench, 1, 1.8), _run(bench, 1, 1.0))
    size = bench.Size(pairs=(quiet, burst_on_the_floor, quiet, burst_on_the_package, quiet))
    assert size.ratio() == pytest.approx(1.1)


def test_the_floor_registers_each_resource_with_the_class_an_sdk_user_would_call() -> None:
    sys.path.insert(0, str(BENCH.parent))
    try:
        import floor
    finally:
        sys.path.remove(str(BENCH.parent))
    assert floor.sdk_class("kubernetes:apps/v1:Deployment") == "pulumi_kubernetes.apps.v1.Deployment"
    assert floor.sdk_class("kubernetes:core/v1:Secret") == "pulumi_kubernetes.core.v1.Secret"
    assert floor.sdk_class("kubernetes:networking.k8s.io/v1:Ingress") == "pulumi_kubernetes.networking.v1.Ingress"
    assert floor.sdk_class("kubernetes:external-secrets.io/v1:ExternalSecret") == floor.CUSTOM_RESOURCE
    assert floor.sdk_class("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute") == floor.CUSTOM_RESOURCE
    assert floor.sdk_class("random:index/randomPassword:RandomPassword") == "pulumi_random.RandomPassword"


def test_the_engine_bench_compares_each_phase_by_the_median_of_its_pairs_ratios() -> None:
    spec = importlib.util.spec_from_file_location("engine_bench", REPO / "benchmarks" / "engine_bench.py")
    assert spec is not None and spec.loader is not None
    engine_bench = importlib.util.module_from_spec(spec)
    sys.modules["engine_bench"] = engine_bench
    try:
        spec.loader.exec_module(engine_bench)
        timing = engine_bench.Timing
        # preview: 1.1x, 1.3x, 1.15x -> 1.15x; up: 1.5x, 1.0x, 1.0x -> 1.0x (one slow pair is not the verdict).
        pairs = [
            (timing(preview=4.4, up=15.0), timing(preview=4.0, up=10.0)),
            (timing(preview=5.2, up=10.0), timing(preview=4.0, up=10.0)),
            (timing(preview=4.6, up=10.0), timing(preview=4.0, up=10.0)),
        ]
        lines, refused = engine_bench.compare("prod settings", pairs)
        assert refused == []
        assert " ".join(lines[0].split()) == "prod settings preview 4.6s against the floor's 4.0s: 1.15x"
        assert lines[1].endswith(": 1.00x")
        # Above the limit in every pair: refused, by name and phase.
        slow = [(timing(preview=5.0, up=10.0), timing(preview=4.0, up=10.0))] * 3
        assert engine_bench.compare("10 services", slow)[1] == ["10 services preview: 1.25x the floor, above 1.2x"]
    finally:
        del sys.modules["engine_bench"]
