"""The render's mock engine runs the program's transforms on the inputs, as the engine does: a resource's own, then
its parents' (a component's reach every child), then the stack's; the SDK's mock monitor alone runs none."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from helpers import engine


def _tag(label: str) -> Any:
    """A transform that appends `label` to the ConfigMaps' data key `trail`."""

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != "kubernetes:core/v1:ConfigMap":
            return None
        args.props["data"]["trail"] += f"{label};"
        return pulumi.ResourceTransformResult(args.props, args.opts)

    return transform


class Box(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Box", name, None, opts)
        inner = pulumi.ComponentResource("test:index:Inner", f"{name}-inner", None, pulumi.ResourceOptions(parent=self))
        k8s.core.v1.ConfigMap(
            f"{name}-map",
            data={"trail": ""},
            opts=pulumi.ResourceOptions(parent=inner, transforms=[_tag("own")]),
        )


def test_own_then_each_parents_then_the_stacks_transforms_change_the_registered_inputs() -> None:
    def program() -> None:
        pulumi.runtime.register_resource_transform(_tag("stack"))
        Box("box", opts=pulumi.ResourceOptions(transforms=[_tag("component")]))
        k8s.core.v1.ConfigMap("outside", data={"trail": ""})

    registrations = {r.name: r for r in engine.run(program).registrations}
    assert registrations["box-map"].inputs["data"]["trail"] == "own;component;stack;"
    assert registrations["outside"].inputs["data"]["trail"] == "stack;"
