"""Workload options a cluster may need changed: where DNS is, egress by protocol and IP version, scratch sizes,
scheduling and pull secrets on the pod, a model cache. Each under the mock engine, each manifest validated strictly
as the API server's schema would."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import crd_dir
from hayhooks_pulumi.render.schemas import kubernetes_versions, validate_manifest
from test_kubernetes_component import base_args, build, by_kind
from test_kubernetes_refusals import refusal


def valid(registrations: dict, kind: str) -> dict[str, Any]:
    """The registered object of `kind`, after checking it against Kubernetes' schemas (strict)."""
    body = by_kind(registrations, kind)
    assert validate_manifest(body, crd_dir(), kubernetes_versions()) == [], kind
    return body


def egress_of(args: dict[str, Any]) -> list[dict[str, Any]]:
    return valid(build(args)[0], "NetworkPolicy")["spec"]["egress"]


# ---------------------------------------------------------------------------------------------------------------
# NetworkPolicy: DNS, protocols, IPv6


def test_default_egress_is_kube_dns_and_https_on_the_ipv4_and_ipv6_internet() -> None:
    dns, ipv4, ipv6 = egress_of(base_args())
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ]
    assert dns["ports"] == [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]
    # 169.254.0.0/16 stays excluded: it holds the cloud metadata endpoint (instance credentials).
    assert ipv4["to"] == [
        {
            "ipBlock": {
                "cidr": "0.0.0.0/0",
                "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
            }
        }
    ]
    assert ipv6["to"] == [{"ipBlock": {"cidr": "::/0", "except": ["fc00::/7", "fe80::/10"]}}]
    assert ipv4["ports"] == ipv6["ports"] == [{"port": 443, "protocol": "TCP"}]


def test_openshift_dns_and_a_node_local_cache_are_reachable_through_the_dns_block() -> None:
    dns_block = {
        "namespaceLabels": {"kubernetes.io/metadata.name": "openshift-dns"},
        "podLabels": {"dns.operator.openshift.io/daemonset-dns": "default"},
        "cidrs": ["169.254.20.10/32", "172.30.0.10/32"],
        "ports": [{"port": 5353, "protocol": "UDP"}, {"port": 5353, "protocol": "TCP"}],
    }
    dns = egress_of(base_args(networkPolicy={"dns": dns_block}))[0]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "openshift-dns"}},
            "podSelector": {"matchLabels": {"dns.operator.openshift.io/daemonset-dns": "default"}},
        },
        {"ipBlock": {"cidr": "169.254.20.10/32"}},
        {"ipBlock": {"cidr": "172.30.0.10/32"}},
    ]
    assert dns["ports"] == [{"port": 5353, "protocol": "UDP"}, {"port": 5353, "protocol": "TCP"}]
    # Only addresses (no resolver pods at all), and the rule can still be switched off.
    only_cache = egress_of(base_args(networkPolicy={"dns": {"namespaceLabels": None, "cidrs": ["169.254.20.10/32"]}}))
    assert only_cache[0]["to"] == [{"ipBlock": {"cidr": "169.254.20.10/32"}}]
    assert len(egress_of(base_args(networkPolicy={"allowDns": False}))) == 2


def test_egress_rules_carry_their_protocol_and_default_except_stays_inside_the_cidr() -> None:
    rules = [
        {"cidr": "10.20.0.0/16", "ports": [5432]},
        {"cidr": "10.96.0.0/12", "ports": [8125], "protocol": "UDP"},
        {"cidr": "2001:db8::/32", "ports": [443], "protocol": "SCTP", "except": ["2001:db8:1::/48"]},
    ]
    database, statsd, sctp = egress_of(base_args(networkPolicy={"egress": rules}))[1:]
    # A private destination gets no `except` of its own range (the API server wants a strict subset of cidr).
    assert database == {"to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}], "ports": [{"port": 5432, "protocol": "TCP"}]}
    assert statsd["ports"] == [{"port": 8125, "protocol": "UDP"}]
    assert sctp["to"][0]["ipBlock"] == {"cidr": "2001:db8::/32", "except": ["2001:db8:1::/48"]}
    assert sctp["ports"] == [{"port": 443, "protocol": "SCTP"}]


@pytest.mark.parametrize(
    ("network_policy", "path", "message"),
    [
        ({"egress": [{"protocol": "ICMP"}]}, "networkPolicy.egress[0].protocol", "'TCP', 'UDP' or 'SCTP'"),
        ({"egress": [{"cidr": "10.0.0.1/8"}]}, "networkPolicy.egress[0].cidr", "is not a network"),
        (
            {"egress": [{"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}]},
            "networkPolicy.egress[0].except",
            "strictly inside cidr 10.0.0.0/8",
        ),
        ({"egress": [{"cidr": "::/0", "except": ["10.0.0.0/8"]}]}, "networkPolicy.egress[0].except", "inside cidr"),
        ({"dns": {"ports": []}}, "networkPolicy.dns.ports", "at least 1"),
        ({"dns": {"ports": [{"port": 53, "protocol": "udp"}]}}, "networkPolicy.dns.ports[0].protocol", "'UDP'"),
        ({"dns": {"namespaceLabels": None}}, "networkPolicy.dns", "name the resolver's addresses in cidrs"),
        (
            {"dns": {"namespaceLabels": None, "cidrs": ["169.254.20.10/32"], "podLabels": {"a": "b"}}},
            "networkPolicy.dns",
            "set namespaceLabels too",
        ),
        ({"dns": {"cidrs": ["169.254.20.10"]}}, "networkPolicy.dns.cidrs", "not a network"),
        ({"dns": {"podLabels": {"bad key!": "x"}}}, "networkPolicy.dns.podLabels", "not a valid label key"),
    ],
)
def test_network_policy_refusals_name_their_key(network_policy: dict[str, Any], path: str, message: str) -> None:
    error, registrations = refusal(base_args(networkPolicy=network_policy))
    assert [p.path for p in error.problems] == [path], error
    assert message in str(error)
    assert len(registrations) == 0
