"""The dev stack's container under a real Docker engine: the locally built Hayhooks image (e2e/image.py,
deepset's recipe rebuilt here), pulled by digest from the registry on loopback, run by a dockerd of the test
session's own exactly as the dev stack's render says.

What stands in: pulumi-docker, which cannot be built here; tests/live/pulumi_docker_standin.py maps each
rendered input to the Engine API field the provider sets from it (and refuses one it cannot map). What the
test copy of the dev stack file changes, and why: the image (the local rebuild by digest; no registry can be
reached), the published host port (a free one), the pipelines folder (a copy others may read: the clone may
sit in a folder only root can enter, and the container runs as 10001), and the health check's interval (3s:
Debian's dockerd 20.10 predates `start_interval`, Docker Engine 25, and would wait a whole 30s interval for the
first check).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
import yaml
from docker_engine import DockerEngine
from hayhooks_pulumi.pipelines import load_pipelines
from helpers.paths import REPO
from helpers.processes import free_port
from helpers.render import render
from registry import Registry

from . import pulumi_docker_standin as standin

pytestmark = pytest.mark.live

ALLOWED_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"]
NAME = "hayhooks"
TEST_INTERVAL = "3s"


@dataclass
class Rendered:
    resources: list[dict[str, Any]]
    port: int

    @property
    def container(self) -> dict[str, Any]:
        return next(r for r in self.resources if r["type"] == standin.CONTAINER)["inputs"]


# Outside pytest's own temporary folder, which only root may enter.
PIPELINES_ROOT = Path(tempfile.gettempdir()) / f"hayhooks-dev-{os.getpid()}"


@pytest.fixture(scope="module", autouse=True)
def _remove_readable_pipelines() -> Iterator[None]:
    yield
    shutil.rmtree(PIPELINES_ROOT, ignore_errors=True)


def readable_pipelines(root: Path) -> Path:
    """The repository's pipelines where any user may read them (not under a folder only root may enter)."""
    target = root / "pipelines"
    if not target.exists():
        shutil.copytree(REPO / "pipelines", target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for folder in (root, *(Path(d) for d, _, _ in os.walk(target))):
            folder.chmod(0o755)
    return target


def render_dev(tmp: Path, image: str, port: int, changes: dict[str, Any] | None = None) -> Rendered:
    """The dev stack rendered as `make render STACK=dev` does, from a test copy of its stack file."""
    stack = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    service = stack["config"]["hayhooks:service"]
    service["image"] = image
    service["pipelinesPath"] = str(readable_pipelines(PIPELINES_ROOT))
    service["publish"] = {**service.get("publish", {}), "hostPort": port}
    service.setdefault("healthcheck", {})["interval"] = TEST_INTERVAL
    for path, value in (changes or {}).items():
        *parents, leaf = path.split(".")
        node = service
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    config = tmp / f"Pulumi.dev-{len(list(tmp.glob('Pulumi.*')))}.yaml"
    config.write_text(yaml.safe_dump(stack, sort_keys=False))
    out = tmp / f"render-{config.stem}"
    result = render("dev", out, config)
    assert result.returncode == 0, result.stderr
    return Rendered(json.loads((out / "resources.json").read_text()), port)


def request(port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
    """(status, lower-cased headers, body bytes) from 127.0.0.1:port; any status is returned, never raised."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=data, headers=headers)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


@dataclass
class Running:
    docker: DockerEngine
    rendered: Rendered
    applied: standin.Applied

    @property
    def port(self) -> int:
        return self.rendered.port

    def exec(self, *command: str) -> tuple[int, str]:
        return self.docker.exec(NAME, *command)

    def python(self, code: str) -> tuple[int, str]:
        """Python in the container, as its user: the image's own interpreter (no curl, no shell tools needed)."""
        return self.exec("python", "-c", code)

    def inspect(self) -> dict[str, Any]:
        return dict(self.docker.api("GET", f"/containers/{NAME}/json"))


@pytest.fixture(scope="module")
def dev(
    docker: DockerEngine, registry: Registry, images: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("dev-container")
    image = registry.reference(images[0])
    rendered = render_dev(tmp, image, free_port())
    applied = standin.apply(docker, rendered.resources, image=image)
    print(f"STAND-IN: pulumi-docker (tests/live/pulumi_docker_standin.py) applied the dev render: {applied.steps}")
    try:
        yield Running(docker, rendered, applied)
    finally:
        docker.api("DELETE", f"/containers/{NAME}?force=1&v=1", ok=(404,))


def test_the_health_check_turns_healthy_with_the_image_own_python(dev: Running) -> None:
    state = dev.inspect()["State"]
    assert state["Health"]["Status"] == "healthy"
    [kind, program, *_] = dev.inspect()["Config"]["Healthcheck"]["Test"]
    assert (kind, program) == ("CMD", "python")
    assert dev.exec("sh", "-c", "command -v curl")[0] != 0, "the image has curl: it should not, as deepset's"


def test_status_lists_every_pipeline_and_they_run(dev: Running) -> None:
    status, _, body = request(dev.port, "GET", "/status")
    assert status == 200
    answer = json.loads(body)
    assert sorted(answer["pipelines"]) == sorted(load_pipelines(REPO / "pipelines").names)
    status, _, body = request(dev.port, "POST", "/greeter/run", {"name": "Ada"})
    assert status == 200, body
    assert json.loads(body)["result"]["greeting"] == "Hello, Ada!"
    status, _, body = request(dev.port, "POST", "/qa-prompt/run", {"context": "Sky is blue.", "question": "Sky?"})
    assert status == 200, body


def test_the_root_filesystem_is_read_only_and_the_server_still_writes_where_the_render_says(dev: Running) -> None:
    code, said = dev.python("open('/opt/venv/written', 'w')")
    assert code != 0 and "Read-only file system" in said, said
    env = dict(e.split("=", 1) for e in dev.rendered.container["envs"])
    for folder in ("/tmp", env["HOME"]):
        code, said = dev.python(f"open('{folder}/written', 'w').write('x')")
        assert code == 0, f"{folder}: {said}"


def test_tmpfs_sizes_modes_and_owner_are_the_rendered_ones(dev: Running) -> None:
    for path, options in dev.rendered.container["tmpfs"].items():
        wanted = dict(o.split("=", 1) for o in options.split(",") if "=" in o)
        code, said = dev.python(
            f"import os; s = os.statvfs('{path}'); t = os.stat('{path}'); "
            f"print(s.f_blocks * s.f_frsize, oct(t.st_mode & 0o7777), t.st_uid)"
        )
        assert code == 0, said
        size, mode, uid = said.split()
        assert int(size) == int(wanted["size"].removesuffix("m")) * 2**20, (path, said)
        assert int(mode, 8) == int(wanted["mode"], 8), (path, said)
        if "uid" in wanted:
            assert uid == wanted["uid"], (path, said)


def test_the_pipelines_mount_is_read_only_for_the_container_user(dev: Running) -> None:
    [volume] = dev.rendered.container["volumes"]
    code, said = dev.python(f"open('{volume['containerPath']}/written', 'w')")
    assert code != 0 and ("Read-only file system" in said or "Permission denied" in said), said
    mounts = {m["Destination"]: m for m in dev.inspect()["Mounts"]}
    assert mounts[volume["containerPath"]]["RW"] is False


def test_it_runs_unprivileged_as_rendered(dev: Running) -> None:
    code, said = dev.python("import os; print(os.getuid(), os.getgid(), sorted(os.getgroups()))")
    assert code == 0, said
    uid, gid = dev.rendered.container["user"].split(":")
    assert said.split()[:2] == [uid, gid]
    code, status = dev.exec("cat", "/proc/1/status")
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert int(fields["CapEff"].strip(), 16) == 0 and int(fields["CapPrm"].strip(), 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2", "no seccomp filter: Docker's default profile is not applied"


def test_the_port_answers_on_loopback_and_nowhere_else(dev: Running) -> None:
    bindings = dev.inspect()["HostConfig"]["PortBindings"]
    assert bindings == {"1416/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(dev.port)}]}
    assert request(dev.port, "GET", "/status")[0] == 200
    addresses = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True, check=True).stdout
    others = [line.split()[3].split("/")[0] for line in addresses.splitlines() if " lo " not in line]
    assert others, "no address but loopback to try"
    for address in others:
        with socket.socket() as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, dev.port)) != 0, f"the server answers on {address}:{dev.port}"


def test_code_upload_routes_are_gone_in_durable_mode(dev: Running) -> None:
    assert request(dev.port, "POST", "/deploy_files", {"name": "x", "files": {}})[0] == 404
    assert request(dev.port, "POST", "/undeploy/greeter")[0] == 404


@pytest.mark.parametrize("origin", ALLOWED_ORIGINS)
def test_cors_allows_the_dev_origins(dev: Running, origin: str) -> None:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type",
    }
    status, answer, _ = request(dev.port, "OPTIONS", "/greeter/run", headers=headers)
    assert status == 200
    assert answer["access-control-allow-origin"] == origin
    assert {m.strip() for m in answer["access-control-allow-methods"].split(",")} == {"GET", "POST"}


def test_cors_refuses_other_origins(dev: Running) -> None:
    headers = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    status, answer, _ = request(dev.port, "OPTIONS", "/greeter/run", headers=headers)
    assert status == 400 and "access-control-allow-origin" not in answer


def test_a_changed_health_check_or_tmpfs_replaces_the_container(
    dev: Running, registry: Registry, images: Any, tmp_path: Path
) -> None:
    image = registry.reference(images[0])
    same = render_dev(tmp_path, image, dev.port)
    assert standin.apply(dev.docker, same.resources, image=image).steps == {NAME: "same"}
    before = dev.inspect()["Id"]
    for changes, field in (
        ({"healthcheck.retries": 5}, lambda i: i["Config"]["Healthcheck"]["Retries"] == 5),
        (
            {"healthcheck.retries": 5, "scratch.tmpSize": "512Mi"},
            lambda i: "size=512m" in i["HostConfig"]["Tmpfs"]["/tmp"],
        ),
    ):
        changed = render_dev(tmp_path, image, dev.port, changes)
        applied = standin.apply(dev.docker, changed.resources, image=image)
        assert applied.steps == {NAME: "replaced"}, changes
        now = dev.inspect()
        assert now["Id"] != before and field(now), changes
        assert now["State"]["Health"]["Status"] == "healthy"
        before = now["Id"]
