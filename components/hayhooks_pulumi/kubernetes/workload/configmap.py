"""The pipelines as an immutable ConfigMap named by their checksum; keys cannot hold '/', so volume `items` map
them back to paths."""

from __future__ import annotations

import base64

import pulumi_kubernetes as k8s

from ..metadata import object_meta
from ..plan import ServicePlan
from .configmap_keys import configmap_key


def pipeline_keys(plan: ServicePlan) -> dict[str, str]:
    """ConfigMap key by file path (the plan refused paths whose keys collide)."""
    return {path: configmap_key(path) for path in plan.pipelines.files}


def configmap_name(plan: ServicePlan) -> str:
    """`<name>-pipelines-<first 8 hex of the pipelines' checksum>`: new content is a new ConfigMap, so pods
    mid-rollout and restarting old pods keep the files they started with, and the name change in the pod
    template is what rolls the pods."""
    return plan.child(f"pipelines-{plan.pipelines.short_checksum}")


def configmap_args(plan: ServicePlan) -> k8s.core.v1.ConfigMapInitArgs:
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for path, key in pipeline_keys(plan).items():
        content = plan.pipelines.files[path]
        try:
            data[key] = content.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(content).decode()
    return k8s.core.v1.ConfigMapInitArgs(
        metadata=object_meta(plan, configmap_name(plan)),
        data=data or None,
        binary_data=binary or None,
        # Content never changes under a name: Pulumi replaces the ConfigMap (the new one exists before the
        # Deployment points at it, the old one is deleted after), and the kubelet stops watching it.
        immutable=True,
    )


def configmap_items(plan: ServicePlan) -> list[k8s.core.v1.KeyToPathArgs]:
    return [k8s.core.v1.KeyToPathArgs(key=key, path=path) for path, key in pipeline_keys(plan).items()]
