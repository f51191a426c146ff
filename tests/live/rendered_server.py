"""The real server started with the plain environment a render gives it, on loopback: for the live checks of what
that environment does (tests/live/test_log_colors.py, test_server_memory.py).

The environment is read from the render's `resources.json` (a Kubernetes container's literal `env` entries, or a
Docker container's `envs`), so it is exactly what the pods or the container get; only what a laptop needs changes:
the address and port, the pipelines directory (a copy of the repository's) and `HOME`. Secrets are left out (the
example pipelines run without them).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers.paths import REPO
from helpers.processes import Process, answers, free_port, http, start_process, stop_process, wait_until

HAYHOOKS = Path(sys.executable).parent / "hayhooks"
START_TIMEOUT = 120.0


def kubernetes_env(render_dir: Path) -> dict[str, str]:
    """The literal env of the rendered Deployment's server container."""
    [deployment] = [r for r in _records(render_dir) if r["type"] == "kubernetes:apps/v1:Deployment"]
    [container] = deployment["inputs"]["spec"]["template"]["spec"]["containers"]
    return {entry["name"]: entry["value"] for entry in container["env"] if "value" in entry}


def docker_env(render_dir: Path) -> dict[str, str]:
    """The plain env of the rendered Docker container (its `KEY=VALUE` entries; secret ones are redacted)."""
    [spec] = [r for r in _records(render_dir) if r["type"] == "docker:index/container:Container"]
    return dict(entry.split("=", 1) for entry in spec["inputs"]["envs"] if isinstance(entry, str) and "=" in entry)


def _records(render_dir: Path) -> list[dict]:
    return json.loads((render_dir / "resources.json").read_text())


@dataclass
class Server:
    process: Process
    port: int

    def run(self, pipeline: str, body: dict) -> int:
        return http(self.port, "POST", f"/{pipeline}/run", body).status


@contextlib.contextmanager
def rendered_server(env: dict[str, str], workdir: Path, name: str) -> Iterator[Server]:
    """`hayhooks run` from this venv with `env`, until GET /status answers; stopped by its own id on leaving."""
    pipelines = shutil.copytree(REPO / "pipelines", workdir / "pipelines")
    home = workdir / "home"
    home.mkdir()
    port = free_port()
    local = {"HAYHOOKS_HOST": "127.0.0.1", "HAYHOOKS_PORT": str(port), "HAYHOOKS_PIPELINES_DIR": str(pipelines)}
    environment = {**env, **local, "HOME": str(home), "PATH": f"{HAYHOOKS.parent}:/usr/bin:/bin"}
    argv = [str(HAYHOOKS), "run", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    process = start_process(name, argv, workdir, env=environment, cwd=workdir)
    try:
        wait_until(f"{name}: GET /status", lambda: answers(port, "/status"), START_TIMEOUT, proc=process)
        yield Server(process, port)
    finally:
        stop_process(process)
