"""What the production profile refuses, each with the config key to change."""

from __future__ import annotations

from ..errors import Problem
from ..rules import server_problems
from .args import HayhooksServiceArgs
from .edge.gateway.models import GatewayArgs
from .edge.ingress.annotations import owned_annotations
from .edge.ingress.controllers import NGINX_PREFIX, TRAEFIK_MIDDLEWARES
from .edge.ingress.models import AuthType

__all__ = ["server_problems", "service_problems"]


def service_problems(args: HayhooksServiceArgs) -> list[Problem]:
    """Production rules of a Kubernetes service."""
    problems = server_problems(args.server)
    if args.resources.memory_limit is None:
        problems.append(
            Problem("resources.memoryLimit", "required in production (a pod without one can starve its node)")
        )
    if args.autoscaling.enabled:
        if args.autoscaling.min_replicas < 2:
            problems.append(
                Problem(
                    "autoscaling.minReplicas",
                    "must be at least 2 in production (one pod is an outage during a rollout or drain)",
                )
            )
    elif args.replicas < 2:
        problems.append(
            Problem("replicas", "must be at least 2 in production (one pod is an outage during a rollout or drain)")
        )
    if args.ingress is not None:
        if args.ingress.auth is AuthType.NONE:
            problems.append(
                Problem(
                    "ingress.auth",
                    "'none' is refused in production: a public edge needs authentication (basic or external)",
                )
            )
        if args.ingress.tls_secret_name is None:
            problems.append(
                Problem(
                    "ingress.tlsSecretName",
                    "required in production: the server has no TLS of its own, it ends at the ingress",
                )
            )
        problems.extend(production_annotation_problems(args))
    if args.gateway is not None:
        problems.extend(gateway_problems(args.gateway))
    return problems


def production_annotation_problems(args: HayhooksServiceArgs) -> list[Problem]:
    """User annotations that weaken the edge's authentication without replacing one of the component's (those are
    refused in every profile, naming their option)."""
    assert args.ingress is not None
    notes = args.ingress.annotations
    owned = owned_annotations(args)
    satisfy = f"{NGINX_PREFIX}/satisfy"
    problems = []
    for key in notes:
        path = f"ingress.annotations.{key}"
        if key in owned:
            continue
        if key == satisfy:
            problems.append(
                Problem(
                    path,
                    "refused in production: with satisfy any, a client in whitelist-source-range passes without "
                    "credentials; the edge's authentication (ingress.auth) must hold for every request",
                )
            )
        elif key.startswith(f"{NGINX_PREFIX}/auth-"):
            problems.append(
                Problem(
                    path,
                    "refused in production: authentication at the edge is set by ingress.auth (and "
                    "ingress.externalAuth); another auth annotation would replace or weaken it",
                )
            )
        elif key == f"{NGINX_PREFIX}/whitelist-source-range" and satisfy in notes:
            problems.append(
                Problem(
                    path, "refused in production with satisfy: a client in this range would pass without credentials"
                )
            )
        elif key == TRAEFIK_MIDDLEWARES:
            problems.append(
                Problem(
                    path,
                    "refused in production: the router's middlewares are the component's (authentication from "
                    "ingress.auth, CORS from server.cors); a list here would replace them",
                )
            )
    return problems


def gateway_problems(gateway: GatewayArgs) -> list[Problem]:
    """Production rules of the Gateway API edge."""
    problems = []
    if gateway.auth.none:
        problems.append(
            Problem(
                "gateway.auth.none",
                "refused in production: a public edge needs authentication (apiKey, basic, jwt or oidc)",
            )
        )
    for index, ref in enumerate(gateway.parent_refs):
        if ref.section_name is None:
            problems.append(
                Problem(
                    f"gateway.parentRefs[{index}].sectionName",
                    "required in production: name the HTTPS listener, or the route also attaches to any plain-HTTP "
                    "listener of the Gateway, where credentials cross the network in clear text",
                )
            )
    if gateway.auth.jwt is not None and not gateway.auth.jwt.audiences:
        problems.append(
            Problem(
                "gateway.auth.jwt.audiences",
                "at least one in production: without, every token the issuer signs for any application is accepted",
            )
        )
    oidc = gateway.auth.oidc
    if oidc is not None and oidc.redirect_url is not None and not oidc.redirect_url.startswith("https://"):
        problems.append(
            Problem("gateway.auth.oidc.redirectUrl", "must be https in production: the session cookie is secure")
        )
    return problems
