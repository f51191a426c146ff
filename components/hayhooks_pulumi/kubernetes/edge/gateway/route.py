"""The Gateway API edge's HTTPRoute on an existing Gateway, routing exactly the Ingress's paths."""

from __future__ import annotations

from typing import Any

from ...metadata import object_meta
from ...plan import ServicePlan
from ...waits import ROUTE_ACCEPTED, WAIT_FOR
from ...workload.service import SERVICE_PORT
from ..routes import routed_paths
from .cors import cors_filter
from .models import MAX_RULE_MATCHES, GatewayArgs
from .oidc import gateway_extra_paths

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
HTTP_ROUTE_API = f"{GATEWAY_API_GROUP}/v1"


def gateway_spec(plan: ServicePlan) -> GatewayArgs:
    assert plan.args.gateway is not None
    return plan.args.gateway


def route_name(plan: ServicePlan) -> str:
    return plan.name


def route_namespace(plan: ServicePlan) -> str:
    """Where the HTTPRoute and its SecurityPolicy live: the service's namespace unless the gateway names one."""
    gateway = plan.args.gateway
    return (gateway.route_namespace if gateway else None) or plan.namespace


def cross_namespace(plan: ServicePlan) -> bool:
    """The route (and its policy) live apart from the Service and Secrets they reference."""
    return route_namespace(plan) != plan.namespace


def route_paths(plan: ServicePlan) -> list[str]:
    """The Ingress's paths, plus the OIDC filter's own callback and logout paths (Envoy answers those)."""
    return routed_paths(plan) + gateway_extra_paths(gateway_spec(plan))


def parent_refs(plan: ServicePlan) -> list[dict[str, str]]:
    refs = []
    for ref in gateway_spec(plan).parent_refs:
        entry = {"name": ref.name}
        if ref.namespace is not None:
            entry["namespace"] = ref.namespace
        if ref.section_name is not None:
            entry["sectionName"] = ref.section_name
        refs.append(entry)
    return refs


def route_rules(plan: ServicePlan) -> list[dict[str, Any]]:
    """Exact path matches, at most 64 per rule (the Gateway API's limit), each rule to the Service."""
    gateway = gateway_spec(plan)
    backend: dict[str, Any] = {"name": plan.service_name, "port": SERVICE_PORT}
    if cross_namespace(plan):
        backend["namespace"] = plan.namespace
    paths = route_paths(plan)
    rules = []
    for start in range(0, len(paths), MAX_RULE_MATCHES):
        rule: dict[str, Any] = {
            "matches": [{"path": {"type": "Exact", "value": path}} for path in paths[start : start + MAX_RULE_MATCHES]],
            "backendRefs": [backend],
            # Streaming answers (SSE) take long; the same budget as the Ingress's read timeout.
            "timeouts": {"request": gateway.request_timeout},
        }
        if gateway.cors:
            rule["filters"] = [cors_filter(plan.args.server.cors)]
        rules.append(rule)
    return rules


def http_route(plan: ServicePlan) -> dict[str, Any]:
    """Keyword arguments of the HTTPRoute CustomResource."""
    gateway = gateway_spec(plan)
    spec: dict[str, Any] = {"parentRefs": parent_refs(plan)}
    if gateway.hostnames:
        spec["hostnames"] = list(gateway.hostnames)
    spec["rules"] = route_rules(plan)
    return {
        "api_version": HTTP_ROUTE_API,
        "kind": "HTTPRoute",
        "metadata": object_meta(plan, route_name(plan), {WAIT_FOR: ROUTE_ACCEPTED}, namespace=route_namespace(plan)),
        "spec": spec,
    }


def gateway_public_url(plan: ServicePlan) -> str | None:
    """https on the first concrete host name (TLS ends at the Gateway's listener); None without one."""
    gateway = plan.args.gateway
    if gateway is None:
        return None
    host = next((h for h in gateway.hostnames if not h.startswith("*")), None)
    return f"https://{host}" if host else None
