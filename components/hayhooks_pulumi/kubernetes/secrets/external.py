"""Secret values from a store: the External Secrets Operator's ExternalSecret, for environment variables and for
the gateway's OIDC client secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..metadata import object_meta
from ..plan import ServicePlan
from ..waits import EXTERNAL_SECRET_SYNCED, WAIT_FOR
from .models import FromStore

EXTERNAL_SECRETS_API = "external-secrets.io/v1"


def store_secret_name(plan: ServicePlan) -> str:
    return plan.child("store")


def has_store_secrets(plan: ServicePlan) -> bool:
    return any(s.from_store is not None for s in plan.args.secrets.values())


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
