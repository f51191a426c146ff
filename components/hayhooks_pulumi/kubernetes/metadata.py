"""Object metadata: every object names its namespace, carries the recommended labels, and says which stack manages
it (`hayhooks.deepset.ai/stack`)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from .plan import ServicePlan

# Which stack's program manages an object: `<project>/<stack>`. It is what keeps a second stack off
# the first one's objects: both set it, to different values, and server-side apply refuses a field another manager
# set to another value. Without it, pulumi-kubernetes before 4.29 (which applies a create) lets a second stack with
# the same settings take the first one's objects over silently, and its `destroy` would delete them.
STACK_ANNOTATION = "hayhooks.deepset.ai/stack"


def stack_identity() -> str:
    return f"{pulumi.get_project()}/{pulumi.get_stack()}"


def owner_annotations() -> dict[str, str]:
    return {STACK_ANNOTATION: stack_identity()}


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
        annotations={**owner_annotations(), **(annotations or {})},
    )


def selector(plan: ServicePlan) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels=plan.selector)
