"""The namespace, labelled so the API server enforces Pod Security `restricted`."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from .plan import ServicePlan

POD_SECURITY_LABELS = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")} | {
    f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")
}


def namespace_args(plan: ServicePlan) -> k8s.core.v1.NamespaceInitArgs:
    return k8s.core.v1.NamespaceInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=plan.namespace,
            labels={**plan.labels, **POD_SECURITY_LABELS},
        )
    )
