"""`make render STACK=prod`: what reviewers and scanners read, validated as the API server would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hayhooks_pulumi.crds import CRD_DIR
from hayhooks_pulumi.pipelines import load_pipelines
from hayhooks_pulumi.render.schemas import validate_render
from hayhooks_pulumi.render.stackfile import SECRET_STAND_IN
from helpers.paths import REPO
from helpers.render import Renders, render, rendered_objects


@pytest.fixture(scope="module")
def prod(stack_render: Renders) -> Path:
    rendered = stack_render("prod")
    assert rendered.result.returncode == 0, rendered.result.stderr
    assert "hayhooks:index:HayhooksService" in rendered.result.stdout
    return rendered.out


def manifests(out: Path) -> dict[str, dict]:
    """The objects `kubectl apply -f manifests/` applies, by `<Kind>/<name>` (no Secret: those are templates)."""
    return {
        f"{body['kind']}/{body['metadata']['name']}": body
        for body in (yaml.safe_load(p.read_text()) for p in sorted((out / "manifests").glob("*.yaml")))
    }


def only(out: Path, pattern: str) -> dict:
    """The one object whose `<Kind>/<name>` matches: an auto-named object's carries the render's stand-in suffix."""
    [body] = [body for key, body in rendered_objects(out).items() if re.fullmatch(pattern, key)]
    return body


def test_render_writes_one_manifest_per_object_and_a_template_per_secret(prod: Path) -> None:
    applied = set(manifests(prod))
    assert applied == {
        "Namespace/hayhooks",
        "ServiceAccount/hayhooks",
        f"ConfigMap/hayhooks-pipelines-{load_pipelines(REPO / 'pipelines').checksum[:8]}",
        "Deployment/hayhooks",
        "Service/http-hayhooks",
        "NetworkPolicy/hayhooks",
        "PodDisruptionBudget/hayhooks",
        "HorizontalPodAutoscaler/hayhooks",
        "Ingress/hayhooks",
        "ExternalSecret/hayhooks-store",
    }
    [auth] = set(rendered_objects(prod)) - applied
    assert re.fullmatch(r"Secret/hayhooks-basic-auth-[0-9a-f]{8}", auth)


def test_every_manifest_is_valid_for_kubernetes_and_its_crd(prod: Path) -> None:
    assert [str(i) for i in validate_render(prod, CRD_DIR)] == []


def test_schema_check_catches_an_invalid_manifest(prod: Path, tmp_path: Path) -> None:
    broken = tmp_path / "manifests"
    broken.mkdir()
    deployment = manifests(prod)["Deployment/hayhooks"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"] = {"path": 1}
    external = manifests(prod)["ExternalSecret/hayhooks-store"]
    external["spec"]["secretStoreRef"]["kind"] = "Vault"
    (broken / "deployment.yaml").write_text(yaml.safe_dump(deployment))
    (broken / "externalsecret.yaml").write_text(yaml.safe_dump(external))
    issues = {i.file for i in validate_render(tmp_path, CRD_DIR)}
    assert issues == {"deployment.yaml", "externalsecret.yaml"}


def test_prod_stack_is_what_the_production_guide_asks_for(prod: Path) -> None:
    objects = manifests(prod)
    container = objects["Deployment/hayhooks"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_ORIGINS"]) == ["https://app.example.com", "https://admin.example.com"]
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_METHODS"]) == ["GET", "POST"]
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_HEADERS"]) == ["Content-Type", "Authorization"]
    assert env["HAYHOOKS_CORS_ALLOW_CREDENTIALS"] == "true"
    assert env["HAYHOOKS_LOG_LEVEL"] == "INFO" and env["HAYHOOKS_SHOW_TRACEBACKS"] == "false"
    assert env["HAYHOOKS_STARTUP_DEPLOY_STRATEGY"] == "parallel" and env["HAYHOOKS_STARTUP_DEPLOY_WORKERS"] == "4"
    assert env["HAYHOOKS_DEPLOY_CONCURRENCY"] == "serialized" and env["HAYHOOKS_DURABLE_MODE"] == "true"
    assert env["EXAMPLE_LLM_API_KEY"]["secretKeyRef"]["name"] == "hayhooks-store"
    assert "@sha256:" in container["image"]
    hpa = objects["HorizontalPodAutoscaler/hayhooks"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    external = objects["ExternalSecret/hayhooks-store"]["spec"]
    assert external["secretStoreRef"]["kind"] == "ClusterSecretStore"


def test_the_env_output_is_what_the_pods_get_minus_secrets(prod: Path) -> None:
    container = manifests(prod)["Deployment/hayhooks"]["spec"]["template"]["spec"]["containers"][0]
    plain = {e["name"]: e["value"] for e in container["env"] if "valueFrom" not in e}
    assert json.loads((prod / "outputs.json").read_text())["env"] == plain
    assert plain["HOME"] == "/home/hayhooks"


def test_resources_json_lists_every_registration_with_camel_case_inputs(prod: Path) -> None:
    records = json.loads((prod / "resources.json").read_text())
    # `autoName`: the stand-in for the name the provider generates, on the objects registered without one.
    assert {tuple(sorted(set(r) - {"autoName"})) for r in records} == {("inputs", "name", "parent", "type")}
    assert {r["name"] for r in records if "autoName" in r} == {"hayhooks-basic-auth"}
    by_name = {r["name"]: r for r in records}
    assert by_name["hayhooks"]["type"] == "hayhooks:index:HayhooksService" and by_name["hayhooks"]["parent"] is None
    deployment = by_name["hayhooks-deployment"]
    assert deployment["parent"] == "hayhooks"
    assert deployment["inputs"]["spec"]["template"]["spec"]["enableServiceLinks"] is False
    assert len(records) == len(rendered_objects(prod)) + 2  # + the component and the generated password


def test_secrets_are_redacted_everywhere(prod: Path) -> None:
    secret = only(prod, "Secret/hayhooks-basic-auth-.*")
    assert secret["stringData"] == {"auth": "[secret]"}
    outputs = json.loads((prod / "outputs.json").read_text())
    assert outputs["basicAuthPassword"] == "[secret]"
    for path in prod.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "$2b$" not in text and "rendered" not in text.replace("rendered-secret", ""), path


def test_two_renders_are_byte_identical(prod: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert render("prod", again).returncode == 0
    first = {p.relative_to(prod): p.read_bytes() for p in prod.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second


def test_invalid_config_exits_with_one_line_per_problem_and_writes_nothing(tmp_path: Path) -> None:
    stack = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    service = stack["config"]["hayhooks:service"]
    service["server"]["cors"]["allowOrigins"] = ["https://app.example.com/", "*"]
    service["server"]["logLevel"] = "DEBUG"
    service["replica"] = 3
    config = tmp_path / "Pulumi.bad.yaml"
    config.write_text(yaml.safe_dump(stack))
    out = tmp_path / "out"
    result = render("bad", out, config)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert "nothing was written" in lines[0]
    problems = [line.strip() for line in lines[1:]]
    assert any(p.startswith("hayhooks:service.server.cors.allowOrigins[0]: ") for p in problems), problems
    assert any(p.startswith("hayhooks:service.replica: unknown key") for p in problems), problems
    assert not out.exists()


def test_production_refusal_is_reported_under_the_stack_key(tmp_path: Path) -> None:
    stack = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    stack["config"]["hayhooks:service"]["server"]["logLevel"] = "DEBUG"
    config = tmp_path / "Pulumi.debug.yaml"
    config.write_text(yaml.safe_dump(stack))
    result = render("debug", tmp_path / "out", config)
    assert result.returncode == 2
    assert "hayhooks:service.server.logLevel: DEBUG is refused in production" in result.stderr


def test_secure_config_values_render_as_redacted_secrets(tmp_path: Path) -> None:
    stack = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    stack["config"]["hayhooks:webhookToken"] = {"secure": "v1:AAAABBBBCCCC"}
    stack["config"]["hayhooks:service"]["secrets"]["WEBHOOK_TOKEN"] = {"fromConfig": "webhookToken"}
    config = tmp_path / "Pulumi.secure.yaml"
    config.write_text(yaml.safe_dump(stack))
    out = tmp_path / "out"
    result = render("secure", out, config)
    assert result.returncode == 0, result.stderr
    secret = only(out, "Secret/hayhooks-config-secret-.*")
    assert secret["stringData"] == {"WEBHOOK_TOKEN": "[secret]"}
    for path in out.rglob("*"):
        if path.is_file():
            assert SECRET_STAND_IN not in path.read_text(), path


def test_manifests_are_the_same_bytes_with_or_without_libyaml(prod: Path) -> None:
    from hayhooks_pulumi.render.writer import dump_yaml

    for path in sorted((prod / "manifests").glob("*.yaml")):
        body = yaml.safe_load(path.read_text())
        assert dump_yaml(body, yaml.SafeDumper) == path.read_text(), path.name
    for path in sorted((prod / "manifests").glob("*.yaml.template")):
        body = yaml.safe_load(path.read_text())
        assert path.read_text().endswith(dump_yaml(body, yaml.SafeDumper)), path.name
