"""Deny by default: the edge's proxies (and `allowFrom`) may come in; DNS and the listed destinations may go out."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import pulumi_kubernetes as k8s

from ..edge.gateway.route import route_namespace
from ..edge.ingress.controllers import IngressController
from ..metadata import object_meta, selector
from ..plan import ServicePlan
from .models import EgressRule

NAMESPACE_LABEL = "kubernetes.io/metadata.name"
NAME_LABEL = "app.kubernetes.io/name"


class EdgeKind(StrEnum):
    """Whose proxies reach the pods."""

    NGINX = IngressController.NGINX.value
    TRAEFIK = IngressController.TRAEFIK.value
    ENVOY_GATEWAY = "envoy-gateway"


# Where each edge's proxies run by default: the controllers' usual install namespaces and pod labels.
EDGE_NAMESPACES = {
    EdgeKind.NGINX: "ingress-nginx",
    EdgeKind.TRAEFIK: "traefik",
    EdgeKind.ENVOY_GATEWAY: "envoy-gateway-system",
}
EDGE_PODS = {EdgeKind.NGINX: "ingress-nginx", EdgeKind.TRAEFIK: "traefik"}
# Envoy Gateway labels the proxies of each Gateway with its name and namespace.
ENVOY_PROXY_NAME = "envoy"
OWNING_GATEWAY_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNING_GATEWAY_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"


def _edge_kind(plan: ServicePlan) -> EdgeKind:
    ingress = plan.args.ingress
    return EdgeKind(ingress.controller.value) if ingress is not None else EdgeKind.ENVOY_GATEWAY


def _default_pod_labels(plan: ServicePlan) -> list[dict[str, str]]:
    gateway = plan.args.gateway
    if gateway is None:
        return [{NAME_LABEL: EDGE_PODS[_edge_kind(plan)]}]
    sets: list[dict[str, str]] = []
    for ref in gateway.parent_refs:
        labels = {
            NAME_LABEL: ENVOY_PROXY_NAME,
            OWNING_GATEWAY_NAME: ref.name,
            OWNING_GATEWAY_NAMESPACE: ref.namespace or route_namespace(plan),
        }
        if labels not in sets:
            sets.append(labels)
    return sets


def _peer(
    namespaces: Mapping[str, str] | None, pods: Mapping[str, str] | None
) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """Pods (of `pods`' labels; None: any) in the namespaces of `namespaces`' labels (None: any namespace)."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=namespaces),
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pods),
    )


def _pods_of(namespace: str, pod_labels: Mapping[str, str]) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """Pods of one namespace, by its name; empty labels: every pod of it."""
    return _peer({NAMESPACE_LABEL: namespace}, dict(pod_labels) or None)


def edge_peers(plan: ServicePlan) -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    """The edge's proxies: the configured labels, else the defaults of the edge in use."""
    policy = plan.args.network_policy
    namespace = policy.ingress_namespace_labels
    if namespace is None:
        namespace = {NAMESPACE_LABEL: EDGE_NAMESPACES[_edge_kind(plan)]}
    pods = [policy.ingress_pod_labels] if policy.ingress_pod_labels is not None else _default_pod_labels(plan)
    return [_peer(namespace, labels or None) for labels in pods]


def _ingress_rules(plan: ServicePlan) -> list[k8s.networking.v1.NetworkPolicyIngressRuleArgs]:
    if plan.edge is None:
        # Internal-only: any pod of the namespace may call it, and from outside only `allowFrom`.
        peers = [k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=k8s.meta.v1.LabelSelectorArgs())]
    else:
        peers = edge_peers(plan)
    peers += [_pods_of(caller.namespace, caller.pod_labels) for caller in plan.args.network_policy.allow_from]
    return [
        k8s.networking.v1.NetworkPolicyIngressRuleArgs(
            from_=peers,
            ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=plan.port, protocol="TCP")],
        )
    ]


def _dns_rule(plan: ServicePlan) -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """The resolver's pods (by namespace and pod labels) and host-network addresses, on its ports."""
    dns = plan.args.network_policy.dns
    peers = [k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=c)) for c in dns.cidrs]
    if dns.namespace_labels is not None:
        peers.insert(0, _peer(dns.namespace_labels or None, dns.pod_labels or None))
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(
        to=peers,
        ports=[k8s.networking.v1.NetworkPolicyPortArgs(port=p.port, protocol=p.protocol.value) for p in dns.ports],
    )


def _destination(rule: EgressRule) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    if rule.namespace is not None:
        return _pods_of(rule.namespace, rule.pod_labels)
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        ip_block=k8s.networking.v1.IPBlockArgs(cidr=rule.cidr, except_=rule.except_ or None)
    )


def _egress_rules(plan: ServicePlan) -> list[k8s.networking.v1.NetworkPolicyEgressRuleArgs]:
    rules = [_dns_rule(plan)] if plan.args.network_policy.allow_dns else []
    for rule in plan.egress:
        rules.append(
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[_destination(rule)],
                ports=[
                    k8s.networking.v1.NetworkPolicyPortArgs(port=port, protocol=rule.protocol.value)
                    for port in rule.ports
                ],
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
