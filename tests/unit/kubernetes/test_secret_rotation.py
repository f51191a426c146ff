"""Secrets rotate without a gap. pulumi-kubernetes applies a changed Secret value by replacing the Secret;
with a fixed name it must delete the old one first (its Diff sets deleteBeforeReplace for a named object
keeping its name), leaving the edge without credentials and starting pods without their variables. So
every Secret the component writes is auto-named: the replacement gets a new name, is created first, what
reads it is pointed at the new name (the pods roll), and the old one goes last."""

from __future__ import annotations

from typing import Any

import pytest
from hayhooks_pulumi import HayhooksService
from hayhooks_pulumi.render.mocks import Registration
from helpers.engine import register
from helpers.paths import REPO

IMAGE = "deepset/hayhooks:v2.1.0@sha256:" + "ab" * 32
PARENT = {"name": "eg", "namespace": "envoy-gateway-system", "sectionName": "https"}
OIDC = {"issuer": "https://idp.example.com", "clientId": "hayhooks", "clientSecret": {"fromConfig": "oidcSecret"}}


def config(edge: dict[str, Any]) -> dict[str, Any]:
    return {
        "profile": "production",
        "image": IMAGE,
        "pipelinesPath": str(REPO / "pipelines"),
        "server": {"cors": {"allowOrigins": ["https://app.example.com"], "allowMethods": ["GET", "POST"]}},
        "secrets": {"WEBHOOK_TOKEN": {"fromConfig": "webhookToken"}},
        **edge,
    }


def gateway(auth: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"gateway": {"parentRefs": [PARENT], "hostnames": ["hayhooks.example.com"], "auth": auth, **extra}}


EDGES = {
    "ingress-nginx basic": {"ingress": {"host": "hayhooks.example.com", "tlsSecretName": "tls"}},
    "traefik basic": {"ingress": {"host": "hayhooks.example.com", "tlsSecretName": "tls", "controller": "traefik"}},
    "gateway api keys": gateway({"apiKey": {"clients": ["web"]}}, routeNamespace="gateways"),
    "gateway basic": gateway({"basic": {"username": "pipelines"}}),
    "gateway oidc from config": gateway({"oidc": OIDC}),
}
VALUES = {"WEBHOOK_TOKEN": "token-value", "gateway.auth.oidc.clientSecret": "oidc-value"}


def build(edge: dict[str, Any]) -> dict[str, Registration]:
    return register(lambda: HayhooksService("hh", config(edge), secret_values=VALUES))


def written_secrets(registrations: dict[str, Registration]) -> dict[str, Registration]:
    return {r.urn: r for r in registrations.values() if r.type == "kubernetes:core/v1:Secret"}


def references(value: Any, name: str) -> bool:
    if isinstance(value, dict):
        return any(references(v, name) for v in value.values())
    if isinstance(value, list):
        return any(references(v, name) for v in value)
    return value == name


@pytest.mark.parametrize("edge", EDGES.values(), ids=EDGES.keys())
def test_every_secret_the_component_writes_is_auto_named_and_its_readers_follow_its_name(edge: dict) -> None:
    registrations = build(edge)
    secrets = written_secrets(registrations)
    assert len(secrets) == 2, "the fromConfig values' Secret and the edge's"
    for urn, secret in secrets.items():
        assert "name" not in secret.inputs["metadata"], f"{secret.name} has a fixed name"
        assert secret.auto_name
        readers = [r for r in registrations.values() if r.urn != urn and references(r.inputs, secret.auto_name)]
        assert readers, f"nothing reads {secret.name}"
        for reader in readers:
            # The engine learns the order from the name's Output: the reader waits for the new Secret.
            assert urn in reader.dependencies, f"{reader.name} does not wait for {secret.name}"


def test_the_pods_read_the_config_secret_by_the_name_it_got() -> None:
    registrations = build(EDGES["ingress-nginx basic"])
    config_secret = registrations["hh-config-secret"]
    deployment = registrations["hh-deployment"]
    [container] = deployment.inputs["spec"]["template"]["spec"]["containers"]
    [ref] = [e["valueFrom"]["secretKeyRef"] for e in container["env"] if e["name"] == "WEBHOOK_TOKEN"]
    assert ref == {"name": config_secret.auto_name, "key": "WEBHOOK_TOKEN"}
    assert config_secret.urn in deployment.dependencies
