"""`make render STACK=dev`: the dev stack's Docker resources as reviewers read them, without Docker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hayhooks_pulumi.render.mocks import repo_digest
from helpers.paths import REPO
from helpers.render import Renders, render

CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
COMPONENT = "hayhooks:index:HayhooksContainer"


@pytest.fixture(scope="module")
def dev(stack_render: Renders) -> Path:
    rendered = stack_render("dev")
    assert rendered.result.returncode == 0, rendered.result.stderr
    assert COMPONENT in rendered.result.stdout
    return rendered.out


def records(out: Path) -> dict[str, dict[str, Any]]:
    return {r["type"]: r for r in json.loads((out / "resources.json").read_text())}


def container(out: Path) -> dict[str, Any]:
    return records(out)[CONTAINER]["inputs"]


def envs(out: Path) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in container(out)["envs"])


def test_resources_are_the_component_its_network_image_and_container(dev: Path) -> None:
    found = records(dev)
    assert set(found) == {COMPONENT, NETWORK, REMOTE_IMAGE, CONTAINER}
    assert {found[t]["parent"] for t in (NETWORK, REMOTE_IMAGE, CONTAINER)} == {"hayhooks"}
    assert found[REMOTE_IMAGE]["inputs"]["name"] == "deepset/hayhooks:v2.1.0"
    assert found[NETWORK]["inputs"]["name"] == "hayhooks-network"


def test_docker_folder_has_one_readable_yaml_per_docker_resource(dev: Path) -> None:
    files = sorted(p.name for p in (dev / "docker").glob("*.yaml"))
    assert files == [
        "container-hayhooks-container.yaml",
        "network-hayhooks-network.yaml",
        "remoteimage-hayhooks-image.yaml",
    ]
    spec = yaml.safe_load((dev / "docker" / "container-hayhooks-container.yaml").read_text())
    assert spec["type"] == CONTAINER
    assert spec["inputs"] == container(dev)
    assert list((dev / "manifests").glob("*")) == []


def test_container_inputs_are_camel_case_as_the_provider_receives_them(dev: Path) -> None:
    inputs = container(dev)
    for key in (
        "envs",
        "healthcheck",
        "memory",
        "cpus",
        "readOnly",
        "tmpfs",
        "user",
        "volumes",
        "ports",
        "restart",
        "capabilities",
        "securityOpts",
        "logOpts",
        "networksAdvanced",
        "wait",
    ):
        assert key in inputs, key
    assert inputs["memory"] == 4096
    assert inputs["cpus"] == "2.0"
    assert inputs["readOnly"] is True
    assert inputs["user"] == "10001:10001"
    assert inputs["restart"] == "unless-stopped"
    assert inputs["capabilities"] == {"drops": ["ALL"]}
    assert inputs["securityOpts"] == ["no-new-privileges:true"]
    assert inputs["ports"] == [{"external": 1416, "internal": 1416, "ip": "127.0.0.1", "protocol": "tcp"}]
    assert inputs["volumes"] == [
        {"containerPath": "/opt/hayhooks/pipelines", "hostPath": str(REPO / "pipelines"), "readOnly": True}
    ]
    assert inputs["healthcheck"]["tests"][:3] == ["CMD", "python", "-c"]
    # The container starts from the pulled image's id (the render's stand-in), not from its reference.
    assert inputs["image"].startswith("sha256:")


def test_dev_env_is_what_the_stack_file_says(dev: Path) -> None:
    env = envs(dev)
    assert env["HAYHOOKS_HOST"] == "0.0.0.0"
    assert env["HAYHOOKS_LOG_LEVEL"] == "DEBUG"
    assert env["HAYHOOKS_SHOW_TRACEBACKS"] == "true"
    assert env["HAYHOOKS_DURABLE_MODE"] == "true"
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_ORIGINS"]) == ["http://localhost:3000", "http://127.0.0.1:3000"]
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_METHODS"]) == ["GET", "POST"]
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_HEADERS"]) == ["Content-Type", "Authorization"]
    # The LLM key is optional and not set in the stack file.
    assert "EXAMPLE_LLM_API_KEY" not in env


def test_outputs_name_the_container_url_digest_and_env(dev: Path) -> None:
    outputs = json.loads((dev / "outputs.json").read_text())
    assert outputs["containerName"] == "hayhooks"
    assert outputs["url"] == "http://127.0.0.1:1416"
    # The digest of the image the engine reports pulled (the render's stand-in for the registry's answer).
    assert outputs["imageDigest"] == repo_digest("deepset/hayhooks:v2.1.0").partition("@")[2]
    assert outputs["env"] == envs(dev)


def test_render_is_byte_identical_when_repeated(dev: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert render("dev", again).returncode == 0
    for name in ("resources.json", "outputs.json"):
        assert (again / name).read_bytes() == (dev / name).read_bytes()


def test_a_secret_from_config_is_redacted(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(REPO / "Pulumi.dev.yaml", config)
    with config.open("a") as stack_file:
        stack_file.write("  hayhooks:exampleLlmApiKey:\n    secure: v1:bm90LWEtcmVhbC1jaXBoZXJ0ZXh0\n")
    out = tmp_path / "out"
    result = render("dev", out, config=config)
    assert result.returncode == 0, result.stderr
    # The env list that carries the secret reaches the engine as one secret value.
    assert container(out)["envs"] == "[secret]"
    everything = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "rendered-secret-stand-in" not in everything
    assert "EXAMPLE_LLM_API_KEY" not in json.loads((out / "outputs.json").read_text())["env"]


def test_a_bad_dev_config_names_the_stack_key_and_writes_nothing(tmp_path: Path) -> None:
    config = tmp_path / "Pulumi.dev.yaml"
    text = (REPO / "Pulumi.dev.yaml").read_text().replace("workloadType: io", "workloadType: cpu")
    assert "workloadType: cpu" in text
    config.write_text(text)
    out = tmp_path / "out"
    result = render("dev", out, config=config)
    assert result.returncode == 2
    assert "hayhooks:service.workloadType: 'cpu' runs `hayhooks run --workers <2 x cpus + 1>`" in result.stderr
    assert not out.exists()
