"""The graph draws objects a consumer's program adds beside the components: written by hand, they leave out what
the API server defaults (a pod template's metadata, an ExternalSecret's target, an Ingress backend that is not a
Service). A render must not fail on them; they are drawn with what they say."""

from __future__ import annotations

from typing import Any

from hayhooks_pulumi.render.graph import kubernetes_graph


def _object(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": name, "namespace": "apps"}, "spec": spec}


def test_hand_written_objects_without_defaulted_fields_are_drawn() -> None:
    objects = [
        _object("Deployment", "worker", {"template": {"spec": {"containers": [{"name": "w", "image": "worker:1"}]}}}),
        _object("Deployment", "empty", {}),
        _object("ExternalSecret", "tokens", {"secretStoreRef": {"name": "vault"}, "data": []}),
        _object(
            "Ingress",
            "static",
            {"rules": [{"host": "a.example.com", "http": {"paths": [{"path": "/", "backend": {"resource": {}}}]}}]},
        ),
        _object("HorizontalPodAutoscaler", "loose", {"maxReplicas": 3}),
    ]

    graph = kubernetes_graph(objects)

    assert "Deployment worker (apps)<br/>worker:1" in graph
    assert "Deployment empty (apps)" in graph
    assert "Ingress static" in graph
    assert "http://a.example.com" in graph
