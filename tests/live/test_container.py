"""The dev container's server for real: Hayhooks 2.1.0 started with exactly the rendered container env.

What stands in for Docker: the repository's venv for the image's (`/opt/venv`), a read-only copy of
`pipelines/` for the read-only bind mount, a private directory for the `HOME` tmpfs, and the rendered
`user` (when the tests run as root). Only what cannot be the same on loopback is changed: the bind
address (`HAYHOOKS_HOST=127.0.0.1`, a free port) and the paths of the mount and of `HOME`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
from hayhooks_pulumi.pipelines import load_pipelines
from helpers.paths import REPO
from helpers.render import Renders

from .support import free_port, scratch_dir

pytestmark = pytest.mark.live

VENV_BIN = Path(sys.executable).parent
CONTAINER = "docker:index/container:Container"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
ALLOWED_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"]


@dataclass(frozen=True)
class Rendered:
    env: dict[str, str]
    command: list[str]
    user: str
    health_test: list[str]
    container_port: int


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@pytest.fixture(scope="module")
def rendered(stack_render: Renders) -> Rendered:
    """The dev stack rendered as `make render STACK=dev` does; the container's inputs from resources.json."""
    if not (VENV_BIN / "hayhooks").exists():
        pytest.fail(f"hayhooks is not installed next to {sys.executable}: run `make setup`", pytrace=False)
    dev = stack_render("dev")
    out, result = dev.out, dev.result
    assert result.returncode == 0, result.stderr
    records = {r["type"]: r for r in json.loads((out / "resources.json").read_text())}
    inputs = records[CONTAINER]["inputs"]
    assert isinstance(inputs["envs"], list), "the dev stack's env must render in the clear (no secret set)"
    return Rendered(
        env=dict(entry.split("=", 1) for entry in inputs["envs"]),
        command=inputs["command"],
        user=inputs["user"],
        health_test=inputs["healthcheck"]["tests"],
        container_port=inputs["ports"][0]["internal"],
    )


