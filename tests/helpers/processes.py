"""Processes and loopback HTTP for the tests that run real programs (live and end-to-end): free loopback ports,
bounded waits, processes stopped by their own pid.

Every wait is bounded, every process started here is stopped in a `finally` by its process id (and its own
process group, whose id is that pid), and every port is a free loopback port.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest

STOP_TIMEOUT = 30.0


def free_port() -> int:
    """A loopback port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(what: str, check: Callable[[], bool], timeout: float, interval: float = 0.05, proc=None) -> float:
    """Poll `check` until true; fail after `timeout` seconds or when `proc` exits. Returns the seconds waited."""
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: process {proc.pid} exited with {proc.returncode}\n{proc.tail()}", pytrace=False)
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: not within {timeout:.0f}s" + (f"\n{proc.tail()}" if proc else ""), pytrace=False)
        time.sleep(interval)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


def http(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> Response:
    """One request to 127.0.0.1:port; any status is returned, never raised."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    connection = HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def answers(port: int, path: str) -> bool:
    try:
        return http(port, "GET", path, timeout=2).status == 200
    except OSError:
        return False


@dataclass
class Process:
    """A process this test session started; its output goes to files so a full pipe never blocks it."""

    name: str
    popen: subprocess.Popen
    stdout: Path
    stderr: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def poll(self) -> int | None:
        return self.popen.poll()

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")

    def tail(self, chars: int = 3000) -> str:
        return f"--- {self.name} output (last {chars} chars) ---\n{self.output()[-chars:]}"


def start_process(name: str, argv: list[str], log_dir: Path, **kwargs: Any) -> Process:
    """Start `argv` in its own session (so its pid is also its process group id)."""
    stdout, stderr = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        popen = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True, **kwargs
        )
    return Process(name, popen, stdout, stderr)


def stop_process(process: Process, timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM to the pid, bounded wait, then SIGKILL; then clear whatever is left of its own process group."""
    try:
        if process.popen.poll() is None:
            process.popen.send_signal(signal.SIGTERM)
            try:
                process.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    return process.popen.returncode


def require_program(program: str, install_hint: str, extra_path: str = "") -> str:
    """The program's path; a missing program FAILS the test with what to install (never a skip)."""
    found = shutil.which(program, path=os.pathsep.join(filter(None, [os.environ.get("PATH", ""), extra_path])))
    if found is None:
        pytest.fail(f"{program} not found: {install_hint}", pytrace=False)
    return found


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A root-owned 0755 directory (tmp_path is 0700 under /tmp/pytest-of-root: unreadable by the server user)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    os.chmod(path, 0o755)
    try:
        yield path
    finally:
        # Read-only trees (ConfigMap volumes) need their write bits back before removal.
        for directory, _, _ in os.walk(path):
            with contextlib.suppress(OSError):
                os.chmod(directory, 0o755)
        shutil.rmtree(path, ignore_errors=True)
