"""Deny by default: the ingress controller may come in; DNS and the listed destinations may go out."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from .metadata import object_meta, selector
from .plan import ServicePlan

DNS_NAMESPACE = {"kubernetes.io/metadata.name": "kube-system"}
DNS_PODS = {"k8s-app": "kube-dns"}


def _ingress_rules(plan: ServicePlan) -> list[k8s.networking.v1.NetworkPolicyIngressRuleArgs]:
    if plan.args.ingress is None:
        # Internal-only: any pod of the namespace may call it, nothing from outside.
        peers = [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs())]
    else:
        policy = plan.args.network_policy
        peers = [
            k8s.networking.v1.NetworkPolicyPeerArgs(
                namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=policy.ingress_namespace_labels),
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=policy.ingress_pod_labels or None),
            )
        ]
    return [
        k8s.networking.v1.NetworkPolicyIngressRuleArgs(
            from_=peers,
            ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=plan.port, protocol="TCP")],
        )
    ]


def _egress_rules(plan: ServicePlan) -> list[k8s.networking.v1.NetworkPolicyEgressRuleArgs]:
    policy = plan.args.network_policy
    rules = []
    if policy.allow_dns:
        rules.append(
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[
                    k8s.networking.v1.NetworkPolicyPeerArgs(
                        namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=DNS_NAMESPACE),
                        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=DNS_PODS),
                    )
                ],
                ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=53, protocol=proto) for proto in ("UDP", "TCP")],
            )
        )
    for rule in policy.egress:
        rules.append(
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[
                    k8s.networking.v1.NetworkPolicyPeerArgs(
                        ip_block=k8s.networking.v1.IPBlockArgs(cidr=rule.cidr, except_=rule.except_ or None)
                    )
                ],
                ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol="TCP") for port in rule.ports],
            )
        )
    return rules


def network_policy_args(plan: ServicePlan) -> k8s.networking.v1.NetworkPolicyInitArgs:
    return k8s.networking.v1.NetworkPolicyInitArgs(
        metadata=object_meta(plan, plan.name),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=selector(plan),
            policy_types=["Ingress", "Egress"],
            ingress=_ingress_rules(plan),
            egress=_egress_rules(plan),
        ),
    )