def request(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
    """(status, lower-cased headers, body bytes); any status is returned, never raised."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    connection = HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=data, headers=headers)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


def _answers(port: int) -> bool:
    try:
        return request(port, "GET", "/status")[0] == 200
    except OSError:
        return False


def _read_only_copy(source: Path, target: Path) -> Path:
    """The bind mount: readable by anyone, writable by nobody but root."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for directory, _, files in os.walk(target):
        for name in files:
            os.chmod(Path(directory) / name, 0o444)
        os.chmod(directory, 0o555)
    return target


@contextlib.contextmanager
def container_server(rendered: Rendered) -> Iterator[Server]:
    """Start `hayhooks run` as the container would, wait (bounded) for /status, stop it by pid afterwards."""
    uid, gid = (int(part) for part in rendered.user.split(":"))
    as_root = os.geteuid() == 0
    # 0755, not pytest's 0700 tmp_path: the server runs as the rendered (unprivileged) user.
    with scratch_dir("hayhooks-docker-live-") as root:
        pipelines = _read_only_copy(REPO / "pipelines", root / "pipelines")
        home = root / "home"
        home.mkdir(mode=0o700)
        if as_root:
            os.chown(home, uid, gid)
        port = free_port()
        env = {
            **rendered.env,
            "HAYHOOKS_HOST": "127.0.0.1",
            "HAYHOOKS_PORT": str(port),
            "HAYHOOKS_PIPELINES_DIR": str(pipelines),
            "HOME": str(home),
            # What the image brings: its venv first on PATH.
            "PATH": f"{VENV_BIN}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        }
        argv = [str(VENV_BIN / "hayhooks"), *rendered.command[1:]]
        argv[argv.index("--host") + 1] = "127.0.0.1"
        argv[argv.index("--port") + 1] = str(port)
        user = {"user": uid, "group": gid, "extra_groups": []} if as_root else {}
        log = root / "server.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                argv,
                env=env,
                cwd=home,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **user,
            )
        server = Server(port, process, log)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _answers(port):
                if process.poll() is not None:
                    pytest.fail(f"hayhooks exited with {process.returncode}:\n{server.tail()}", pytrace=False)
                if time.monotonic() > deadline:
                    pytest.fail(f"hayhooks did not answer within {START_TIMEOUT:.0f}s:\n{server.tail()}", pytrace=False)
                time.sleep(0.1)
            yield server
        finally:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the pid, a bounded wait for the server's drain, then SIGKILL to the same pid."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(rendered: Rendered) -> Iterator[Server]:
    with container_server(rendered) as running:
        yield running


def run_health_check(rendered: Rendered, port: int) -> subprocess.CompletedProcess[str]:
    """The rendered health check command as Docker runs it (`CMD python -c ...`), with the venv's Python
    for the image's and the live port for the container's."""
    kind, program, *arguments = rendered.health_test
    assert (kind, program) == ("CMD", "python")
    url = f"127.0.0.1:{rendered.container_port}/status"
    assert any(url in argument for argument in arguments)
    arguments = [a.replace(url, f"127.0.0.1:{port}/status") for a in arguments]
    return subprocess.run(
        [str(VENV_BIN / "python"), *arguments], capture_output=True, text=True, timeout=30, check=False
    )


# --------------------------------------------------------------------------------------------


def test_status_lists_every_pipeline(server: Server) -> None:
    status, _, body = request(server.port, "GET", "/status")
    assert status == 200
    answer = json.loads(body)
    assert sorted(answer["pipelines"]) == sorted(load_pipelines(REPO / "pipelines").names)
    assert answer["durable_mode"] is True


def test_every_pipeline_reports_ready(server: Server) -> None:
    for name in load_pipelines(REPO / "pipelines").names:
        assert request(server.port, "GET", f"/status/{name}")[0] == 200, name
    assert request(server.port, "GET", "/status/no-such-pipeline")[0] == 404


def test_greeter_runs(server: Server) -> None:
    status, _, body = request(server.port, "POST", "/greeter/run", {"name": "Ada"})
    assert status == 200, body
    result = json.loads(body)["result"]
    assert result["greeting"] == "Hello, Ada!"
    # The optional key is not set in the dev stack file.
    assert result["llm_key_configured"] is False


def test_yaml_pipeline_runs_from_the_read_only_mount(server: Server) -> None:
    status, _, body = request(server.port, "POST", "/qa-prompt/run", {"context": "Sky is blue.", "question": "Sky?"})
    assert status == 200, body
    assert "Question: Sky?" in json.dumps(json.loads(body))


def test_code_upload_routes_are_gone_in_durable_mode(server: Server) -> None:
    assert request(server.port, "POST", "/deploy_files", {"name": "x", "files": {}})[0] == 404
    assert request(server.port, "POST", "/undeploy/greeter")[0] == 404


@pytest.mark.parametrize("origin", ALLOWED_ORIGINS)
def test_cors_preflight_allows_the_dev_origins(server: Server, origin: str) -> None:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, Authorization",
    }
    status, answer, _ = request(server.port, "OPTIONS", "/greeter/run", headers=headers)
    assert status == 200
    assert answer["access-control-allow-origin"] == origin
    assert {m.strip() for m in answer["access-control-allow-methods"].split(",")} == {"GET", "POST"}
    assert {"content-type", "authorization"} <= {
        h.strip().lower() for h in answer["access-control-allow-headers"].split(",")
    }
    # A simple request from that origin carries the header too.
    _, simple, _ = request(server.port, "GET", "/status", headers={"Origin": origin})
    assert simple["access-control-allow-origin"] == origin


def test_cors_preflight_refuses_other_origins(server: Server) -> None:
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    status, answer, _ = request(server.port, "OPTIONS", "/greeter/run", headers=headers)
    assert status == 400
    assert "access-control-allow-origin" not in answer
    _, simple, _ = request(server.port, "GET", "/status", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in simple


def test_preflight_for_a_method_not_listed_is_refused(server: Server) -> None:
    headers = {"Origin": ALLOWED_ORIGINS[0], "Access-Control-Request-Method": "DELETE"}
    assert request(server.port, "OPTIONS", "/greeter/run", headers=headers)[0] == 400


def test_health_check_command_passes_while_up_and_fails_once_stopped(rendered: Rendered) -> None:
    # A server of its own: this test stops it.
    with container_server(rendered) as own:
        healthy = run_health_check(rendered, own.port)
        assert healthy.returncode == 0, healthy.stderr
        stop(own.process)
        assert own.process.returncode is not None
        unhealthy = run_health_check(rendered, own.port)
    assert unhealthy.returncode == 1
    assert "unhealthy:" in unhealthy.stderr
