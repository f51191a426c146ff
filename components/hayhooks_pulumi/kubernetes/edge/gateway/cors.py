"""CORS at the gateway: the Gateway API's standard CORS filter mirroring `server.cors`, and what it cannot
mirror."""

from __future__ import annotations

from typing import Any

from ....errors import Problem
from ....server.cors import CorsSettings
from ....server.facts import WILDCARD
from ..cors import origin_problems

# The HTTPRoute CRD's CORS methods (gateway.networking.k8s.io/v1, standard channel).
METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", WILDCARD}


def cors_problems(cors: CorsSettings, prefix: str = "server.cors") -> list[Problem]:
    """Why `gateway.cors` cannot mirror these settings exactly, each naming the server key to change."""
    problems = []
    if cors.allow_origin_regex is not None:
        problems.append(
            Problem(
                f"{prefix}.allowOriginRegex",
                "the Gateway API CORS filter has no origin regex: list the origins in allowOrigins, or leave "
                "gateway.cors off (the server then answers CORS itself)",
            )
        )
    if not cors.allow_origins and cors.allow_origin_regex is None:
        problems.append(
            Problem(
                f"{prefix}.allowOrigins",
                "empty, so gateway.cors has nothing to mirror: list the origins or leave gateway.cors off",
            )
        )
    problems += origin_problems(cors, prefix, "gateway.cors: the Gateway API CORS filter")
    for key, values in (
        ("allowOrigins", cors.allow_origins),
        ("allowMethods", cors.allow_methods),
        ("allowHeaders", cors.allow_headers),
    ):
        if WILDCARD in values and len(values) > 1:
            problems.append(
                Problem(f"{prefix}.{key}", "'*' with other entries cannot be mirrored by gateway.cors: use '*' alone")
            )
    for index, method in enumerate(cors.allow_methods):
        if method not in METHODS:
            problems.append(Problem(f"{prefix}.allowMethods[{index}]", f"{method} is not a Gateway API CORS method"))
    if cors.max_age < 1:
        problems.append(
            Problem(
                f"{prefix}.maxAge",
                "0 cannot be mirrored by gateway.cors: the Gateway API CORS filter caches preflights at least 1 second",
            )
        )
    return problems


def cors_filter(cors: CorsSettings) -> dict[str, Any]:
    """An HTTPRoute `CORS` filter with the server's settings (checked by `cors_problems` first)."""
    spec: dict[str, Any] = {"allowOrigins": list(cors.allow_origins), "allowMethods": list(cors.allow_methods)}
    if cors.allow_headers:
        spec["allowHeaders"] = list(cors.allow_headers)
    if cors.expose_headers:
        spec["exposeHeaders"] = list(cors.expose_headers)
    if cors.allow_credentials:
        # Older CRDs accept only `true` here, so false is left out (the same meaning).
        spec["allowCredentials"] = True
    spec["maxAge"] = cors.max_age
    return {"type": "CORS", "cors": spec}
