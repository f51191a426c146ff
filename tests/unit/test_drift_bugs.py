"""Bugs from facts kept in two places (issue 13): each refused before anything registers, with one rule."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from hayhooks_pulumi import ConfigError, HayhooksService
from hayhooks_pulumi.types import absolute_path
from helpers.engine import register
from helpers.paths import REPO

IMAGE = "deepset/hayhooks:v2.1.0@sha256:" + "ab" * 32


def config(**overrides: Any) -> dict[str, Any]:
    return {
        "profile": "production",
        "image": IMAGE,
        "pipelinesPath": str(REPO / "pipelines"),
        "server": {"cors": {"allowOrigins": ["https://app.example.com"], "allowMethods": ["GET", "POST"]}},
        "ingress": {"host": "hayhooks.example.com", "tlsSecretName": "tls"},
    } | overrides


def refusal(args: dict[str, Any]) -> tuple[str, list[str]]:
    """The refusal's text and whether anything registered."""
    registered: list[str] = []
    with pytest.raises(ConfigError) as refused:
        registered.extend(register(lambda: HayhooksService("hh", args)))
    return str(refused.value), registered


def test_colliding_configmap_keys_are_refused_before_anything_registers(tmp_path: Path) -> None:
    pipelines = shutil.copytree(REPO / "pipelines", tmp_path / "pipelines")
    # A file inside the wrapper directory `greeter`, and a YAML pipeline whose name spells the same key.
    (pipelines / "greeter" / "qa.yml").write_text("# a file the wrapper reads\n")
    (pipelines / "greeter--qa.yml").write_text((pipelines / "qa-prompt.yml").read_text())
    message, registered = refusal(config(pipelinesPath=str(pipelines)))
    assert "greeter--qa.yml and greeter/qa.yml would both be the ConfigMap key 'greeter--qa.yml'" in message
    assert "pipelinesPath" in message and registered == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ingress", {"host": "hayhooks.example.com\n", "tlsSecretName": "tls"}),
        ("secretStore", {"name": "v", "refreshInterval": "1h\n"}),
    ],
)
def test_a_trailing_newline_is_not_a_host_name_or_a_duration(key: str, value: dict[str, Any]) -> None:
    message, registered = refusal(config(**{key: value}))
    assert key in message and registered == []


def test_an_ingress_host_follows_the_gateway_hostname_rule_of_253_characters() -> None:
    host = ("a" * 60 + ".") * 4 + "example.com"  # 255 characters: the API server would refuse it at apply
    message, registered = refusal(config(ingress={"host": host, "tlsSecretName": "tls"}))
    assert "ingress.host" in message and "is not a host name" in message and registered == []


@pytest.mark.parametrize("path", ["/opt/../tmp", "/opt/./x", "/opt//x", "opt/x", "/", "//"])
def test_one_rule_for_absolute_paths(path: str) -> None:
    with pytest.raises(ValueError, match="absolute path other than /"):
        absolute_path(path, "/x")
    for model_key in ({"server": {**config()["server"], "pipelinesDir": path}}, {"cache": {"mountPath": path}}):
        message, registered = refusal(config(**model_key))
        assert "absolute path other than /" in message and registered == []


def test_a_normal_absolute_path_passes_without_its_trailing_slash() -> None:
    assert absolute_path("/opt/hayhooks/pipelines/", "/x") == "/opt/hayhooks/pipelines"
