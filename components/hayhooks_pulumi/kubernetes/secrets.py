"""Secret values from a store (External Secrets), an existing Secret, Pulumi config or the Secrets Store CSI
driver, for environment variables and for the gateway's OIDC client secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .args import FromStore
from .csi import csi_file_path, csi_secret_name
from .metadata import object_meta
from .plan import ServicePlan
from .waits import EXTERNAL_SECRET_SYNCED, WAIT_FOR

EXTERNAL_SECRETS_API = "external-secrets.io/v1"


def store_secret_name(plan: ServicePlan) -> str:
    return plan.child("store")


def has_store_secrets(plan: ServicePlan) -> bool:
    return any(s.from_store is not None for s in plan.args.secrets.values())


def has_config_secrets(plan: ServicePlan) -> bool:
    return any(s.from_config is not None for s in plan.args.secrets.values())


def external_secret_for(plan: ServicePlan, name: str, entries: Mapping[str, FromStore]) -> dict[str, Any]:
    """Keyword arguments of an `ExternalSecret` CustomResource producing the Secret `name`, one key per entry."""
    store = plan.args.secret_store
    assert store is not None
    data = []
    for key, source in entries.items():
        ref = {"key": source.remote_key}
        if source.property is not None:
            ref["property"] = source.property
        if source.version is not None:
            ref["version"] = source.version
        data.append({"secretKey": key, "remoteRef": ref})
    return {
        "api_version": EXTERNAL_SECRETS_API,
        "kind": "ExternalSecret",
        "metadata": object_meta(plan, name, {WAIT_FOR: EXTERNAL_SECRET_SYNCED}),
        "spec": {
            "refreshInterval": store.refresh_interval,
            "secretStoreRef": {"name": store.name, "kind": store.kind.value},
            "target": {
                "name": name,
                "creationPolicy": "Owner",
                "template": {"metadata": {"labels": plan.labels}},
            },
            "data": data,
        },
    }


def external_secret(plan: ServicePlan) -> dict[str, Any]:
    """The `ExternalSecret` of every `fromStore` environment variable, keyed by variable name."""
    entries = {env: s.from_store for env, s in plan.args.secrets.items() if s.from_store is not None}
    return external_secret_for(plan, store_secret_name(plan), entries)


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


def secret_env(plan: ServicePlan, config_secret: pulumi.Input[str] | None) -> list[k8s.core.v1.EnvVarArgs]:
    """One `secretKeyRef` per secret variable (the values never enter the pod spec), or for a CSI object
    that is not synced, its file's path. `config_secret`: the name the `fromConfig` values' Secret got."""
    env = []
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
