"""Shared test helpers: the repository's paths, the offline render, the SDK mock engine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import hypothesis  # noqa: F401  imported before the mock engine runs: see below
import pulumi
import pytest
from hayhooks_pulumi.render.mocks import RecordingMonitor, Registration, RenderMocks
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

# Debian's Python 3.11.2 can fail to compile a module imported late in the session, after the
# mock engine's threads ran ("AST constructor recursion depth mismatch"); hypothesis' pytest
# plugin imports it at the end otherwise.

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _default_docker_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and the renders it starts) sees pulumi-docker's default engine, the local socket, unless it
    names another: a developer's DOCKER_HOST or DOCKER_CONTEXT would change what HayhooksContainer registers."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)


def render(stack: str, out: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the README's render the way `make render` does, in a fresh interpreter."""
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--stack", stack, "--out", str(out)]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def register(program: Callable[[], object], project: str = "test", stack: str = "test") -> dict[str, Registration]:
    """Run `program` under the SDK mock engine; what each resource received, by resource name."""
    mocks = RenderMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    _sync_await(run_pulumi_func(program))
    return {r.name: r for r in monitor.registrations}
