"""The Opaque Secrets the component writes itself: the `fromConfig` values, and the credentials the gateway's
SecurityPolicy reads. Each is auto-named (see `opaque_secret_args`)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from ..metadata import object_meta
from ..plan import ServicePlan


def has_config_secrets(plan: ServicePlan) -> bool:
    return any(s.from_config is not None for s in plan.args.secrets.values())


def opaque_secret_args(
    plan: ServicePlan, name: str | None, values: Mapping[str, pulumi.Input[str]]
) -> k8s.core.v1.SecretInitArgs:
    """An Opaque Secret whose every value stays `Output.secret`. `name` None (every Secret whose values the
    component writes): auto-named by the provider, so a changed value, which pulumi-kubernetes applies by
    replacing the Secret, creates the new Secret under a new name before the old one is deleted; what reads it
    (the pods, the edge) is pointed at the new name in between, and the pods roll. A fixed name would be
    deleted first, leaving the edge without credentials and starting pods without their variables."""
    return k8s.core.v1.SecretInitArgs(
        metadata=object_meta(plan, name),
        type="Opaque",
        string_data={key: pulumi.Output.secret(value) for key, value in values.items()},
    )


def config_secret_args(plan: ServicePlan, values: Mapping[str, pulumi.Input[str]]) -> k8s.core.v1.SecretInitArgs:
    """A Secret of the values given from Pulumi config, secret end to end (auto-named)."""
    return opaque_secret_args(
        plan,
        None,
        {env: values[env] for env, source in plan.args.secrets.items() if source.from_config is not None},
    )
