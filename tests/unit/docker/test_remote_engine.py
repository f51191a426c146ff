"""A Docker engine on another machine (`DOCKER_HOST=ssh://...`, `tcp://...`) bind-mounts folders of its own host,
where the pipelines folder does not exist: HayhooksContainer copies the pipelines into a volume for it instead.
The engine's address is read as pulumi-docker reads it: `docker:host`, then DOCKER_HOST, then the local socket."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi_docker as docker
import pytest
from hayhooks_pulumi import HayhooksContainer
from hayhooks_pulumi.pipelines import load_pipelines
from helpers.docker import CONTAINER, FORCE_NEW, PROVIDER_SIDE, build, dev_args, of_type
from helpers.engine import register
from helpers.paths import PIPELINES, REPO
from helpers.render import render

VOLUME = "docker:index/volume:Volume"
PIPELINES_DIR = "/opt/hayhooks/pipelines"
SHORT_CHECKSUM = load_pipelines(PIPELINES).checksum[:8]


@pytest.fixture
def docker_config() -> Iterator[Any]:
    """Sets the stack's `docker:*` config for one test, as `pulumi up` hands it to the program."""

    def set_config(**values: str) -> None:
        pulumi.runtime.set_all_config({f"docker:{key}": value for key, value in values.items()})

    yield set_config
    pulumi.runtime.set_all_config({})


def server(registrations: dict) -> Any:
    return registrations["hh-container"]


def labels(inputs: dict[str, Any]) -> dict[str, str]:
    return {x["label"]: x["value"] for x in inputs["labels"]}


