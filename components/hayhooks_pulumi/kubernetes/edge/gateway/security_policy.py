"""Envoy Gateway's SecurityPolicy on the HTTPRoute, and the Secrets it reads: API keys, a `{SHA}` htpasswd,
the OIDC client secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ....auth import htpasswd_line, sha_hash
from ...metadata import object_meta
from ...plan import ServicePlan
from ...secrets.external import external_secret_for
from ...secrets.opaque import opaque_secret_args
from ..secret_keys import ENVOY_HTPASSWD_KEY, OIDC_SECRET_KEY
from .models import GatewayAuthArgs
from .oidc import oidc_client_secret_name, oidc_redirect_url
from .route import GATEWAY_API_GROUP, cross_namespace, gateway_spec, route_name, route_namespace

ENVOY_GATEWAY_GROUP = "gateway.envoyproxy.io"
SECURITY_POLICY_API = f"{ENVOY_GATEWAY_GROUP}/v1alpha1"


def auth_spec(plan: ServicePlan) -> GatewayAuthArgs:
    return gateway_spec(plan).auth


def policy_name(plan: ServicePlan) -> str:
    return plan.name


def uses_policy(plan: ServicePlan) -> bool:
    return plan.args.gateway is not None and not plan.args.gateway.auth.none


def policy_secret(plan: ServicePlan, created: pulumi.Input[str] | None) -> pulumi.Input[str] | None:
    """The Secret the policy reads, in the service's namespace: the one the component wrote (`created`, the name
    it got: API keys, the htpasswd, an OIDC client secret from config), else the OIDC client secret that the
    store or the CSI driver writes under its fixed name; none for JWT."""
    if created is not None:
        return created
    auth = auth_spec(plan)
    return oidc_client_secret_name(plan) if auth.oidc is not None else None


def _secret_ref(plan: ServicePlan, name: pulumi.Input[str]) -> dict[str, Any]:
    ref: dict[str, Any] = {"group": "", "kind": "Secret", "name": name}
    if cross_namespace(plan):
        ref["namespace"] = plan.namespace
    return ref


def _method(plan: ServicePlan, secret: pulumi.Input[str] | None) -> dict[str, Any]:
    auth = auth_spec(plan)
    if auth.jwt is not None:
        provider: dict[str, Any] = {
            "name": plan.name,
            "issuer": auth.jwt.issuer,
            "remoteJWKS": {"uri": auth.jwt.jwks_uri},
        }
        if auth.jwt.audiences:
            provider["audiences"] = list(auth.jwt.audiences)
        return {"jwt": {"providers": [provider]}}
    assert secret is not None, "API keys, basic auth and OIDC read a Secret: the one `policy_secret` names"
    if auth.api_key is not None:
        api_key: dict[str, Any] = {
            "credentialRefs": [_secret_ref(plan, secret)],
            "extractFrom": [{"headers": [auth.api_key.header]}],
            # The key has no use beyond the gateway: it never reaches the server or the pipelines.
            "sanitize": True,
        }
        if auth.api_key.forward_client_id_header is not None:
            api_key["forwardClientIDHeader"] = auth.api_key.forward_client_id_header
        return {"apiKeyAuth": api_key}
    if auth.basic is not None:
        return {"basicAuth": {"users": _secret_ref(plan, secret)}}
    oidc = auth.oidc
    assert oidc is not None
    spec: dict[str, Any] = {
        "provider": {"issuer": oidc.issuer},
        "clientID": oidc.client_id,
        "clientSecret": _secret_ref(plan, secret),
        "redirectURL": oidc_redirect_url(gateway_spec(plan)),
        "logoutPath": oidc.logout_path,
    }
    if oidc.scopes:
        spec["scopes"] = list(oidc.scopes)
    return {"oidc": spec}


def security_policy(plan: ServicePlan, secret: pulumi.Input[str] | None) -> dict[str, Any]:
    """Keyword arguments of the SecurityPolicy CustomResource, beside the route it targets; `secret`: what
    `policy_secret` names."""
    return {
        "api_version": SECURITY_POLICY_API,
        "kind": "SecurityPolicy",
        # No wait here: Envoy Gateway writes no status for a policy whose route does not exist yet, and the route
        # comes after the policy (see `waits`).
        "metadata": object_meta(plan, policy_name(plan), namespace=route_namespace(plan)),
        "spec": {
            "targetRefs": [{"group": GATEWAY_API_GROUP, "kind": "HTTPRoute", "name": route_name(plan)}],
            **_method(plan, secret),
        },
    }


def api_keys_secret_args(plan: ServicePlan, keys: Mapping[str, pulumi.Input[str]]) -> k8s.core.v1.SecretInitArgs:
    """The Opaque Secret Envoy reads API keys from: client name -> key (auto-named, as every Secret the
    component writes)."""
    return opaque_secret_args(plan, None, keys)


def basic_auth_secret_args(plan: ServicePlan, password: pulumi.Input[str]) -> k8s.core.v1.SecretInitArgs:
    """The htpasswd Envoy reads, with the generated password's `{SHA}` hash (stable across runs)."""
    basic = auth_spec(plan).basic
    assert basic is not None
    username = basic.username
    line = pulumi.Output.from_input(password).apply(lambda value: htpasswd_line(username, sha_hash(value)))
    return opaque_secret_args(plan, None, {ENVOY_HTPASSWD_KEY: line})


def oidc_client_secret_args(plan: ServicePlan, value: pulumi.Input[str]) -> k8s.core.v1.SecretInitArgs:
    """The OIDC client secret from Pulumi config, under the key Envoy Gateway reads (auto-named)."""
    return opaque_secret_args(plan, None, {OIDC_SECRET_KEY: value})


def oidc_external_secret(plan: ServicePlan) -> dict[str, Any]:
    """The OIDC client secret from the store, in a Secret of its own (the gateway reads nothing else)."""
    oidc = auth_spec(plan).oidc
    assert oidc is not None and oidc.client_secret.from_store is not None
    name = oidc_client_secret_name(plan)
    assert name is not None
    return external_secret_for(plan, name, {OIDC_SECRET_KEY: oidc.client_secret.from_store})
