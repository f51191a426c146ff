"""The checks of an HTTPRoute rule in front of Hayhooks: an Envoy Gateway SecurityPolicy (or a Traefik
middleware filter, or a trusted Gateway) authenticates it, and it matches none of the code-upload
paths. Each check returns its messages; the catalog names the rule they break.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..server.facts import UPLOAD_PATHS
from .edge import (
    TRAEFIK_GROUPS,
    Stack,
    element_prefix,
    middleware_authenticates,
    points_at,
    regex_routes,
    upload_paths_routed,
)
from .objects import KubeObject, as_mapping, as_seq, same_namespace, strings

_GATEWAY_GROUP = "gateway.networking.k8s.io"
_ENVOY_GROUP = "gateway.envoyproxy.io"
_ENVOY_AUTH = ("apiKeyAuth", "basicAuth", "jwt", "oidc", "extAuth")


@dataclass(frozen=True)
class RouteRule:
    """One rule of an HTTPRoute whose backends include a Hayhooks Service."""

    stack: Stack
    route: KubeObject
    rule: Mapping[str, Any]
    label: str
    """How messages name the rule: `rule <its name or index>`."""

    @property
    def subject(self) -> str:
        return self.route.subject

    @property
    def urn(self) -> str | None:
        return self.route.urn


def _backs_onto(services: list[KubeObject], route: KubeObject, backend: Any) -> bool:
    """A backendRef (of the route's namespace unless it names one) that is one of the Services."""
    ref = as_mapping(backend)
    return (
        ref.get("kind", "Service") == "Service"
        and ref.get("group", "") == ""
        and points_at(services, ref.get("namespace") or route.namespace, ref.get("name"))
    )


def route_rules(stack: Stack, services: list[KubeObject]) -> Iterator[RouteRule]:
    """Every HTTPRoute rule with a backend among the Hayhooks Services."""
    for route in stack.of_kind("HTTPRoute", {_GATEWAY_GROUP}):
        for index, rule in enumerate(as_mapping(r) for r in as_seq(route.spec.get("rules"))):
            if any(_backs_onto(services, route, ref) for ref in as_seq(rule.get("backendRefs"))):
                yield RouteRule(stack, route, rule, f"rule {rule.get('name') or index}")


# ----- authentication -----


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    if not all(labels.get(k) == v for k, v in as_mapping(selector.get("matchLabels")).items()):
        return False
    for entry in as_seq(selector.get("matchExpressions")):
        expression = as_mapping(entry)
        key: Any = expression.get("key")
        operator, values = expression.get("operator"), strings(expression.get("values"))
        present = key in labels
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and labels.get(key) in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


def _security_policy_authenticates(policy: KubeObject) -> bool:
    spec = policy.spec
    for key in _ENVOY_AUTH:
        method = spec.get(key)
        if method is None:
            continue
        # An optional JWT lets requests without a token through; fail-open lets them through when auth is down.
        if key == "jwt" and (as_mapping(method).get("optional") is True or as_mapping(method).get("failOpen") is True):
            continue
        if key == "extAuth" and as_mapping(method).get("failOpen") is True:
            continue
        return True
    return False


def _policy_targets(policy: KubeObject) -> list[Mapping[str, Any]]:
    spec = policy.spec
    return [as_mapping(t) for t in (*as_seq(spec.get("targetRefs")), spec.get("targetRef")) if t is not None]


def _route_gateways(route: KubeObject) -> list[tuple[str | None, str]]:
    gateways = []
    for entry in as_seq(route.spec.get("parentRefs")):
        parent = as_mapping(entry)
        if parent.get("kind", "Gateway") == "Gateway" and parent.get("group", _GATEWAY_GROUP) == _GATEWAY_GROUP:
            gateways.append((parent.get("namespace") or route.namespace, str(parent.get("name") or "")))
    return gateways


def _rule_covered(stack: Stack, route: KubeObject, rule: Mapping[str, Any]) -> bool:
    """Whether requests matched by this HTTPRoute rule must authenticate first."""
    section = rule.get("name")
    for policy in stack.of_kind("SecurityPolicy", {_ENVOY_GROUP}):
        if not _security_policy_authenticates(policy):
            continue
        # A policy targets objects of its own namespace: the route's, or the Gateway's for all its routes.
        local = same_namespace(policy.namespace, route.namespace)
        for target in _policy_targets(policy):
            kind, name = target.get("kind"), target.get("name")
            if target.get("group", _GATEWAY_GROUP) != _GATEWAY_GROUP:
                continue
            if kind == "HTTPRoute" and local and name == route.name and target.get("sectionName") in (None, section):
                return True
            if kind == "Gateway" and any(
                gw_name == name and same_namespace(gw_ns, policy.namespace) for gw_ns, gw_name in _route_gateways(route)
            ):
                return True
        for entry in as_seq(policy.spec.get("targetSelectors")):
            selector = as_mapping(entry)
            if local and selector.get("kind") == "HTTPRoute" and _selector_matches(selector, route.labels):
                return True
    if any(f"{ns}/{name}" in stack.config.trusted_gateways for ns, name in _route_gateways(route)):
        return True
    # Traefik serves HTTPRoutes too, with its middlewares as ExtensionRef filters.
    for rule_filter in as_seq(rule.get("filters")):
        ref = as_mapping(as_mapping(rule_filter).get("extensionRef"))
        if ref.get("kind") == "Middleware" and ref.get("group") in TRAEFIK_GROUPS:
            middleware = stack.middleware(route.namespace, str(ref.get("name") or ""))
            if middleware is not None and middleware_authenticates(stack, middleware):
                return True
    return False


def check_route_authentication(target: RouteRule) -> list[str]:
    if _rule_covered(target.stack, target.route, target.rule):
        return []
    return [
        f"{target.label} routes to Hayhooks without authentication: target the route with an Envoy "
        "Gateway SecurityPolicy (apiKeyAuth, basicAuth, jwt, oidc or extAuth) or add an "
        "authenticating Traefik middleware as an ExtensionRef filter"
    ]


# ----- the code-upload paths -----


def _route_match_uploads(match: Mapping[str, Any]) -> list[str]:
    """A match without a path takes every path (PathPrefix /)."""
    path = as_mapping(match.get("path"))
    kind, value = path.get("type", "PathPrefix"), str(path.get("value") or "/")
    if kind == "Exact":
        return upload_paths_routed(lambda sample: sample == value, value)
    if kind == "RegularExpression":
        return upload_paths_routed(lambda sample: regex_routes(value, sample, search=False), None)
    return upload_paths_routed(lambda sample: element_prefix(value, sample), value)


def check_route_upload_routes(target: RouteRule) -> list[str]:
    matches = [as_mapping(m) for m in as_seq(target.rule.get("matches"))] or [{}]
    routed = {path for match in matches for path in _route_match_uploads(match)}
    hits = [path for path in UPLOAD_PATHS if path in routed]
    if not hits:
        return []
    return [
        f"{target.label} routes {', '.join(hits)} to Hayhooks: match only the client paths, each "
        "Exact (a rule without matches routes every path)"
    ]
