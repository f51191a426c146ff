"""CORS at the Ingress: ingress-nginx's CORS annotations or a Traefik headers Middleware mirroring `server.cors`,
and what each cannot mirror."""

from __future__ import annotations

import re
from typing import Any

from ....errors import Problem
from ....server.cors import CorsSettings
from ....server.facts import WILDCARD
from ..cors import origin_problems
from .controllers import CONTROLLER_NAMES, NGINX_PREFIX, IngressController

# ingress-nginx's check of the header lists (internal/ingress/annotations/cors): a header outside it makes the
# controller drop the whole list for its own default.
_NGINX_HEADER = re.compile(r"^[A-Za-z0-9_-]+\Z")


def ingress_mirrors_cors(cors: CorsSettings, authenticates: bool) -> bool:
    """An authenticating Ingress answers CORS itself when the server allows any origin; without authentication
    the preflight reaches the server, which answers it."""
    return authenticates and (bool(cors.allow_origins) or cors.allow_origin_regex is not None)


def ingress_cors_problems(
    cors: CorsSettings, controller: IngressController, authenticates: bool, prefix: str = "server.cors"
) -> list[Problem]:
    """Why the Ingress cannot mirror these settings exactly (only where it must mirror them), each naming the
    server key to change."""
    if not ingress_mirrors_cors(cors, authenticates):
        return []
    edge = CONTROLLER_NAMES[controller]
    problems = []
    if cors.allow_origin_regex is not None:
        problems.append(
            Problem(
                f"{prefix}.allowOriginRegex",
                f"the Ingress answers browsers' preflights before authentication (they carry no credentials), and "
                f"its {edge} CORS has no origin regex the server's could be mirrored to: list the origins in "
                "allowOrigins",
            )
        )
    if not cors.allow_methods:
        # The server then refuses every preflight; an edge without the header lets GET, HEAD and POST through.
        problems.append(
            Problem(f"{prefix}.allowMethods", f"empty cannot be mirrored by {edge}: list the methods, e.g. GET, POST")
        )
    if controller is IngressController.NGINX:
        problems += origin_problems(cors, prefix, "the Ingress: ingress-nginx")
        for key, values in (("allowMethods", cors.allow_methods), ("allowHeaders", cors.allow_headers)):
            if (not values and key == "allowHeaders") or WILDCARD in values:
                what = "'*'" if values else "empty"
                problems.append(
                    Problem(
                        f"{prefix}.{key}",
                        f"{what} cannot be mirrored by ingress-nginx, which then answers with its own default list: "
                        "list the entries",
                    )
                )
        for key, values in (("allowHeaders", cors.allow_headers), ("exposeHeaders", cors.expose_headers)):
            for index, header in enumerate(values):
                if header != WILDCARD and not _NGINX_HEADER.match(header):
                    problems.append(
                        Problem(
                            f"{prefix}.{key}[{index}]",
                            f"{header!r} cannot be mirrored by ingress-nginx, which takes letters, digits, '-' and "
                            "'_' only (any other header drops the whole list for its default)",
                        )
                    )
    elif cors.allow_credentials:
        for key, values in (("allowMethods", cors.allow_methods), ("allowHeaders", cors.allow_headers)):
            if WILDCARD in values:
                problems.append(
                    Problem(
                        f"{prefix}.{key}",
                        "'*' with allowCredentials cannot be mirrored by Traefik, which sends '*' as it is, and "
                        "browsers read it as a wildcard only without credentials: list the entries",
                    )
                )
    return problems


def nginx_cors_annotations(cors: CorsSettings) -> dict[str, str]:
    """ingress-nginx's CORS annotations (checked by `ingress_cors_problems` first). The controller answers a
    matching preflight with 204 in nginx's rewrite phase, before the access phase that authenticates, and sets the
    headers on the other answers. Several origins need controller v1.1 or later (kubernetes/ingress-nginx#7614).
    Credentials are always written: the controller's default is true."""
    result = {
        "enable-cors": "true",
        "cors-allow-origin": ", ".join(cors.allow_origins),
        "cors-allow-methods": ", ".join(cors.allow_methods),
        "cors-allow-headers": ", ".join(cors.allow_headers),
        "cors-allow-credentials": "true" if cors.allow_credentials else "false",
        "cors-max-age": str(cors.max_age),
    }
    if cors.expose_headers:
        result["cors-expose-headers"] = ", ".join(cors.expose_headers)
    return {f"{NGINX_PREFIX}/{key}": value for key, value in result.items()}


def traefik_cors_headers(cors: CorsSettings) -> dict[str, Any]:
    """A Traefik `headers` Middleware spec (checked by `ingress_cors_problems` first). Listed before the auth
    middleware, it answers a preflight itself (any OPTIONS with Origin and Access-Control-Request-Method) without
    calling the next middleware, and sets the headers on the other answers."""
    headers: dict[str, Any] = {
        "accessControlAllowOriginList": list(cors.allow_origins),
        "accessControlAllowMethods": list(cors.allow_methods),
        "accessControlAllowHeaders": list(cors.allow_headers),
        "accessControlAllowCredentials": cors.allow_credentials,
        "accessControlMaxAge": cors.max_age,
        "addVaryHeader": True,
    }
    if cors.expose_headers:
        headers["accessControlExposeHeaders"] = list(cors.expose_headers)
    return {"headers": headers}
