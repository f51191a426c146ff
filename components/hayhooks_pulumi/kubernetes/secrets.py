"""Secret environment variables: from a store (External Secrets), an existing Secret, or Pulumi config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .metadata import object_meta
from .plan import ServicePlan

EXTERNAL_SECRETS_API = "external-secrets.io/v1"


def store_secret_name(plan: ServicePlan) -> str:
    return plan.child("store")


def config_secret_name(plan: ServicePlan) -> str:
    return plan.child("config")


def has_store_secrets(plan: ServicePlan) -> bool:
    return any(s.from_store is not None for s in plan.args.secrets.values())


def has_config_secrets(plan: ServicePlan) -> bool:
    return any(s.from_config is not None for s in plan.args.secrets.values())


def external_secret(plan: ServicePlan) -> dict[str, Any]:
    """Keyword arguments of an `ExternalSecret` CustomResource producing one Secret of all store values."""
    store = plan.args.secret_store
    assert store is not None
    data = []
    for env_name, source in plan.args.secrets.items():
        if source.from_store is None:
            continue
        ref = {"key": source.from_store.remote_key}
        if source.from_store.property is not None:
            ref["property"] = source.from_store.property
        if source.from_store.version is not None:
            ref["version"] = source.from_store.version
        data.append({"secretKey": env_name, "remoteRef": ref})
    return {
        "api_version": EXTERNAL_SECRETS_API,
        "kind": "ExternalSecret",
        "metadata": object_meta(plan, store_secret_name(plan)),
        "spec": {
            "refreshInterval": store.refresh_interval,
            "secretStoreRef": {"name": store.name, "kind": store.kind.value},
            "target": {
                "name": store_secret_name(plan),
                "creationPolicy": "Owner",
                "template": {"metadata": {"labels": plan.labels}},
            },
            "data": data,
        },
    }


def config_secret_args(plan: ServicePlan, values: Mapping[str, pulumi.Input[str]]) -> k8s.core.v1.SecretInitArgs:
    """A Secret of the values given from Pulumi config, secret end to end."""
    return k8s.core.v1.SecretInitArgs(
        metadata=object_meta(plan, config_secret_name(plan)),
        type="Opaque",
        string_data={
            env_name: pulumi.Output.secret(values[env_name])
            for env_name, source in plan.args.secrets.items()
            if source.from_config is not None
        },
    )


def secret_env(plan: ServicePlan) -> list[k8s.core.v1.EnvVarArgs]:
    """One `secretKeyRef` per secret variable; the values never enter the pod spec."""
    env = []
    for env_name, source in plan.args.secrets.items():
        if source.from_secret is not None:
            name, key = source.from_secret.name, source.from_secret.key
        elif source.from_store is not None:
            name, key = store_secret_name(plan), env_name
        else:
            name, key = config_secret_name(plan), env_name
        env.append(
            k8s.core.v1.EnvVarArgs(
                name=env_name,
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=name, key=key)
                ),
            )
        )
    return env
