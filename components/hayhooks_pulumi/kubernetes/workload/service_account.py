"""A dedicated ServiceAccount whose token is never mounted: the server needs no API access."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from ..metadata import object_meta
from ..plan import ServicePlan


def service_account_args(plan: ServicePlan) -> k8s.core.v1.ServiceAccountInitArgs:
    return k8s.core.v1.ServiceAccountInitArgs(
        metadata=object_meta(plan, plan.name),
        automount_service_account_token=False,
    )
