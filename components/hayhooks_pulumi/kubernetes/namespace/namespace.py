"""The namespace, labelled so the API server enforces Pod Security `restricted`: created, or adopted
with server-side apply when it may exist already."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from ...profile import Profile
from ..metadata import owner_annotations
from ..plan import ServicePlan

POD_SECURITY_LABELS = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")} | {
    f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")
}


def namespace_args(plan: ServicePlan) -> k8s.core.v1.NamespaceInitArgs:
    return k8s.core.v1.NamespaceInitArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=plan.namespace,
            labels={**plan.labels, **POD_SECURITY_LABELS},
            annotations=owner_annotations(),
        )
    )


# An adopted namespace's labels may be owned by another field manager (kubectl, a platform's tool):
# the component takes them over rather than fail on the conflict.
PATCH_FORCE = "pulumi.com/patchForce"


def namespace_patch_args(plan: ServicePlan) -> k8s.core.v1.NamespacePatchArgs:
    """Server-side apply of the labels alone: creates the namespace if it is missing, else labels it; deleting
    the patch removes only these labels."""
    return k8s.core.v1.NamespacePatchArgs(
        metadata=k8s.meta.v1.ObjectMetaPatchArgs(
            name=plan.namespace,
            labels={**plan.labels, **POD_SECURITY_LABELS},
            annotations={PATCH_FORCE: "true"},
        )
    )


def retains_namespace(plan: ServicePlan) -> bool:
    retain = plan.args.namespace.retain
    return plan.args.profile is Profile.PRODUCTION if retain is None else retain
