"""CORS at the edge, mirroring the server's CORS settings: the origins either edge's CORS takes. What each edge
writes, and what else it cannot mirror, is its own (`edge.gateway.cors`, `edge.ingress.cors`).

An edge that authenticates must answer browsers' preflight requests itself, before authentication: a preflight
carries no credentials, so behind the authentication it gets 401 and the browser blocks the real request.
"""

from __future__ import annotations

import re

from ...errors import Problem
from ...server.cors import CorsSettings

# The HTTPRoute CRD's origin pattern (gateway.networking.k8s.io/v1, standard channel); ingress-nginx's is as strict.
_ORIGIN = re.compile(r"^(\*|https?://((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:[0-9]{1,5})?)\Z")


def origin_problems(cors: CorsSettings, prefix: str, edge: str) -> list[Problem]:
    """Origins that are not host names (an IP literal in brackets), which the Gateway API and ingress-nginx refuse."""
    return [
        Problem(
            f"{prefix}.allowOrigins[{index}]",
            f"{origin!r} cannot be mirrored by {edge} takes host names only (no IP literal in brackets)",
        )
        for index, origin in enumerate(cors.allow_origins)
        if not _ORIGIN.match(origin)
    ]
