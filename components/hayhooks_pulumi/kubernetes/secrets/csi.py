"""Secrets Store CSI driver: a SecretProviderClass, its read-only `csi` volume, and the Secrets it syncs."""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s

from ..edge.gateway.oidc import oidc_client_secret_name
from ..edge.secret_keys import OIDC_SECRET_KEY
from ..metadata import object_meta
from ..plan import ServicePlan
from .models import FromCsi

SECRET_PROVIDER_CLASS_API = "secrets-store.csi.x-k8s.io/v1"
CSI_DRIVER = "secrets-store.csi.k8s.io"
CSI_VOLUME = "secrets-store"


def provider_class_name(plan: ServicePlan) -> str:
    return plan.child("csi")


def csi_secret_name(plan: ServicePlan) -> str:
    """The Secret the driver syncs the `fromCsi` environment variables into."""
    return plan.child("csi")


def uses_csi(plan: ServicePlan) -> bool:
    return plan.args.secret_provider_class is not None


def csi_file_path(plan: ServicePlan, source: FromCsi) -> str:
    spc = plan.args.secret_provider_class
    assert spc is not None
    return f"{spc.mount_path}/{source.object_name}"


def _secret_object(plan: ServicePlan, name: str, data: list[dict[str, str]]) -> dict[str, Any]:
    return {"secretName": name, "type": "Opaque", "labels": plan.labels, "data": data}


def secret_objects(plan: ServicePlan) -> list[dict[str, Any]]:
    """What the driver syncs into Secrets (while a pod mounts the volume): synced variables keyed by name, and
    the OIDC client secret under the one key Envoy Gateway reads, in a Secret of its own."""
    objects = []
    env = [
        {"objectName": source.from_csi.object_name, "key": env_name}
        for env_name, source in plan.args.secrets.items()
        if source.from_csi is not None and source.from_csi.sync
    ]
    if env:
        objects.append(_secret_object(plan, csi_secret_name(plan), env))
    oidc = plan.args.gateway.auth.oidc if plan.args.gateway else None
    if oidc is not None and oidc.client_secret.from_csi is not None:
        name = oidc_client_secret_name(plan)
        assert name is not None
        data = [{"objectName": oidc.client_secret.from_csi.object_name, "key": OIDC_SECRET_KEY}]
        objects.append(_secret_object(plan, name, data))
    return objects


def secret_provider_class(plan: ServicePlan) -> dict[str, Any]:
    """Keyword arguments of the SecretProviderClass CustomResource."""
    spc = plan.args.secret_provider_class
    assert spc is not None
    spec: dict[str, Any] = {"provider": spc.provider}
    if spc.parameters:
        spec["parameters"] = dict(spc.parameters)
    objects = secret_objects(plan)
    if objects:
        spec["secretObjects"] = objects
    return {
        "api_version": SECRET_PROVIDER_CLASS_API,
        "kind": "SecretProviderClass",
        "metadata": object_meta(plan, provider_class_name(plan)),
        "spec": spec,
    }


def csi_volume(plan: ServicePlan) -> k8s.core.v1.VolumeArgs:
    """The `csi` volume (allowed by Pod Security `restricted`), read-only."""
    spc = plan.args.secret_provider_class
    assert spc is not None
    return k8s.core.v1.VolumeArgs(
        name=CSI_VOLUME,
        csi=k8s.core.v1.CSIVolumeSourceArgs(
            driver=CSI_DRIVER,
            read_only=True,
            volume_attributes={"secretProviderClass": provider_class_name(plan)},
            node_publish_secret_ref=k8s.core.v1.LocalObjectReferenceArgs(name=spc.node_publish_secret_name)
            if spc.node_publish_secret_name
            else None,
        ),
    )


def csi_mount(plan: ServicePlan) -> k8s.core.v1.VolumeMountArgs:
    spc = plan.args.secret_provider_class
    assert spc is not None
    return k8s.core.v1.VolumeMountArgs(name=CSI_VOLUME, mount_path=spc.mount_path, read_only=True)
