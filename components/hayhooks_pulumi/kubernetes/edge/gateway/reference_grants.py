"""ReferenceGrants in the service's namespace, when the route and its policy live in another one."""

from __future__ import annotations

from typing import Any

import pulumi

from ...metadata import object_meta
from ...plan import ServicePlan
from .route import GATEWAY_API_GROUP, cross_namespace, route_namespace
from .security_policy import ENVOY_GATEWAY_GROUP, policy_secret, uses_policy

# v1beta1: the storage version, served by every Gateway API release that has ReferenceGrant (v1 only from 1.5).
REFERENCE_GRANT_API = f"{GATEWAY_API_GROUP}/v1beta1"


# The grant for the policy's Secret follows that Secret's generated name: auto-named itself and replaced on a
# change (see the component), so during a rotation the old grant still admits the old Secret until the policy
# has moved to the new one.
POLICY_GRANT = "policy-grant"


def _grant(
    plan: ServicePlan, name: str | None, source: dict[str, str], targets: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "api_version": REFERENCE_GRANT_API,
        "kind": "ReferenceGrant",
        "metadata": object_meta(plan, name),
        "spec": {"from": [{**source, "namespace": route_namespace(plan)}], "to": targets},
    }


def reference_grants(plan: ServicePlan, created_secret: pulumi.Input[str] | None = None) -> dict[str, dict[str, Any]]:
    """Keyword arguments of each ReferenceGrant by its suffix: the route may reach the Service, the policy its
    Secret (`created_secret`: the name the one the component wrote got), each by name and nothing else."""
    if plan.args.gateway is None or not cross_namespace(plan):
        return {}
    grants = {
        "route-grant": _grant(
            plan,
            plan.child("route-grant"),
            {"group": GATEWAY_API_GROUP, "kind": "HTTPRoute"},
            [{"group": "", "kind": "Service", "name": plan.service_name}],
        )
    }
    secret = policy_secret(plan, created_secret) if uses_policy(plan) else None
    if secret is not None:
        grants[POLICY_GRANT] = _grant(
            plan,
            None,
            {"group": ENVOY_GATEWAY_GROUP, "kind": "SecurityPolicy"},
            [{"group": "", "kind": "Secret", "name": secret}],
        )
    return grants
