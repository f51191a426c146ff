"""What the public edge routes, for every edge kind: exact paths clients need, never the code-upload routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...server.facts import CLIENT_PATHS, DOCS_PATHS, STATUS_PATH

if TYPE_CHECKING:  # the plan imports this module to check the routes it will build
    from ..plan import ServicePlan


def client_paths(pipeline_names: Sequence[str], *, expose_status: bool, expose_docs: bool) -> list[str]:
    """Exact paths: each pipeline's run endpoint, the OpenAI-compatible API, status, optionally docs."""
    paths = [f"/{name}/run" for name in pipeline_names] + list(CLIENT_PATHS)
    if expose_status:
        paths.append(STATUS_PATH)
    if expose_docs:
        paths.extend(DOCS_PATHS)
    return paths


def routed_paths(plan: ServicePlan) -> list[str]:
    """Exact paths of the public edge (Ingress or HTTPRoute): each pipeline's run endpoint, the
    OpenAI-compatible API, status, optionally docs; never the code-upload routes."""
    edge = plan.edge
    assert edge is not None
    return client_paths(plan.pipelines.names, expose_status=edge.expose_status, expose_docs=edge.expose_docs)
