"""What the Ingress edge must hold besides each value's own rule: the external auth it names, no annotation that
replaces or (in production) weakens the component's, TLS and authentication in production, and CORS it can
mirror."""

from __future__ import annotations

from ....errors import Problem
from ...args import HayhooksServiceArgs
from ...proposal import Proposal
from .annotations import Owned, authenticates, owned_annotations
from .controllers import NGINX_PREFIX, TRAEFIK_MIDDLEWARES
from .cors import ingress_cors_problems
from .models import AuthType, IngressArgs


def ingress_problems(proposal: Proposal) -> list[Problem]:
    """Every profile: `auth: external` names its service, and no user annotation replaces one the component sets."""
    args = proposal.args
    ingress = args.ingress
    if ingress is None:
        return []
    problems = []
    if ingress.auth is AuthType.EXTERNAL and ingress.external_auth is None:
        problems.append(Problem("ingress.externalAuth", "required with auth: external (at least its address)"))
    owned = owned_annotations(args)
    problems += [_owned_problem(key, owned[key]) for key in ingress.annotations if key in owned]
    return problems


def _owned_problem(key: str, owned: Owned) -> Problem:
    if owned.option is None:
        return Problem(f"ingress.annotations.{key}", f"the component sets this annotation: {owned.why}")
    return Problem(
        f"ingress.annotations.{key}",
        f"the component sets this annotation from {owned.option}: change that instead (an annotation here would "
        "replace the component's value)",
    )


def production_problems(proposal: Proposal) -> list[Problem]:
    """Authentication and TLS at the edge, and no annotation that weakens the authentication."""
    args = proposal.args
    ingress = args.ingress
    if ingress is None:
        return []
    problems = []
    if ingress.auth is AuthType.NONE:
        problems.append(
            Problem(
                "ingress.auth",
                "'none' is refused in production: a public edge needs authentication (basic or external)",
            )
        )
    if ingress.tls_secret_name is None:
        problems.append(
            Problem(
                "ingress.tlsSecretName",
                "required in production: the server has no TLS of its own, it ends at the ingress",
            )
        )
    return problems + _production_annotation_problems(args, ingress)


def _production_annotation_problems(args: HayhooksServiceArgs, ingress: IngressArgs) -> list[Problem]:
    """User annotations that weaken the edge's authentication without replacing one of the component's (those are
    refused in every profile, naming their option)."""
    notes = ingress.annotations
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


def cors_problems(proposal: Proposal) -> list[Problem]:
    """What the Ingress cannot mirror of `server.cors`, where it must answer CORS itself."""
    ingress = proposal.args.ingress
    if ingress is None:
        return []
    return ingress_cors_problems(proposal.args.server.cors, ingress.controller, authenticates(ingress))
