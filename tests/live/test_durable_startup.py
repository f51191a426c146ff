"""The real server on what `durable_problems` refuses: Hayhooks 2.1.0 in durable mode exits at start-up on each
case, and starts on the same directory without it, so the refusals mirror the server rather than a guess.

Each server gets the environment the components render (`server_env`), a free loopback port and its own
pipelines directory; every wait is bounded and every process is stopped by its own id.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hayhooks_pulumi.pipelines import durable_problems, load_pipelines
from hayhooks_pulumi.server.env import server_env
from hayhooks_pulumi.server.models import ServerSettings
from helpers.paths import REPO
from helpers.processes import answers, free_port

pytestmark = pytest.mark.live

HAYHOOKS = Path(sys.executable).parent / "hayhooks"
TIMEOUT = 90.0
GOOD = (REPO / "pipelines" / "qa-prompt.yml").read_bytes()
NO_IO = b"components: {}\nconnections: []\n"
CASES = {
    # case: (extra file, what the server prints)
    "no-io": ("ask.yml", NO_IO, "YAML pipeline must declare at least one of 'inputs' or 'outputs'"),
    "status": ("status.yml", GOOD, "conflict with server routes"),
    "draw": ("draw.yml", GOOD, "conflict with server routes"),
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator:
    started: list[subprocess.Popen] = []

    def start(pipelines: Path, port: int, log: Path) -> subprocess.Popen:
        settings = ServerSettings(host="127.0.0.1", port=port, pipelines_dir=str(pipelines), durable_mode=True)
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **server_env(settings)}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(HAYHOOKS), "run", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _pipelines(root: Path, extra: tuple[str, bytes] | None) -> Path:
    root.mkdir()
    shutil.copy(REPO / "pipelines" / "qa-prompt.yml", root / "qa-prompt.yml")
    if extra is not None:
        (root / extra[0]).write_bytes(extra[1])
    return root


def test_the_server_exits_on_each_refused_case_and_starts_without_it(server, tmp_path: Path) -> None:
    runs = {}
    for case, (file, content, _) in CASES.items():
        root = _pipelines(tmp_path / case, (file, content))
        assert durable_problems(load_pipelines(root)), f"{case}: not refused by the components"
        log = tmp_path / f"{case}.log"
        runs[case] = (server(root, free_port(), log), log)
    control_root = _pipelines(tmp_path / "control", None)
    assert durable_problems(load_pipelines(control_root)) == []
    control_port = free_port()
    control = server(control_root, control_port, tmp_path / "control.log")

    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and any(p.poll() is None for p, _ in runs.values()):
        time.sleep(0.2)
    for case, (process, log) in runs.items():
        output = log.read_text(errors="replace")
        assert process.poll() is not None, f"{case}: still running after {TIMEOUT:.0f}s\n{output[-2000:]}"
        assert process.returncode != 0, f"{case}: exited 0\n{output[-2000:]}"
        assert CASES[case][2] in output, f"{case}:\n{output[-2000:]}"

    while time.monotonic() < deadline and control.poll() is None and not answers(control_port, "/status/qa-prompt"):
        time.sleep(0.2)
    output = (tmp_path / "control.log").read_text(errors="replace")
    assert answers(control_port, "/status/qa-prompt"), f"the control server did not serve qa-prompt\n{output[-2000:]}"
