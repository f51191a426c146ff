"""Helpers of the live tests: the rendered pod's server started as the kubelet would (tests/live/kubelet.py); the
process and HTTP helpers come from helpers.processes."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.processes import (
    Process,
    Response,
    answers,
    free_port,
    http,
    scratch_dir,
    start_process,
    stop_process,
    wait_until,
)

from .kubelet import Pod, Render, materialise, run_probe

# The interpreter running the tests is the repository's venv: the image's venv stands in for it.
VENV_BIN = Path(sys.executable).parent
STOP_TIMEOUT = 30.0


# ---------------------------------------------------------------------------------------------------------------
# The live server


@dataclass
class LiveServer:
    pod: Pod
    process: Process
    startup_seconds: float  # from exec to the first 200 on GET /status
    startup_probe_seconds: float  # from exec to the first success of the startup probe as written

    @property
    def port(self) -> int:
        return self.pod.http_port

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        return http(self.port, method, path, body, headers)


def startup_budget(probe: dict[str, Any]) -> float:
    """How long the kubelet lets the startup probe fail before it kills the container."""
    return probe.get("initialDelaySeconds", 0) + probe.get("failureThreshold", 3) * probe.get("periodSeconds", 10)


def reachable_by_others(path: Path) -> bool:
    """Whether every folder from `path` up lets a user other than the owner through."""
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in [path, *path.parents])


@contextlib.contextmanager
def pod_bin() -> Iterator[Path]:
    """The venv bin folder the emulated pod's unprivileged user runs hayhooks from, as the image's venv would be.

    The repository's venv where every folder above it lets others through; else (a clone under `mktemp -d`'s 0700
    folder, as CI makes it) a venv of the same hayhooks release made now in a 0755 scratch folder, from the
    interpreter the repository's venv was made from and pip's cache, and removed after."""
    if reachable_by_others(VENV_BIN):
        yield VENV_BIN
        return
    base = Path(os.path.realpath(VENV_BIN / "python"))
    if not reachable_by_others(base):
        pytest.fail(
            f"the pod's unprivileged user can reach neither the venv at {VENV_BIN} nor its interpreter {base}: make "
            "the venv from /usr/bin/python3 (as `make setup` does where it exists), not a Python under /root",
            pytrace=False,
        )
    release = importlib.metadata.version("hayhooks")
    with scratch_dir("hayhooks-pod-venv-") as root:
        venv = root / "venv"
        started = time.monotonic()
        for command in (
            [str(base), "-m", "venv", str(venv)],
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"hayhooks=={release}",
            ],
        ):
            made = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
            if made.returncode != 0:
                pytest.fail(f"the pod's venv ({' '.join(command)}) failed:\n{made.stderr[-2000:]}", pytrace=False)
        print(
            f"live: {VENV_BIN} is out of reach of the pod's user; hayhooks {release} installed for it in {venv} "
            f"({time.monotonic() - started:.0f} s)"
        )
        yield venv / "bin"


@contextlib.contextmanager
def pod_server(render: Render, name: str, bin_dir: Path) -> Iterator[LiveServer]:
    """Materialise the rendered pod, start its container's command, and wait for it as the kubelet would."""
    with scratch_dir(f"hayhooks-pod-{name}-") as root, scratch_dir(f"hayhooks-logs-{name}-") as logs:
        pod = materialise(render, root / "rootfs", bin_dir, free_port)
        started = time.monotonic()
        process = start_process(name, pod.argv, logs, **pod.popen_kwargs())
        try:
            probe = pod.container.get("startupProbe") or pod.container.get("readinessProbe")
            if probe is None:
                pytest.fail("the container has neither a startup nor a readiness probe", pytrace=False)
            budget = startup_budget(probe)
            wait_until("GET /status", lambda: answers(pod.http_port, "/status"), budget, proc=process)
            status_seconds = time.monotonic() - started
            wait_until("startup probe", lambda: run_probe(pod, probe).ok, budget - status_seconds, proc=process)
            yield LiveServer(pod, process, status_seconds, time.monotonic() - started)
        finally:
            stop_process(process)
