"""Every example stack (`examples/<name>.yaml`) renders as `make render STACK=<name> CONFIG=examples/<name>.yaml`
does, and every manifest is valid: built-in kinds strictly for Kubernetes, custom resources against their CRDs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hayhooks_pulumi.crds import CRD_DIR
from hayhooks_pulumi.kubernetes.crd_requirements import REQUIREMENTS
from hayhooks_pulumi.render.schemas import crd_schemas, validate_render
from hayhooks_pulumi.server.facts import UPLOAD_PATHS
from helpers.paths import EXAMPLES, REPO
from helpers.render import Rendered, render, rendered_objects

# The custom resource kinds the Kubernetes builders emit (each needs its CRD); the examples emit all of them.
EMITTED = {(requirement.api_version, requirement.kind) for requirement in REQUIREMENTS}
REQUIRED = {"gateway-envoy-apikey", "gateway-envoy-oidc", "traefik-forward-auth", "nginx-oauth2-proxy", "csi-secrets"}
# The kinds each example exists to show (besides the objects every service has).
SHOWS = {
    "gateway-envoy-apikey": {"HTTPRoute", "SecurityPolicy", "Secret"},
    "gateway-envoy-oidc": {"HTTPRoute", "SecurityPolicy", "ReferenceGrant", "ExternalSecret"},
    "gateway-envoy-jwt": {"HTTPRoute", "SecurityPolicy"},
    "gateway-envoy-basic": {"HTTPRoute", "SecurityPolicy", "Secret"},
    "nginx-oauth2-proxy": {"Ingress"},
    "traefik-forward-auth": {"Ingress", "Middleware"},
    "csi-secrets": {"SecretProviderClass", "Ingress"},
    "local-cluster": {"Ingress", "Secret"},
}


def test_the_required_examples_exist_and_each_is_checked_here() -> None:
    names = {path.stem for path in EXAMPLES}
    assert names >= REQUIRED
    assert names == set(SHOWS), "add what a new example shows to SHOWS"


@pytest.fixture(scope="module")
def renders(example_renders: dict[str, Rendered]) -> dict[str, Path]:
    """Each example's render folder (the session's renders)."""
    for name, rendered in example_renders.items():
        assert rendered.result.returncode == 0, f"{name}: {rendered.result.stderr}"
    return {name: rendered.out for name, rendered in example_renders.items()}


def manifests(out: Path) -> dict[str, dict]:
    """Every object of the render, Secrets from their templates, by `<Kind>/<name>`."""
    return rendered_objects(out)


def of_kind(out: Path, kind: str) -> list[dict]:
    return [m for m in manifests(out).values() if m["kind"] == kind]


def test_the_examples_emit_every_packaged_custom_kind_the_components_have(renders: dict[str, Path]) -> None:
    custom = set(crd_schemas())
    emitted = {(m["apiVersion"], m["kind"]) for out in renders.values() for m in manifests(out).values()}
    assert emitted & custom == EMITTED
    assert custom >= EMITTED  # each has a packaged, served schema


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_every_manifest_of_the_example_is_valid(renders: dict[str, Path], name: str) -> None:
    out = renders[name]
    assert [str(issue) for issue in validate_render(out, CRD_DIR)] == []
    kinds = {m["kind"] for m in manifests(out).values()}
    assert SHOWS[name] <= kinds
    assert {"Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget"} <= kinds


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_every_example_is_a_production_stack_with_authentication(renders: dict[str, Path], name: str) -> None:
    config = yaml.safe_load((REPO / "examples" / f"{name}.yaml").read_text())["config"]
    assert config["hayhooks:service"]["profile"] == "production"
    out = renders[name]
    routes = of_kind(out, "HTTPRoute")
    ingresses = of_kind(out, "Ingress")
    assert len(routes) + len(ingresses) == 1
    if routes:
        assert of_kind(out, "SecurityPolicy"), "a public route without a SecurityPolicy"
        paths = [m["path"]["value"] for rule in routes[0]["spec"]["rules"] for m in rule["matches"]]
    else:
        notes = ingresses[0]["metadata"].get("annotations", {})
        assert any(k.endswith(("/auth-type", "/auth-url", "/router.middlewares")) for k in notes), notes
        paths = [p["path"] for p in ingresses[0]["spec"]["rules"][0]["http"]["paths"]]
    assert not [p for p in paths if p.startswith(UPLOAD_PATHS)]


@pytest.mark.parametrize("name", [p.stem for p in EXAMPLES])
def test_secrets_are_redacted_in_every_render(renders: dict[str, Path], name: str) -> None:
    out = renders[name]
    for secret in of_kind(out, "Secret"):
        assert set(secret["stringData"].values()) == {"[secret]"}, secret["metadata"]["name"]
    outputs = json.loads((out / "outputs.json").read_text())
    assert outputs["basicAuthPassword"] in ("[secret]", None) and outputs["apiKeys"] in ("[secret]", None)
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_text()
            # The mock's stand-ins for generated values start with "rendered"; hashes would show their prefix.
            assert "{SHA}" not in text and "$2b$" not in text, path
            assert "rendered" not in text.replace("rendered-secret", ""), path


def test_api_key_example_exports_the_keys_as_a_secret(renders: dict[str, Path]) -> None:
    out = renders["gateway-envoy-apikey"]
    assert json.loads((out / "outputs.json").read_text())["apiKeys"] == "[secret]"
    (secret,) = of_kind(out, "Secret")
    assert set(secret["stringData"]) == {"frontend", "batch-jobs"}


def test_oidc_example_reaches_across_namespaces_only_through_reference_grants(renders: dict[str, Path]) -> None:
    out = renders["gateway-envoy-oidc"]
    (route,) = of_kind(out, "HTTPRoute")
    (policy,) = of_kind(out, "SecurityPolicy")
    assert route["metadata"]["namespace"] == policy["metadata"]["namespace"] == "gateways"
    grants = {g["spec"]["from"][0]["kind"]: g for g in of_kind(out, "ReferenceGrant")}
    assert {g["metadata"]["namespace"] for g in grants.values()} == {"hayhooks"}
    assert grants["HTTPRoute"]["spec"]["to"] == [{"group": "", "kind": "Service", "name": "http-hayhooks"}]
    assert grants["SecurityPolicy"]["spec"]["to"] == [
        {"group": "", "kind": "Secret", "name": policy["spec"]["oidc"]["clientSecret"]["name"]}
    ]


def test_csi_example_mounts_the_class_and_syncs_only_what_env_needs(renders: dict[str, Path]) -> None:
    out = renders["csi-secrets"]
    (spc,) = of_kind(out, "SecretProviderClass")
    (deployment,) = of_kind(out, "Deployment")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"secretProviderClass": spc["metadata"]["name"]} in [
        v["csi"]["volumeAttributes"] for v in volumes if "csi" in v
    ]
    assert [d["objectName"] for o in spc["spec"]["secretObjects"] for d in o["data"]] == ["llm-api-key"]


def test_renders_of_an_example_are_byte_identical(renders: dict[str, Path], tmp_path: Path) -> None:
    name = "gateway-envoy-apikey"
    assert render(name, tmp_path / name, REPO / "examples" / f"{name}.yaml").returncode == 0
    first = {p.relative_to(renders[name]): p.read_bytes() for p in renders[name].rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path / name): p.read_bytes() for p in (tmp_path / name).rglob("*") if p.is_file()}
    assert first == second


# One invalid field per custom resource kind the examples render: the CRD check must catch each.
BREAKS = {
    "HTTPRoute": lambda m: m["spec"]["rules"][0]["matches"][0]["path"].update(type="Prefix"),
    "SecurityPolicy": lambda m: m["spec"]["apiKeyAuth"].update(extractFrom=[]),
    "ReferenceGrant": lambda m: m["spec"].update(to=[]),
    "Middleware": lambda m: m["spec"]["forwardAuth"].update(authResponseHeaders="X-Auth-Request-User"),
    "SecretProviderClass": lambda m: m["spec"].update(parameters={"objects": ["not", "a", "string"]}),
}


@pytest.mark.parametrize("kind", sorted(BREAKS))
def test_the_crd_check_catches_an_invalid_custom_resource(renders: dict[str, Path], tmp_path: Path, kind: str) -> None:
    source = next(
        m
        for out in renders.values()
        for m in manifests(out).values()
        if m["kind"] == kind and (kind != "SecurityPolicy" or "apiKeyAuth" in m["spec"])
    )
    broken = copy.deepcopy(source)
    BREAKS[kind](broken)
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "valid.yaml").write_text(yaml.safe_dump(source))
    (tmp_path / "manifests" / "broken.yaml").write_text(yaml.safe_dump(broken))
    assert {issue.file for issue in validate_render(tmp_path, CRD_DIR)} == {"broken.yaml"}


def test_an_oidc_client_secret_from_stack_config_renders_as_a_redacted_secret(tmp_path: Path) -> None:
    """The stack reads `fromConfig` of the OIDC client secret like an env secret's, and keeps it secret."""
    stack = yaml.safe_load((REPO / "examples" / "gateway-envoy-oidc.yaml").read_text())
    stack["config"]["hayhooks:oidcClientSecret"] = {"secure": "v1:AAAABBBBCCCC"}
    stack["config"]["hayhooks:service"]["gateway"]["auth"]["oidc"]["clientSecret"] = {"fromConfig": "oidcClientSecret"}
    config = tmp_path / "Pulumi.oidc.yaml"
    config.write_text(yaml.safe_dump(stack))
    out = tmp_path / "out"
    result = render("oidc", out, config)
    assert result.returncode == 0, result.stderr
    # Auto-named: the render's stand-in for the provider's `<resource name>-<8 characters>`.
    [secret] = [body for key, body in manifests(out).items() if key.startswith("Secret/hayhooks-oidc-client-")]
    assert secret["stringData"] == {"client-secret": "[secret]"}
    (policy,) = of_kind(out, "SecurityPolicy")
    assert policy["spec"]["oidc"]["clientSecret"]["name"] == secret["metadata"]["name"]
    del stack["config"]["hayhooks:oidcClientSecret"]
    config.write_text(yaml.safe_dump(stack))
    result = render("oidc", tmp_path / "missing", config)
    assert result.returncode == 2
    assert "hayhooks:service.gateway.auth.oidc.clientSecret.fromConfig: no value given" in result.stderr
