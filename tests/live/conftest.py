"""Fixtures of the live tests: the prod render and its config, and one live server per test module."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from docker_engine import DockerEngine, DockerError
from helpers.paths import REPO
from helpers.render import Renders

from .kubelet import Render
from .support import VENV_BIN, LiveServer, pod_bin, pod_server

STACK = "prod"
TIMINGS = pytest.StashKey[list[str]]()


@pytest.fixture(scope="session")
def prod_render(stack_render: Renders) -> Render:
    """The prod stack rendered the way `make render STACK=prod` does (the session's render, shared)."""
    rendered = stack_render(STACK)
    if rendered.result.returncode != 0:
        failure = f"{rendered.result.stdout}\n{rendered.result.stderr}"
        pytest.fail(f"render of stack {STACK} failed:\n{failure}", pytrace=False)
    return Render.load(rendered.out)


@pytest.fixture(scope="session")
def prod_config() -> dict[str, Any]:
    """The prod stack's `<project>:service` settings: what the live server must turn out to do."""
    project = yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"]
    return yaml.safe_load((REPO / f"Pulumi.{STACK}.yaml").read_text())["config"][f"{project}:service"]


@pytest.fixture(scope="session")
def hayhooks_installed() -> None:
    if not (VENV_BIN / "hayhooks").exists():
        pytest.fail(
            f"hayhooks is not installed next to {sys.executable}: "
            "run `make setup` (pip install -r requirements-dev.txt)",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def pod_venv_bin(hayhooks_installed: None) -> Iterator[Path]:
    """Where the emulated pod's user runs hayhooks from (support.pod_bin)."""
    with pod_bin() as bin_dir:
        yield bin_dir


def server_fixture(request: pytest.FixtureRequest, render: Render, bin_dir: Path) -> Iterator[LiveServer]:
    with pod_server(render, request.module.__name__.rsplit(".", 1)[-1], bin_dir) as server:
        request.config.stash.setdefault(TIMINGS, []).append(
            f"{request.module.__name__}: hayhooks answered GET /status {server.startup_seconds:.2f}s after exec "
            f"(startup probe passed at {server.startup_probe_seconds:.2f}s)"
        )
        yield server


@pytest.fixture(scope="module")
def live_server(request: pytest.FixtureRequest, prod_render: Render, pod_venv_bin: Path) -> Iterator[LiveServer]:
    """The prod pod's server, started once per test module."""
    yield from server_fixture(request, prod_render, pod_venv_bin)


@pytest.fixture(scope="session")
def docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    """A Docker engine of the session's own (private socket and folders), stopped with all it ran at the end."""
    engine = DockerEngine(tmp_path_factory.mktemp("docker"))
    try:
        engine.start(dies_with_parent=True)
    except (DockerError, OSError) as error:
        engine.stop()
        pytest.fail(f"the test session's Docker engine did not start: {error}", pytrace=False)
    version = engine.api("GET", "/version")
    print(f"docker: dockerd {version['Version']} (API {version['ApiVersion']}) at {engine.host}")
    try:
        yield engine
    finally:
        engine.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for line in config.stash.get(TIMINGS, []):
        terminalreporter.write_line(f"[live] {line}")
