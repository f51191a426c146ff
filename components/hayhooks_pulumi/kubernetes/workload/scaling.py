"""Capacity: a PodDisruptionBudget that never blocks drains, and an optional CPU autoscaler."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..metadata import object_meta, selector
from ..plan import ServicePlan


def disruption_budget_args(plan: ServicePlan) -> k8s.policy.v1.PodDisruptionBudgetInitArgs:
    """`minAvailable` where the config sets it, else `maxUnavailable` (a budget takes one of them)."""
    budget = plan.args.disruption_budget
    return k8s.policy.v1.PodDisruptionBudgetInitArgs(
        metadata=object_meta(plan, plan.name),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            max_unavailable=budget.max_unavailable if budget.min_available is None else None,
            min_available=budget.min_available,
            selector=selector(plan),
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
    )


def autoscaler_args(
    plan: ServicePlan, deployment_name: pulumi.Input[str]
) -> k8s.autoscaling.v2.HorizontalPodAutoscalerInitArgs:
    spec = plan.args.autoscaling
    return k8s.autoscaling.v2.HorizontalPodAutoscalerInitArgs(
        metadata=object_meta(plan, plan.name),
        spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
            scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                api_version="apps/v1", kind="Deployment", name=deployment_name
            ),
            min_replicas=spec.min_replicas,
            max_replicas=spec.max_replicas,
            metrics=[
                k8s.autoscaling.v2.MetricSpecArgs(
                    type="Resource",
                    resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                        name="cpu",
                        target=k8s.autoscaling.v2.MetricTargetArgs(
                            type="Utilization", average_utilization=spec.target_cpu_utilization
                        ),
                    ),
                )
            ],
        ),
    )
