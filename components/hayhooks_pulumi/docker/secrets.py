"""Secret environment entries (`KEY=VALUE`), kept `Output.secret` end to end."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from .plan import ContainerPlan


def _entry(name: str, value: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(value).apply(lambda text: f"{name}={text}")


def secret_envs(plan: ContainerPlan, values: Mapping[str, pulumi.Input[str]]) -> list[pulumi.Output[str]]:
    """One secret entry per config secret that has a value, then one per env-file variable."""
    entries = [_entry(name, values[name]) for name in plan.config_secrets]
    entries += [_entry(name, value) for name, value in plan.env_file.items()]
    return entries
