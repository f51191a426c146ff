"""The rules of the production guide: each rule's name, what it asks, and the checks that enforce it.

One row per rule. A rule is checked per resource (a CrossGuard ResourceValidationPolicy: each
Hayhooks container of a Kubernetes workload, each Docker container running Hayhooks) or over the
whole stack (a StackValidationPolicy: the Services, Ingresses and HTTPRoutes in front of Hayhooks);
which one follows from the checks it has. A check returns messages; `violations` runs them and
names the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from ..server.facts import STATUS_PATH, UPLOAD_PATHS
from ..tokens import CONTAINER_TOKEN, SERVICE_TOKEN, kind_of
from . import env
from .docker import DockerContainer, check_hardening, check_health_check
from .edge import check_service_exposure
from .httproute import RouteRule, check_route_authentication, check_route_upload_routes
from .ingress import IngressFront, check_ingress_authentication, check_ingress_upload_routes
from .objects import KubeObject
from .workload import (
    PodContainer,
    check_image_digest,
    check_memory_limit,
    check_pipelines_read_only,
    check_restricted_security,
    check_service_links,
    check_status_probes,
)


class Rule(StrEnum):
    """Policy names: CrossGuard's policy names and the keys of a policy config file."""

    IMAGE_DIGEST = "hayhooks-image-digest"
    CORS_NO_WILDCARD = "hayhooks-cors-no-wildcard"
    CORS_CREDENTIALS = "hayhooks-cors-credentials"
    NO_TRACEBACKS = "hayhooks-no-tracebacks"
    LOG_LEVEL = "hayhooks-log-level"
    DURABLE_MODE = "hayhooks-durable-mode"
    PIPELINES_READ_ONLY = "hayhooks-pipelines-read-only"
    STATUS_PROBES = "hayhooks-status-probes"
    MEMORY_LIMIT = "hayhooks-memory-limit"
    RESTRICTED_SECURITY = "hayhooks-restricted-security"
    SERVICE_LINKS = "hayhooks-service-links"
    EDGE_AUTH = "hayhooks-edge-auth"
    NO_UPLOAD_ROUTES = "hayhooks-no-upload-routes"


class Scope(StrEnum):
    """What one evaluation of a rule sees, and so which kind of CrossGuard policy enforces it."""

    RESOURCE = "resource"
    STACK = "stack"


@dataclass(frozen=True)
class RuleSpec:
    """A rule's description (the policy's) and its check of each kind of subject it applies to."""

    description: str
    pod: Callable[[PodContainer], list[str]] | None = None
    """On each Hayhooks container of a Kubernetes workload."""
    docker: Callable[[DockerContainer], list[str]] | None = None
    """On each Docker container that runs Hayhooks."""
    service: Callable[[KubeObject], list[str]] | None = None
    """On each Service that selects Hayhooks pods."""
    ingress: Callable[[IngressFront], list[str]] | None = None
    """On each Ingress that routes to such a Service."""
    route: Callable[[RouteRule], list[str]] | None = None
    """On each HTTPRoute rule whose backends include such a Service."""
    set_by: Mapping[str, str] = field(default_factory=dict)
    """On an object one of the package's components made: the key of its args that sets what the rule checks, by
    component kind (`HayhooksService`), or by component kind and object kind (`HayhooksService/Ingress`). A server
    setting's key comes from the settings table instead, by the variable the message names."""

    @property
    def scope(self) -> Scope:
        edge_checks = (self.service, self.ingress, self.route)
        return Scope.STACK if any(check is not None for check in edge_checks) else Scope.RESOURCE


SERVICE = kind_of(SERVICE_TOKEN)
CONTAINER = kind_of(CONTAINER_TOKEN)

