"""The edge variants of HayhooksService: Ingress and Gateway API args, and the edge outputs under the mock engine."""

from __future__ import annotations

from typing import Any

from hayhooks_pulumi import HayhooksService
from hayhooks_pulumi.outputs import declared_outputs

from helpers.engine import register
from helpers.kubernetes import base_args

PARENT = {"name": "eg", "namespace": "envoy-gateway-system", "sectionName": "https"}
OAUTH2_PROXY = "http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth"
OIDC = {"issuer": "https://login.example.com/realms/ai", "clientId": "hayhooks"}


def build(args: dict[str, Any], **kwargs: Any) -> tuple[dict, dict]:
    """Registrations by name, and the component's resolved outputs by attribute (plus the raw secret outputs)."""
    outputs: dict[str, Any] = {}

    def program() -> None:
        service = HayhooksService("hh", args, **kwargs)
        for output in declared_outputs(HayhooksService):
            key = output.attribute
            getattr(service, key).apply(lambda v, k=key: outputs.__setitem__(k, v))
        outputs["password_output"] = service.basic_auth_password
        outputs["api_keys_output"] = service.api_keys

    return register(program), outputs


def gateway_args(auth: dict[str, Any], **gateway: Any) -> dict[str, Any]:
    """base_args() with the Gateway API edge instead of the Ingress."""
    args = base_args(gateway={"parentRefs": [PARENT], "hostnames": ["hayhooks.example.com"], "auth": auth, **gateway})
    del args["ingress"]
    return args


def ingress_args(**ingress: Any) -> dict[str, Any]:
    return base_args(ingress={"host": "hayhooks.example.com", "tlsSecretName": "hayhooks-tls", **ingress})


def oidc_args(client_secret: dict[str, Any], **oidc: Any) -> dict[str, Any]:
    args = gateway_args({"oidc": {**OIDC, "clientSecret": client_secret, **oidc}})
    args["secretStore"] = {"name": "vault"}
    args["secretProviderClass"] = {"provider": "vault", "parameters": {"roleName": "hayhooks"}}
    return args
