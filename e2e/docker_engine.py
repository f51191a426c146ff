"""A Docker engine of the test session's own: Debian's dockerd with a private socket, data root, exec root and
pidfile under one folder. Never the user's engine, never a system service: it is started here and stopped
here, with everything it ran, whatever happened.

It changes no host setting: no iptables rules (`--iptables=false`, `--ip-masq=false`), no IP forwarding
(`--ip-forward=false`), no default bridge (`--bridge=none`). A user-defined network is a bridge of its own
that goes with the network; a port published on 127.0.0.1 is served by Docker's userland proxy on loopback.
`DockerEngine.api` speaks the Engine API over the socket. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPResponse
from pathlib import Path
from typing import Any

from lifetime import launched

START_TIMEOUT = 60.0
API_VERSION = "v1.41"  # dockerd 20.10's


class DockerError(RuntimeError):
    pass


class _UnixConnection(HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        self.sock = sock


@dataclass
class DockerEngine:
    root: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        """DOCKER_HOST for a client of this engine."""
        return f"unix://{self.socket}"

    def start(self, dies_with_parent: bool = False) -> None:
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise DockerError("dockerd is missing: apt-get install docker.io (make test installs it as root)")
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "daemon.json").write_text("{}")  # never the host's /etc/docker/daemon.json
        command = [
            dockerd,
            f"--host={self.host}",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'docker.pid'}",
            f"--config-file={self.root / 'daemon.json'}",
            "--storage-driver=overlay2",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--bridge=none",
            "--log-level=warn",
        ]
        with (self.root / "dockerd.log").open("ab") as log:
            self.proc = subprocess.Popen(
                launched(command, dies_with_parent=dies_with_parent),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise DockerError(f"dockerd exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.api("GET", "/_ping", raw=True) == b"OK":
                    return
            if time.monotonic() > deadline:
                raise DockerError(f"dockerd did not answer in {START_TIMEOUT:.0f} s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, chars: int = 3000) -> str:
        path = self.root / "dockerd.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def _response(self, method: str, path: str, body: Any = None, timeout: float = 300) -> tuple[HTTPResponse, bytes]:
        connection = _UnixConnection(self.socket, timeout)
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        try:
            connection.request(method, f"/{API_VERSION}{path}", body=data, headers=headers)
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def api(self, method: str, path: str, body: Any = None, *, raw: bool = False, ok: tuple[int, ...] = ()) -> Any:
        """One Engine API call; an error answer raises with the engine's message (unless its status is in `ok`)."""
        response, data = self._response(method, path, body)
        if response.status >= 400 and response.status not in ok:
            raise DockerError(f"{method} {path}: {response.status} {data.decode(errors='replace')[:500]}")
        if raw:
            return data
        if not data:
            return None
        text = data.decode()
        try:
            return json.loads(text)
        except json.JSONDecodeError:  # a stream of JSON lines (pull, push)
            return [json.loads(line) for line in text.splitlines() if line.strip()]

    def pull(self, reference: str) -> dict[str, Any]:
        """Pull by reference (a digest reference is pulled by digest); the image as the engine inspects it."""
        name, _, digest = reference.partition("@")
        query = urllib.parse.urlencode({"fromImage": name, "tag": digest or "latest"})
        messages = self.api("POST", f"/images/create?{query}") or []
        errors = [m["error"] for m in messages if isinstance(m, dict) and m.get("error")]
        if errors:
            raise DockerError(f"pull of {reference} failed: {errors}")
        return dict(self.api("GET", f"/images/{urllib.parse.quote(reference, safe='')}/json"))

    def containers(self) -> list[dict[str, Any]]:
        return list(self.api("GET", "/containers/json?all=1"))

    def exec(self, container: str, *command: str, user: str = "") -> tuple[int, str]:
        """Run a command in a running container (as its user unless given): (exit code, stdout and stderr)."""
        body = {"Cmd": list(command), "AttachStdout": True, "AttachStderr": True, "User": user}
        created = self.api("POST", f"/containers/{container}/exec", body)
        stream = self.api("POST", f"/exec/{created['Id']}/start", {"Detach": False, "Tty": False}, raw=True)
        output, offset = b"", 0
        while offset + 8 <= len(stream):  # the multiplexed stream: 8-byte frame headers
            size = int.from_bytes(stream[offset + 4 : offset + 8], "big")
            output += stream[offset + 8 : offset + 8 + size]
            offset += 8 + size
        code = self.api("GET", f"/exec/{created['Id']}/json")["ExitCode"]
        return int(code), output.decode(errors="replace")

    def stop(self) -> None:
        """Remove what it ran (containers, networks, volumes), stop dockerd, remove its folder."""
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                for container in self.containers():
                    self.api("DELETE", f"/containers/{container['Id']}?force=1&v=1", ok=(404,))
                for network in self.api("GET", "/networks"):
                    if network["Name"] not in ("none", "host", "bridge"):
                        self.api("DELETE", f"/networks/{network['Id']}", ok=(404,))
                self.api("POST", "/volumes/prune", ok=(404,))
        except (DockerError, OSError):
            pass
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.proc = None
            _unmount_below(self.root)
            shutil.rmtree(self.root, ignore_errors=True)


def _unmount_below(root: Path) -> None:
    """Whatever dockerd left mounted under its folder (overlay mounts, its exec root), deepest first."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    below = sorted((m for m in mounts if m == str(root) or m.startswith(f"{root}/")), key=len, reverse=True)
    for mount in below:
        subprocess.run(["umount", "-l", mount], check=False, capture_output=True)


@contextlib.contextmanager
def running(root: Path, dies_with_parent: bool = False) -> Iterator[DockerEngine]:
    engine = DockerEngine(root)
    try:
        engine.start(dies_with_parent)
        yield engine
    finally:
        engine.stop()