@pytest.mark.parametrize("address", [None, "", "unix:///run/user/1000/docker.sock", "npipe:////./pipe/docker_engine"])
def test_an_engine_on_this_machine_gets_the_folder_bind_mounted(
    address: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if address is not None:  # an empty DOCKER_HOST is unset, for the provider too
        monkeypatch.setenv("DOCKER_HOST", address)
    registrations, _ = build(dev_args())
    assert not [r for r in registrations.values() if r.type == VOLUME]
    assert [r.name for r in registrations.values() if r.type == CONTAINER] == ["hh-container"]
    assert server(registrations).inputs["volumes"] == [
        {"hostPath": PIPELINES, "containerPath": PIPELINES_DIR, "readOnly": True}
    ]


@pytest.mark.parametrize("address", ["ssh://deploy@devbox", "tcp://10.0.0.5:2376", "tcp://127.0.0.1:2375"])
def test_an_engine_elsewhere_gets_the_pipelines_copied_into_a_volume_mounted_read_only(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loopback TCP too: it may be a tunnel to another host, and the copy works on every engine.
    monkeypatch.setenv("DOCKER_HOST", address)
    registrations, _ = build(dev_args())
    volume = of_type(registrations, VOLUME)
    copier = registrations["hh-pipelines-copy"]
    assert volume.inputs["name"] == f"hh-pipelines-{SHORT_CHECKSUM}"
    assert server(registrations).inputs["volumes"] == [
        {"volumeName": volume.inputs["name"], "containerPath": PIPELINES_DIR, "readOnly": True}
    ]
    # The server starts once the files are in the volume.
    assert copier.urn in server(registrations).dependencies
    assert volume.urn in copier.dependencies


def test_the_copy_is_every_pipeline_file_in_a_container_that_never_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "pipelines"
    shutil.copytree(PIPELINES, folder)
    (folder / "greeter" / "weights.bin").write_bytes(b"\x00\xff\xfe")
    monkeypatch.setenv("DOCKER_HOST", "ssh://deploy@devbox")
    registrations, _ = build(dev_args(pipelinesPath=str(folder)))
    copier = registrations["hh-pipelines-copy"].inputs
    files = load_pipelines(folder).files
    copied = {
        u["file"]: u["content"].encode() if "content" in u else base64.b64decode(u["contentBase64"])
        for u in copier["uploads"]
    }
    assert copied == {f"{PIPELINES_DIR}/{path}": content for path, content in files.items()}
    # Text as text, readable in the render; anything else as base64.
    by_file = {u["file"]: set(u) for u in copier["uploads"]}
    assert by_file[f"{PIPELINES_DIR}/greeter/pipeline_wrapper.py"] == {"file", "content"}
    assert by_file[f"{PIPELINES_DIR}/greeter/weights.bin"] == {"file", "contentBase64"}
    # The provider copies at create, before it would start the container; Docker writes into the volume there.
    assert copier["start"] is False and copier["mustRun"] is False
    assert copier["volumes"] == [
        {"volumeName": f"hh-pipelines-{load_pipelines(folder).checksum[:8]}", "containerPath": PIPELINES_DIR}
    ]
    assert copier["name"] == copier["volumes"][0]["volumeName"]
    assert copier["image"] == server(registrations).inputs["image"]
    assert copier["networkMode"] == "none"
    assert copier["capabilities"] == {"drops": ["ALL"]}
    assert copier["user"] == "10001:10001"


def test_new_pipelines_are_a_new_volume_and_a_new_release_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ssh://deploy@devbox")
    folder = tmp_path / "pipelines"
    shutil.copytree(PIPELINES, folder)
    first = of_type(build(dev_args(pipelinesPath=str(folder)))[0], VOLUME).inputs
    (folder / "greeter" / "pipeline_wrapper.py").write_text(
        (folder / "greeter" / "pipeline_wrapper.py").read_text() + "\n"
    )
    changed = of_type(build(dev_args(pipelinesPath=str(folder)))[0], VOLUME).inputs
    bumped = of_type(build(dev_args(pipelinesPath=str(folder), image="deepset/hayhooks:v2.0.2"))[0], VOLUME).inputs
    assert first["name"] != changed["name"]
    # A volume's labels replace it, as a network's do: no image version among them.
    assert bumped == changed
    assert "app.kubernetes.io/version" not in labels(changed)


def test_every_input_of_the_copier_is_one_the_provider_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ssh://deploy@devbox")
    copier = build(dev_args())[0]["hh-pipelines-copy"]
    assert set(copier.inputs) <= FORCE_NEW | PROVIDER_SIDE
    # Same name under a new image: the old copy goes first.
    assert copier.delete_before_replace is True


def test_docker_host_config_comes_before_the_variable(docker_config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ssh://deploy@devbox")
    docker_config(host="unix:///var/run/docker.sock")
    assert not [r for r in build(dev_args())[0].values() if r.type == VOLUME]
    monkeypatch.delenv("DOCKER_HOST")
    docker_config(host="ssh://deploy@devbox")
    assert [r for r in build(dev_args())[0].values() if r.type == VOLUME]


@pytest.mark.parametrize("how", ["config", "variable"])
def test_a_docker_context_is_not_taken_for_this_machine(
    how: str, docker_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A context overrides the host, and its endpoint is in the Docker CLI's files, out of the program's sight.
    if how == "config":
        docker_config(context="devbox")
    else:
        monkeypatch.setenv("DOCKER_CONTEXT", "devbox")
    assert [r for r in build(dev_args())[0].values() if r.type == VOLUME]


def test_a_docker_provider_of_its_own_is_not_taken_for_this_machine() -> None:
    def program() -> None:
        provider = docker.Provider("engine", host="unix:///var/run/docker.sock")
        HayhooksContainer("hh", dev_args(), opts=pulumi.ResourceOptions(providers=[provider]))

    registrations = register(program)
    assert [r for r in registrations.values() if r.type == VOLUME]


def test_the_render_of_dev_against_a_remote_engine_shows_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "ssh://deploy@devbox")
    out = tmp_path / "dev"
    result = render("dev", out)
    assert result.returncode == 0, result.stderr
    files = sorted(p.name for p in (out / "docker").glob("*.yaml"))
    assert files == [
        "container-hayhooks-container.yaml",
        "container-hayhooks-pipelines-copy.yaml",
        "network-hayhooks-network.yaml",
        "remoteimage-hayhooks-image.yaml",
        "volume-hayhooks-pipelines.yaml",
    ]
    records = {r["name"]: r for r in json.loads((out / "resources.json").read_text())}
    volume = records["hayhooks-pipelines"]["inputs"]["name"]
    assert volume == f"hayhooks-pipelines-{load_pipelines(REPO / 'pipelines').checksum[:8]}"
    assert records["hayhooks-container"]["inputs"]["volumes"] == [
        {"containerPath": PIPELINES_DIR, "readOnly": True, "volumeName": volume}
    ]
