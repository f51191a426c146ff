"""The Docker args' value parsers and pure builders, over many values (no Pulumi runtime)."""

from __future__ import annotations

import ast
import subprocess
import sys
from decimal import Decimal

import pytest
from hayhooks_pulumi import ConfigError
from hayhooks_pulumi.docker.args import HayhooksContainerArgs
from hayhooks_pulumi.docker.container import server_command, tmpfs
from hayhooks_pulumi.docker.healthcheck import duration_seconds, health_command, health_script, wait_timeout_seconds
from hayhooks_pulumi.docker.plan import plan_container
from hayhooks_pulumi.docker.workload import size_mb
from helpers.paths import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

IMAGE = "deepset/hayhooks:v2.1.0@sha256:" + "12" * 32
PIPELINES = str(REPO / "pipelines")


def plan(**overrides):
    return plan_container("hh", {"profile": "development", "image": IMAGE, "pipelinesPath": PIPELINES, **overrides})


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["m", "M", "Mi", "mi"]))
def test_megabytes_are_counted_as_is(number: int, unit: str) -> None:
    assert size_mb(f"{number}{unit}") == number


@given(st.integers(min_value=1, max_value=10**4), st.sampled_from(["g", "G", "Gi"]))
def test_gigabytes_are_1024_megabytes(number: int, unit: str) -> None:
    assert size_mb(f"{number}{unit}") == number * 1024


@given(st.integers(min_value=1, max_value=10**6))
def test_kilobytes_and_bytes_must_make_whole_megabytes(number: int) -> None:
    assert size_mb(f"{number * 1024}k") == number
    assert size_mb(f"{number * 2**20}b") == number
    with pytest.raises(ValueError, match="whole number of MiB"):
        size_mb(f"{number * 1024 + 1}k")


@pytest.mark.parametrize("text", ["", "4", "4 g", "4gb", "-1g", "1.5g", "4t", "4g\n"])
def test_sizes_that_are_not_sizes(text: str) -> None:
    with pytest.raises(ValueError):
        size_mb(text)


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=1000), st.sampled_from(["ms", "s", "m", "h"])),
        min_size=1,
        max_size=4,
    )
)
def test_durations_add_up_their_parts(parts: list[tuple[int, str]]) -> None:
    factor = {"ms": Decimal("0.001"), "s": 1, "m": 60, "h": 3600}
    text = "".join(f"{n}{u}" for n, u in parts)
    assert duration_seconds(text) == sum(n * factor[u] for n, u in parts)


@pytest.mark.parametrize("text", ["", "30", "s", "1d", "1m 30s", "30s\n", "-5s"])
def test_durations_that_are_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        duration_seconds(text)


@given(st.integers(min_value=10000, max_value=2**31 - 1), st.integers(min_value=10000, max_value=2**31 - 1))
def test_any_uid_and_gid_from_10000_are_accepted(uid: int, gid: int) -> None:
    args = HayhooksContainerArgs(user=f"{uid}:{gid}")
    assert (args.uid, args.gid) == (uid, gid)


@given(st.integers(min_value=0, max_value=9999))
def test_a_uid_below_10000_is_refused(uid: int) -> None:
    with pytest.raises(ValidationError, match="below 10000"):
        HayhooksContainerArgs(user=f"{uid}:10001")


@given(st.integers(min_value=1024, max_value=65535), st.integers(min_value=1, max_value=60))
def test_health_script_is_valid_python_for_any_port_and_timeout(port: int, timeout: int) -> None:
    script = health_script(f"http://127.0.0.1:{port}/status", timeout)
    tree = ast.parse(script)
    assert f"'http://127.0.0.1:{port}/status'" in script
    assert any(isinstance(node, ast.Try) for node in ast.walk(tree))


def test_health_command_leaves_time_before_dockers_timeout() -> None:
    assert "timeout=9)" in health_command(plan())[3]
    assert "timeout=1)" in health_command(plan(healthcheck={"timeout": "1s"}))[3]


def test_wait_timeout_covers_a_slow_start() -> None:
    assert wait_timeout_seconds(plan(healthcheck={"startPeriod": "3m", "interval": "10s", "timeout": "5s"})) == (
        180 + 3 * 15
    )


@given(st.floats(min_value=0.01, max_value=64, allow_nan=False))
@settings(deadline=None)  # each example reads the pipelines directory
def test_cpu_workers_are_two_per_cpu_plus_one(cpus: float) -> None:
    workers = plan(workloadType="cpu", resources={"cpus": cpus}, server={"durableMode": False}).workers
    assert workers == int(2 * cpus) + 1
    assert workers >= 1


def test_command_and_tmpfs_follow_the_settings() -> None:
    current = plan(server={"port": 8000}, user="12345:23456")
    assert server_command(current) == ["hayhooks", "run", "--host", "0.0.0.0", "--port", "8000", "--workers", "1"]
    assert "uid=12345,gid=23456" in tmpfs(current)["/home/hayhooks"]


def test_ipv6_any_address_is_accepted_as_the_bind_host() -> None:
    assert plan(server={"host": "::"}).env["HAYHOOKS_HOST"] == "::"


def test_unspecified_ipv6_publish_gives_a_loopback_url() -> None:
    assert plan(publish={"hostIp": "::"}).url == "http://[::1]:1416"


def test_no_image_and_no_output_is_an_error() -> None:
    with pytest.raises(ConfigError, match="image: required"):
        plan_container("hh", {"profile": "development", "pipelinesPath": PIPELINES})


def test_the_models_and_their_checks_load_no_provider_sdk() -> None:
    """The reference, the policy pack and the plugin's schema read the models without pulumi_docker."""
    code = (
        "import sys, hayhooks_pulumi.docker.args, hayhooks_pulumi.docker.plan; "
        "print(sorted(m for m in sys.modules if m.startswith('pulumi_')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
