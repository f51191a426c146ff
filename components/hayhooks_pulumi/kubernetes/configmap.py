"""The pipelines as a ConfigMap: keys cannot hold '/', so volume `items` map them back to paths."""

from __future__ import annotations

import base64
import re

import pulumi_kubernetes as k8s

from .metadata import object_meta
from .plan import ServicePlan

_KEY_UNSAFE = re.compile(r"[^-._a-zA-Z0-9]")


def configmap_key(path: str) -> str:
    """`greeter/pipeline_wrapper.py` -> `greeter--pipeline_wrapper.py` (collisions are checked)."""
    return _KEY_UNSAFE.sub("_", path.replace("/", "--"))


def pipeline_keys(plan: ServicePlan) -> dict[str, str]:
    """ConfigMap key by file path."""
    keys = {path: configmap_key(path) for path in plan.pipelines.files}
    if len(set(keys.values())) != len(keys):
        raise ValueError("pipeline file names collide once '/' is replaced; rename one of them")
    return keys


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
        metadata=object_meta(plan, plan.child("pipelines")),
        data=data or None,
        binary_data=binary or None,
        immutable=False,
    )


def configmap_items(plan: ServicePlan) -> list[k8s.core.v1.KeyToPathArgs]:
    return [k8s.core.v1.KeyToPathArgs(key=key, path=path) for path, key in pipeline_keys(plan).items()]
