"""Unknown `hayhooks:*` keys in a stack file are refused: a typo such as `hayhooks:targte` or a setting put at
the top level (`hayhooks:replicas`) would otherwise be ignored silently. Rendered as `make render` does."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
import yaml
from hayhooks_pulumi.errors import ConfigError
from hayhooks_pulumi.stack_config import load_stack_config
from helpers.paths import REPO
from helpers.render import render


def _stack(tmp_path: Path, stack: str, extra: dict) -> Path:
    document = yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())
    document["config"].update(extra)
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_unknown_top_level_keys_are_refused_naming_each(tmp_path: Path) -> None:
    config = _stack(tmp_path, "prod", {"hayhooks:targte": "docker", "hayhooks:replicas": 5})
    result = render("prod", tmp_path / "out", config)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line.strip() for line in result.stderr.splitlines()]
    assert any(line.startswith("hayhooks:replicas: unknown key") for line in lines), result.stderr
    assert any(line.startswith("hayhooks:targte: unknown key") for line in lines), result.stderr
    assert "hayhooks:target, hayhooks:service and the keys its `fromConfig` sources name" in result.stderr
    assert not (tmp_path / "out").exists()


def test_keys_named_by_from_config_and_other_namespaces_are_fine(tmp_path: Path) -> None:
    # The dev stack's EXAMPLE_LLM_API_KEY reads hayhooks:exampleLlmApiKey; other namespaces are not ours.
    config = _stack(
        tmp_path, "dev", {"hayhooks:exampleLlmApiKey": {"secure": "v1:c2VjcmV0"}, "docker:host": "unix:///x.sock"}
    )
    result = render("dev", tmp_path / "out", config)
    assert result.returncode == 0, result.stderr


def test_an_oidc_client_secret_from_config_is_a_known_key(tmp_path: Path) -> None:
    example = yaml.safe_load((REPO / "examples" / "gateway-envoy-oidc.yaml").read_text())
    example["config"]["hayhooks:service"]["gateway"]["auth"]["oidc"]["clientSecret"] = {"fromConfig": "oidcSecret"}
    example["config"]["hayhooks:oidcSecret"] = {"secure": "v1:c2VjcmV0"}
    path = tmp_path / "oidc.yaml"
    path.write_text(yaml.safe_dump(example))
    result = render("oidc", tmp_path / "out", path)
    assert result.returncode == 0, result.stderr
    example["config"]["hayhooks:oidcSecrte"] = example["config"].pop("hayhooks:oidcSecret")
    path.write_text(yaml.safe_dump(example))
    result = render("oidc", tmp_path / "out2", path)
    assert result.returncode == 2 and "hayhooks:oidcSecrte: unknown key" in result.stderr, result.stderr


def test_keys_handed_over_by_the_engine_are_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # `pulumi up` passes the stack's config to the program in PULUMI_CONFIG, not through the SDK's own map.
    pulumi.runtime.set_all_config({})
    monkeypatch.setenv(
        "PULUMI_CONFIG",
        json.dumps({"hayhooks:target": "docker", "hayhooks:service": "{}", "hayhooks:replicas": "5", "docker:x": "1"}),
    )
    stack = load_stack_config("hayhooks")
    assert [p.path for p in stack.problems] == ["hayhooks:replicas"]
    # Kept for the component's problems, and raised with them, or alone when the scope builds none.
    with pytest.raises(ConfigError) as caught, stack.scope("service"):
        pass
    assert [p.path for p in caught.value.problems] == ["hayhooks:replicas"]


def test_no_component_is_checked_without_a_target_but_every_stack_key_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pulumi.runtime.set_all_config({})
    monkeypatch.setenv(
        "PULUMI_CONFIG", json.dumps({"hayhooks:target": "k8s", "hayhooks:service": "5", "hayhooks:servce": "{}"})
    )
    with pytest.raises(ConfigError) as caught:
        load_stack_config("hayhooks")
    assert [p.path for p in caught.value.problems] == ["hayhooks:target", "hayhooks:service", "hayhooks:servce"]


def test_the_providers_namespace_key_is_refused_naming_the_key_that_sets_the_namespace(tmp_path: Path) -> None:
    # `kubernetes:namespace` is pulumi-kubernetes' default for objects that name none; every object here names its
    # own, so the key did nothing while suggesting it chose the namespace.
    config = _stack(tmp_path, "prod", {"kubernetes:namespace": "elsewhere"})
    result = render("prod", tmp_path / "out", config)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line.strip() for line in result.stderr.splitlines()]
    refusal = next(line for line in lines if line.startswith("kubernetes:namespace: "))
    assert "hayhooks:service.namespace.name (now 'hayhooks')" in refusal and "does nothing" in refusal


def test_no_stack_file_of_the_repository_sets_a_key_that_does_nothing() -> None:
    files = [REPO / "Pulumi.prod.yaml", REPO / "Pulumi.dev.yaml", *sorted((REPO / "examples").rglob("*.yaml"))]
    stack_files = [path for path in files if "config" in (yaml.safe_load(path.read_text()) or {})]
    assert len(stack_files) > 2
    setting = [
        path.name for path in stack_files if "kubernetes:namespace" in yaml.safe_load(path.read_text())["config"]
    ]
    assert setting == []
