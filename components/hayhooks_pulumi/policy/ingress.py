"""The checks of an Ingress in front of Hayhooks: it authenticates (nginx annotations or a Traefik
middleware, for the controller that serves it) and routes none of the code-upload paths.
Each check returns its messages; the catalog names the rule they break.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..kubernetes.edge.ingress.controllers import NGINX_PREFIX, TRAEFIK_MIDDLEWARES
from .edge import (
    TRAEFIK_GROUPS,
    Stack,
    element_prefix,
    middleware_authenticates,
    points_at,
    regex_routes,
    upload_paths_routed,
)
from .objects import KubeObject, as_mapping, as_seq, dig

INGRESS_GROUPS = {"networking.k8s.io", "extensions"}
_INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
_TRAEFIK_CRD_PROVIDER = "@kubernetescrd"


@dataclass(frozen=True)
class IngressFront:
    """An Ingress with the paths it routes to a Hayhooks Service: (path, pathType) each."""

    stack: Stack
    ingress: KubeObject
    routes: list[tuple[str, str]]

    @property
    def subject(self) -> str:
        return self.ingress.subject

    @property
    def urn(self) -> str | None:
        return self.ingress.urn


def _ingress_routes(ingress: KubeObject, services: list[KubeObject]) -> list[tuple[str, str]]:
    """(path, pathType) of every path whose backend is a Hayhooks Service; the default backend is ('/', Prefix)."""
    routes = []
    default = dig(ingress.spec, "defaultBackend", "service", "name")
    if default is not None and points_at(services, ingress.namespace, default):
        routes.append(("/", "Prefix"))
    for rule in as_seq(ingress.spec.get("rules")):
        for entry in as_seq(dig(rule, "http", "paths")):
            name = dig(entry, "backend", "service", "name")
            if points_at(services, ingress.namespace, name):
                path = as_mapping(entry)
                routes.append((str(path.get("path") or "/"), str(path.get("pathType") or "ImplementationSpecific")))
    return routes


def ingress_fronts(stack: Stack, services: list[KubeObject]) -> Iterator[IngressFront]:
    """Every Ingress that routes to one of the Hayhooks Services."""
    for ingress in stack.of_kind("Ingress", INGRESS_GROUPS):
        routes = _ingress_routes(ingress, services)
        if routes:
            yield IngressFront(stack, ingress, routes)


# ----- authentication -----


def _traefik_reference_authenticates(stack: Stack, reference: str) -> bool:
    if reference in stack.config.trusted_middlewares:
        return True
    if not reference.endswith(_TRAEFIK_CRD_PROVIDER):
        return False
    key = reference[: -len(_TRAEFIK_CRD_PROVIDER)]
    return any(
        f"{m.namespace}-{m.name}" == key and middleware_authenticates(stack, m)
        for m in stack.of_kind("Middleware", TRAEFIK_GROUPS)
    )


def _ingress_controller(ingress: KubeObject) -> str:
    name = ingress.spec.get("ingressClassName") or ingress.annotations.get(_INGRESS_CLASS_ANNOTATION) or ""
    name = str(name).lower()
    return "traefik" if "traefik" in name else "nginx" if "nginx" in name else ""


def _nginx_satisfies_any(ingress: KubeObject) -> bool:
    """`satisfy: any` lets a request through that passes either check: with `whitelist-source-range` covering the
    client (e.g. 0.0.0.0/0), no credentials are asked at all."""
    return str(ingress.annotations.get(f"{NGINX_PREFIX}/satisfy") or "").strip().lower() == "any"


def _nginx_authenticates(ingress: KubeObject) -> bool:
    def annotation(key: str) -> str:
        return str(ingress.annotations.get(f"{NGINX_PREFIX}/{key}") or "").strip()

    if _nginx_satisfies_any(ingress):
        return False
    if annotation("auth-url"):
        return True
    if annotation("auth-type") in ("basic", "digest") and annotation("auth-secret"):
        return True
    return annotation("auth-tls-verify-client") == "on" and bool(annotation("auth-tls-secret"))


def _traefik_authenticates(stack: Stack, ingress: KubeObject) -> bool:
    value = str(ingress.annotations.get(TRAEFIK_MIDDLEWARES) or "")
    references = [part.strip() for part in value.split(",") if part.strip()]
    return any(_traefik_reference_authenticates(stack, ref) for ref in references)


def _ingress_authenticates(stack: Stack, ingress: KubeObject) -> bool:
    """Only the controller that serves the Ingress reads its annotations; an unknown class may be either."""
    controller = _ingress_controller(ingress)
    if controller == "nginx":
        return _nginx_authenticates(ingress)
    if controller == "traefik":
        return _traefik_authenticates(stack, ingress)
    return _nginx_authenticates(ingress) or _traefik_authenticates(stack, ingress)


def check_ingress_authentication(front: IngressFront) -> list[str]:
    ingress = front.ingress
    if _ingress_authenticates(front.stack, ingress):
        return []
    if _nginx_satisfies_any(ingress) and _ingress_controller(ingress) != "traefik":
        return [
            f"routes to Hayhooks with {NGINX_PREFIX}/satisfy: any, which lets a request through that "
            "passes either authentication or the address check (whitelist-source-range): remove it"
        ]
    return [
        "routes to Hayhooks without authentication: add nginx auth annotations (auth-type + "
        "auth-secret, or auth-url) or a Traefik basicAuth/forwardAuth middleware "
        f"({TRAEFIK_MIDDLEWARES}), for the controller that serves it"
    ]


# ----- the code-upload paths -----


def _ingress_path_uploads(path: str, path_type: str, regex: bool) -> list[str]:
    if path_type == "Exact":
        return upload_paths_routed(lambda sample: sample == path, path)
    if regex:
        # ingress-nginx's use-regex: a case-insensitive regex location, matched anywhere in the path.
        return upload_paths_routed(lambda sample: regex_routes(path, sample, search=True), None)
    if path_type == "Prefix":
        return upload_paths_routed(lambda sample: element_prefix(path, sample), path)
    # ImplementationSpecific: a plain string prefix for nginx and Traefik.
    return upload_paths_routed(lambda sample: sample.startswith(path), path)


def check_ingress_upload_routes(front: IngressFront) -> list[str]:
    regex = str(front.ingress.annotations.get(f"{NGINX_PREFIX}/use-regex") or "").lower() == "true"
    problems = []
    for path, path_type in front.routes:
        hits = _ingress_path_uploads(path, path_type, regex)
        if hits:
            problems.append(
                f"path {path!r} ({path_type}) routes {', '.join(hits)} to Hayhooks: route only the "
                "client paths, each Exact (e.g. /<pipeline>/run, /v1/chat/completions, /status)"
            )
    return problems
