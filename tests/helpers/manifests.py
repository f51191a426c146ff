"""Hand-written Kubernetes manifests the policy rules are checked on: a Hayhooks Deployment that follows the
production guide and one that breaks it, its Service and Ingress, as another team might write them."""

from __future__ import annotations

from typing import Any

from hayhooks_pulumi.policy.objects import Resource

DIGEST = "sha256:" + "a" * 64


LABELS = {"app.kubernetes.io/name": "assistant"}


Manifest = dict[str, Any]


def secure_deployment() -> Manifest:
    """A Hayhooks Deployment that follows the production guide, written as another team might."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "assistant", "namespace": "ai"},
        "spec": {
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": {**LABELS, "tier": "api"}},
                "spec": {
                    "enableServiceLinks": False,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [
                        {
                            "name": "server",
                            "image": f"registry.example.com/mirror/hayhooks:v2.1.0@{DIGEST}",
                            "env": [
                                {"name": "HAYHOOKS_CORS_ALLOW_ORIGINS", "value": '["https://app.example.com"]'},
                                {"name": "HAYHOOKS_CORS_ALLOW_METHODS", "value": '["GET", "POST"]'},
                                {"name": "HAYHOOKS_CORS_ALLOW_CREDENTIALS", "value": "true"},
                                {"name": "HAYHOOKS_SHOW_TRACEBACKS", "value": "false"},
                                {"name": "HAYHOOKS_LOG_LEVEL", "value": "INFO"},
                                {"name": "HAYHOOKS_DURABLE_MODE", "value": "true"},
                                {"name": "HAYHOOKS_PIPELINES_DIR", "value": "/srv/pipelines"},
                                {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "llm", "key": "k"}}},
                            ],
                            "volumeMounts": [
                                {"name": "pipelines", "mountPath": "/srv/pipelines", "readOnly": True},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                            "readinessProbe": {"httpGet": {"path": "/status/assistant", "port": 1416}},
                            "livenessProbe": {"tcpSocket": {"port": 1416}},
                            "startupProbe": {"httpGet": {"path": "/status", "port": 1416}},
                            "resources": {"limits": {"memory": "2Gi"}},
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "runAsUser": 10001,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                    "volumes": [
                        {"name": "pipelines", "configMap": {"name": "assistant-pipelines"}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }


def insecure_deployment() -> Manifest:
    """Everything the production guide warns about, in one Deployment."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "assistant", "namespace": "ai"},
        "spec": {
            "selector": {"matchLabels": LABELS},
            "template": {
                "metadata": {"labels": LABELS},
                "spec": {
                    "containers": [
                        {
                            "name": "server",
                            "image": "deepset/hayhooks:v2.1.0",
                            "env": [
                                {"name": "HAYHOOKS_CORS_ALLOW_ORIGINS", "value": '["*"]'},
                                {"name": "HAYHOOKS_CORS_ALLOW_CREDENTIALS", "value": "True"},
                                {"name": "HAYHOOKS_SHOW_TRACEBACKS", "value": "yes"},
                                {"name": "LOG", "value": "debug"},
                                {"name": "HAYHOOKS_PIPELINES_DIR", "value": "/pipelines"},
                            ],
                            "volumeMounts": [{"name": "pipelines", "mountPath": "/pipelines"}],
                            "livenessProbe": {"httpGet": {"path": "/", "port": 1416}},
                            "securityContext": {"allowPrivilegeEscalation": True},
                        }
                    ],
                    "volumes": [{"name": "pipelines", "hostPath": {"path": "/srv/pipelines"}}],
                },
            },
        },
    }


def service(name: str = "assistant", selector: dict[str, str] | None = None, kind: str = "ClusterIP") -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "ai"},
        "spec": {"type": kind, "selector": LABELS if selector is None else selector, "ports": [{"port": 80}]},
    }


def ingress(
    paths: list[tuple[str, str]] | None = None,
    annotations: dict[str, str] | None = None,
    class_name: str | None = "nginx",
    backend: str = "assistant",
) -> Manifest:
    paths = [("/assistant/run", "Exact"), ("/status", "Exact")] if paths is None else paths
    spec: Manifest = {
        "rules": [
            {
                "host": "ai.example.com",
                "http": {
                    "paths": [
                        {"path": p, "pathType": t, "backend": {"service": {"name": backend, "port": {"number": 80}}}}
                        for p, t in paths
                    ]
                },
            }
        ]
    }
    if class_name:
        spec["ingressClassName"] = class_name
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "assistant", "namespace": "ai", "annotations": annotations or {}},
        "spec": spec,
    }


NGINX_BASIC = {
    "nginx.ingress.kubernetes.io/auth-type": "basic",
    "nginx.ingress.kubernetes.io/auth-secret": "assistant-htpasswd",
}


def resource(manifest: Manifest) -> Resource:
    """As Pulumi's policy engine and resources.json name it: kubernetes:<group/version>:<Kind>."""
    api = manifest["apiVersion"]
    module = "core/v1" if api == "v1" else api
    return Resource(f"kubernetes:{module}:{manifest['kind']}", manifest, manifest["metadata"]["name"])
