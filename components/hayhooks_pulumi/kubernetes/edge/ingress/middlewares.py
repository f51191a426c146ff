"""Traefik's Middlewares of the Ingress: the authentication (basicAuth or forwardAuth) and the headers
Middleware that answers CORS."""

from __future__ import annotations

from typing import Any

import pulumi

from ...metadata import object_meta
from ...plan import ServicePlan
from .annotations import AUTH_MIDDLEWARE, CORS_MIDDLEWARE, traefik_middlewares
from .cors import traefik_cors_headers
from .ingress import ingress_spec
from .models import AuthType

TRAEFIK_API = "traefik.io/v1alpha1"


def middleware_name(plan: ServicePlan) -> str:
    return plan.child(AUTH_MIDDLEWARE)


def cors_middleware_name(plan: ServicePlan) -> str:
    return plan.child(CORS_MIDDLEWARE)


def uses_middleware(plan: ServicePlan) -> bool:
    """Traefik authenticates through a Middleware (basicAuth or forwardAuth)."""
    return AUTH_MIDDLEWARE in traefik_middlewares(plan.args)


def uses_cors_middleware(plan: ServicePlan) -> bool:
    """Traefik answers CORS in a headers Middleware before the authentication."""
    return CORS_MIDDLEWARE in traefik_middlewares(plan.args)


def traefik_middleware(plan: ServicePlan, auth_secret: pulumi.Input[str] | None) -> dict[str, Any]:
    """Keyword arguments of a Traefik Middleware CustomResource: basicAuth (reading `auth_secret`, the name the
    htpasswd Secret got) or forwardAuth."""
    ingress = ingress_spec(plan)
    if ingress.auth is AuthType.EXTERNAL:
        external = ingress.external_auth
        assert external is not None
        forward: dict[str, Any] = {"address": external.address}
        if external.response_headers:
            forward["authResponseHeaders"] = list(external.response_headers)
        if external.signin_url is not None:
            forward["authSigninURL"] = external.signin_url
        spec: dict[str, Any] = {"forwardAuth": forward}
    else:
        spec = {
            "basicAuth": {
                "secret": auth_secret,
                "realm": ingress.basic_auth.realm,
                "removeHeader": True,
            }
        }
    return _middleware(plan, middleware_name(plan), spec)


def traefik_cors_middleware(plan: ServicePlan) -> dict[str, Any]:
    """Keyword arguments of the Traefik headers Middleware that answers CORS, mirroring `server.cors`."""
    return _middleware(plan, cors_middleware_name(plan), traefik_cors_headers(plan.args.server.cors))


def _middleware(plan: ServicePlan, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"api_version": TRAEFIK_API, "kind": "Middleware", "metadata": object_meta(plan, name), "spec": spec}
