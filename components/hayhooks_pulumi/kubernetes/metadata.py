"""Object metadata: every object names its namespace and carries the recommended labels."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from .plan import ServicePlan


def object_meta(
    plan: ServicePlan,
    name: str | None,
    annotations: Mapping[str, pulumi.Input[str]] | None = None,
    namespace: str | None = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """`namespace` defaults to the service's; the Gateway API route may live elsewhere. `name` None: the
    provider names the object after its resource, with a random suffix (see `secrets.opaque.opaque_secret_args`)."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name,
        namespace=namespace or plan.namespace_input,
        labels=plan.labels,
        annotations=annotations or None,
    )


def selector(plan: ServicePlan) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels=plan.selector)
