"""The dedicated bridge network the container joins under its alias."""

from __future__ import annotations

import pulumi_docker as docker

from .plan import ContainerPlan


def network_args(plan: ContainerPlan) -> docker.NetworkArgs:
    """A user-defined bridge: name resolution between its containers, isolation from the default bridge.
    Not `internal`: pipelines reach LLM APIs, and an internal network cannot publish ports.
    The provider cannot update a network (every input replaces it), so its labels are the stable ones:
    with the image version among them, every release would replace the network."""
    return docker.NetworkArgs(
        name=plan.network_name,
        driver="bridge",
        labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in plan.stable_labels.items()],
    )
