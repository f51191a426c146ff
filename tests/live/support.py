"""Helpers of the live tests: the rendered pod's server started as the kubelet would (tests/live/kubelet.py); the
process and HTTP helpers come from helpers.processes."""

from __future__ import annotations

import contextlib
import stat
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


def require_reachable_by_others(path: Path) -> None:
    """The server runs as the pod's unprivileged user: every folder above the venv must let others through."""
    for folder in [path, *path.parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            pytest.fail(
                f"the venv at {path} is out of reach of the pod's unprivileged user: {folder} has mode "
                f"{stat.S_IMODE(folder.stat().st_mode):04o}; clone into a folder others may enter "
                f"(chmod o+x {folder}), and make the venv from /usr/bin/python3, not a Python under /root",
                pytrace=False,
            )


@contextlib.contextmanager
def pod_server(render: Render, name: str) -> Iterator[LiveServer]:
    """Materialise the rendered pod, start its container's command, and wait for it as the kubelet would."""
    require_reachable_by_others(VENV_BIN)
    with scratch_dir(f"hayhooks-pod-{name}-") as root, scratch_dir(f"hayhooks-logs-{name}-") as logs:
        pod = materialise(render, root / "rootfs", VENV_BIN, free_port)
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
