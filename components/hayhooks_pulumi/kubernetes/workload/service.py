"""A ClusterIP Service in front of the pods."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from ..metadata import object_meta
from ..plan import ServicePlan

# The Service's port, and the name of the container's port it targets (probes and edges name it too).
SERVICE_PORT = 80
PORT_NAME = "http"


def service_args(plan: ServicePlan) -> k8s.core.v1.ServiceInitArgs:
    return k8s.core.v1.ServiceInitArgs(
        metadata=object_meta(plan, plan.service_name),
        spec=k8s.core.v1.ServiceSpecArgs(
            type="ClusterIP",
            selector=plan.selector,
            ports=[
                k8s.core.v1.ServicePortArgs(name=PORT_NAME, port=SERVICE_PORT, target_port=PORT_NAME, protocol="TCP")
            ],
        ),
    )
