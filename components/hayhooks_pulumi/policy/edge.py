"""The edge in front of Hayhooks, as the stack rules see it: which Services select its pods, which
Traefik middlewares authenticate, which paths a match takes, and the Services that expose it
directly. The Ingress and HTTPRoute checks (`ingress`, `httproute`) build on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..server.facts import UPLOAD_PATHS
from .objects import KubeObject, as_mapping, as_seq, dig, pod_template, same_namespace, strings
from .workload import hayhooks_containers

TRAEFIK_GROUPS = {"traefik.io", "traefik.containo.us"}
_TRAEFIK_AUTH = ("basicAuth", "digestAuth", "forwardAuth")
_EXPOSING_SERVICE_TYPES = {"LoadBalancer", "NodePort"}
# A path under an upload route, as in /undeploy/<name>.
_UPLOAD_CHILD = "pipeline"


@dataclass(frozen=True)
class EdgeConfig:
    """What the stack rules cannot see in the stack itself (policy config of `hayhooks-edge-auth`)."""

    trusted_middlewares: frozenset[str] = field(default_factory=frozenset)
    """Traefik middleware references, as written in the router.middlewares annotation (e.g.
    `auth@file`, `sso-oauth@kubernetescrd`), that authenticate but are defined outside the stack."""
    trusted_gateways: frozenset[str] = field(default_factory=frozenset)
    """Gateways (`namespace/name`) whose every route is authenticated by a policy outside the stack."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> EdgeConfig:
        config = config or {}
        return cls(
            trusted_middlewares=frozenset(strings(config.get("trustedMiddlewares"))),
            trusted_gateways=frozenset(strings(config.get("trustedGateways"))),
        )


@dataclass(frozen=True)
class Stack:
    """The Kubernetes objects of a stack, indexed for the edge rules."""

    objects: list[KubeObject]
    config: EdgeConfig

    def of_kind(self, kind: str, groups: Collection[str] | None = None) -> Iterator[KubeObject]:
        for obj in self.objects:
            if obj.kind == kind and (groups is None or obj.group in groups):
                yield obj

    def hayhooks_pods(self) -> list[tuple[str | None, Mapping[str, Any]]]:
        """(namespace, pod labels) of every workload with a Hayhooks container."""
        pods = []
        for obj in self.objects:
            template = pod_template(obj)
            if template is not None and any(True for _ in hayhooks_containers(obj)):
                pods.append((obj.namespace, template[0]))
        return pods

    def hayhooks_services(self) -> list[KubeObject]:
        """Services whose selector picks the pods of a Hayhooks workload."""
        pods = self.hayhooks_pods()
        services = []
        for service in self.of_kind("Service", {""}):
            selector = as_mapping(service.spec.get("selector"))
            if selector and any(
                same_namespace(service.namespace, namespace) and all(labels.get(k) == v for k, v in selector.items())
                for namespace, labels in pods
            ):
                services.append(service)
        return services

    def middleware(self, namespace: str | None, name: str) -> KubeObject | None:
        for middleware in self.of_kind("Middleware", TRAEFIK_GROUPS):
            if middleware.name == name and same_namespace(middleware.namespace, namespace):
                return middleware
        return None


def points_at(services: list[KubeObject], namespace: str | None, name: Any) -> bool:
    """Whether a backend (its namespace, its Service name) is one of the Hayhooks Services."""
    return any(s.name == name and same_namespace(s.namespace, namespace) for s in services)


def middleware_authenticates(stack: Stack, middleware: KubeObject, seen: frozenset[str] = frozenset()) -> bool:
    """A Traefik auth middleware, or a chain that links one in (each link followed once)."""
    spec = middleware.spec
    if any(spec.get(key) is not None for key in _TRAEFIK_AUTH):
        return True
    key = f"{middleware.namespace}/{middleware.name}"
    for entry in as_seq(dig(spec, "chain", "middlewares")):
        link = as_mapping(entry)
        namespace = link.get("namespace") or middleware.namespace
        target = stack.middleware(namespace, str(link.get("name") or ""))
        if target is not None and key not in seen and middleware_authenticates(stack, target, seen | {key}):
            return True
    return False


# ----- which upload paths a match takes -----


def upload_paths_routed(routes: Callable[[str], bool], literal: str | None) -> list[str]:
    """The upload paths a match takes: one that takes the path or a path under it (/undeploy/<name>),
    or whose literal path lies under it."""
    return [
        path
        for path in UPLOAD_PATHS
        if routes(path)
        or routes(f"{path}/{_UPLOAD_CHILD}")
        or (literal is not None and (literal == path or literal.startswith(f"{path}/")))
    ]


def element_prefix(prefix: str, path: str) -> bool:
    """Kubernetes `Prefix` and Gateway `PathPrefix`: matched element by element, so /deploy is not /deploy_files."""
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(f"{prefix}/")


def regex_routes(pattern: str, path: str, search: bool) -> bool:
    try:
        found = re.search(pattern, path, re.IGNORECASE) if search else re.fullmatch(pattern, path)
    except re.error:
        return True  # cannot be checked: count it as routed
    return found is not None


# ----- a Service that exposes Hayhooks itself -----


def check_service_exposure(service: KubeObject) -> list[str]:
    if service.spec.get("type") not in _EXPOSING_SERVICE_TYPES:
        return []
    return [
        f"type {service.spec.get('type')} exposes Hayhooks without authentication; use ClusterIP behind an "
        "authenticating Ingress or HTTPRoute"
    ]