# A Docker container carries no profile, and the development profile deliberately relaxes the
# production-only rules (tracebacks, DEBUG logs, a tag without digest, no memory limit, writable
# pipelines). What holds in every profile is checked: no credentials with any origin, a health
# check on /status, and the container hardening the component always applies.
CATALOG: Mapping[Rule, RuleSpec] = {
    Rule.IMAGE_DIGEST: RuleSpec(
        "A Hayhooks image is pinned by digest (@sha256:...): what runs is what was reviewed.",
        pod=check_image_digest,
        set_by={SERVICE: "image", CONTAINER: "image"},
    ),
    Rule.CORS_NO_WILDCARD: RuleSpec(
        f"{env.ORIGINS_ENV} and {env.METHODS_ENV} are set (the server defaults both to '*') and allow no "
        f"wildcard; {env.ORIGIN_REGEX_ENV} matches no stranger's origin.",
        pod=lambda c: env.check_cors_wildcard(c.env),
    ),
    Rule.CORS_CREDENTIALS: RuleSpec(
        f"{env.CREDENTIALS_ENV} is never true while any origin is allowed.",
        pod=lambda c: env.check_cors_credentials(c.env),
        docker=lambda c: env.check_cors_credentials(c.env),
    ),
    Rule.NO_TRACEBACKS: RuleSpec(
        f"{env.TRACEBACKS_ENV} is off: tracebacks leak code and data to clients.",
        pod=lambda c: env.check_tracebacks(c.env),
    ),
    Rule.LOG_LEVEL: RuleSpec(
        f"The log level ({env.LOG_LEVEL_ENV}, or the legacy {env.LEGACY_LOG_ENV}) is not DEBUG or TRACE, "
        "which log request payloads.",
        pod=lambda c: env.check_log_level(c.env),
    ),
    Rule.DURABLE_MODE: RuleSpec(
        f"{env.DURABLE_ENV} is true: pipelines load once, read-only, and the code-upload routes are removed.",
        pod=lambda c: env.check_durable(c.env),
    ),
    Rule.PIPELINES_READ_ONLY: RuleSpec(
        f"The pipelines directory ({env.PIPELINES_DIR_ENV} or --pipelines-dir) is set and mounted read-only "
        "(or lies on a read-only root filesystem).",
        pod=check_pipelines_read_only,
    ),
    Rule.STATUS_PROBES: RuleSpec(
        f"Health checks ask the server's {STATUS_PATH}: a readiness probe on {STATUS_PATH} or "
        f"{STATUS_PATH}/<pipeline>, a liveness probe, and no HTTP probe elsewhere (GET / answers 404).",
        pod=check_status_probes,
        docker=check_health_check,
    ),
    Rule.MEMORY_LIMIT: RuleSpec(
        "A Hayhooks container has a memory limit (pipelines can grow without bound).",
        pod=check_memory_limit,
        set_by={SERVICE: "resources.memoryLimit", CONTAINER: "resources.memory"},
    ),
    Rule.RESTRICTED_SECURITY: RuleSpec(
        "Pod Security 'restricted' plus a read-only root filesystem: non-root, no privilege escalation, "
        "seccomp RuntimeDefault, all capabilities dropped, no host namespaces or hostPath.",
        pod=check_restricted_security,
        docker=check_hardening,
    ),
    Rule.SERVICE_LINKS: RuleSpec(
        f"enableServiceLinks is false, or {', '.join(env.PORT_ENVS[:-1])} and {env.PORT_ENVS[-1]} are set "
        f"explicitly: a Service named hayhooks would otherwise inject {env.PORT_ENVS[0]}=tcp://... and crash "
        "the server.",
        pod=check_service_links,
    ),
    Rule.EDGE_AUTH: RuleSpec(
        "Every Ingress and HTTPRoute in front of Hayhooks authenticates clients (nginx auth annotations, a "
        "Traefik auth middleware, an Envoy Gateway SecurityPolicy), and no LoadBalancer or NodePort Service "
        "exposes it directly: the server has no authentication of its own.",
        service=check_service_exposure,
        ingress=check_ingress_authentication,
        route=check_route_authentication,
        set_by={f"{SERVICE}/Ingress": "ingress.auth", f"{SERVICE}/HTTPRoute": "gateway.auth"},
    ),
    Rule.NO_UPLOAD_ROUTES: RuleSpec(
        "No Ingress or HTTPRoute in front of Hayhooks routes the code-upload paths "
        f"({', '.join(UPLOAD_PATHS)}): whoever reaches them runs arbitrary Python.",
        ingress=check_ingress_upload_routes,
        route=check_route_upload_routes,
    ),
}

# Checked on each Hayhooks container of a Kubernetes workload.
WORKLOAD_RULES: tuple[Rule, ...] = tuple(rule for rule, spec in CATALOG.items() if spec.pod is not None)
# Checked on each Docker container that runs Hayhooks.
DOCKER_RULES: tuple[Rule, ...] = tuple(rule for rule, spec in CATALOG.items() if spec.docker is not None)
RESOURCE_RULES: tuple[Rule, ...] = tuple(rule for rule, spec in CATALOG.items() if spec.scope is Scope.RESOURCE)
STACK_RULES: tuple[Rule, ...] = tuple(rule for rule, spec in CATALOG.items() if spec.scope is Scope.STACK)
