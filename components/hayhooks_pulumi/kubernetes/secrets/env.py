"""Each secret variable as the container reads it: a reference into the Secret that holds it, or for a CSI object
that is not synced, its file's path."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..plan import ServicePlan
from .csi import csi_file_path, csi_secret_name
from .external import store_secret_name


def secret_env(plan: ServicePlan, config_secret: pulumi.Input[str] | None) -> list[k8s.core.v1.EnvVarArgs]:
    """One `secretKeyRef` per secret variable (the values never enter the pod spec), or for a CSI object
    that is not synced, its file's path. `config_secret`: the name the `fromConfig` values' Secret got."""
    env = []
    name: pulumi.Input[str]
    for env_name, source in plan.args.secrets.items():
        if source.from_csi is not None and not source.from_csi.sync:
            env.append(k8s.core.v1.EnvVarArgs(name=env_name, value=csi_file_path(plan, source.from_csi)))
            continue
        if source.from_secret is not None:
            name, key = source.from_secret.name, source.from_secret.key
        elif source.from_store is not None:
            name, key = store_secret_name(plan), env_name
        elif source.from_csi is not None:
            name, key = csi_secret_name(plan), env_name
        else:
            assert config_secret is not None, "fromConfig secrets need the name of their Secret"
            name, key = config_secret, env_name
        env.append(
            k8s.core.v1.EnvVarArgs(
                name=env_name,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=name, key=key)
                ),
            )
        )
    return env
