"""What the Gateway API edge must hold besides each value's own rule: an OIDC client secret Envoy Gateway can
read and a callback URL, paths of its own that fit one HTTPRoute, CORS it can mirror; and in production
authentication on HTTPS listeners only."""

from __future__ import annotations

from ....errors import Problem
from ....server.facts import UPLOAD_PATHS
from ...proposal import Proposal
from ...secrets.checks import source_problems
from ..routes import client_paths
from ..secret_keys import OIDC_SECRET_KEY
from .cors import cors_problems
from .models import MAX_ROUTE_MATCHES
from .oidc import OIDC_CLIENT_SECRET_VALUE, gateway_extra_paths, oidc_redirect_url


def gateway_problems(proposal: Proposal) -> list[Problem]:
    """Every profile: the OIDC client secret and callback, the paths to route, the CORS to mirror."""
    args, pipelines = proposal.args, proposal.pipelines
    gateway = args.gateway
    if gateway is None:
        return []
    problems = []
    oidc = gateway.auth.oidc
    if oidc is not None:
        path = "gateway.auth.oidc"
        source = oidc.client_secret
        given = OIDC_CLIENT_SECRET_VALUE in proposal.given
        problems += source_problems(args, source, f"{path}.clientSecret", OIDC_CLIENT_SECRET_VALUE, given)
        if source.from_secret is not None and source.from_secret.key != OIDC_SECRET_KEY:
            problems.append(
                Problem(
                    f"{path}.clientSecret.fromSecret.key",
                    f"must be {OIDC_SECRET_KEY!r}: Envoy Gateway reads the client secret from that key only",
                )
            )
        if source.from_csi is not None and not source.from_csi.sync:
            problems.append(
                Problem(
                    f"{path}.clientSecret.fromCsi.sync",
                    "must be true: Envoy Gateway reads the client secret from a Secret, not from a pod's files",
                )
            )
        if oidc_redirect_url(gateway) is None:
            problems.append(
                Problem(
                    f"{path}.redirectUrl",
                    "required when gateway.hostnames names no concrete host: the callback URL registered at the "
                    "provider",
                )
            )
    if pipelines is not None:
        served = client_paths(pipelines.names, expose_status=gateway.expose_status, expose_docs=gateway.expose_docs)
        for extra in gateway_extra_paths(gateway):
            if extra in served or extra.startswith(UPLOAD_PATHS):
                problems.append(
                    Problem(
                        "gateway.auth.oidc",
                        f"{extra} is a path of the server; choose another redirectUrl path or logoutPath for OIDC",
                    )
                )
        total = len(served) + len(gateway_extra_paths(gateway))
        if total > MAX_ROUTE_MATCHES:
            problems.append(
                Problem(
                    "pipelinesPath",
                    f"{total} paths to route, more than an HTTPRoute holds ({MAX_ROUTE_MATCHES}); split the "
                    "pipelines over several services",
                )
            )
    if gateway.cors:
        problems += cors_problems(args.server.cors)
    return problems


def production_problems(proposal: Proposal) -> list[Problem]:
    """Authentication at the gateway, on HTTPS listeners only, for this application's tokens, with a secure
    OIDC session."""
    gateway = proposal.args.gateway
    if gateway is None:
        return []
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
