"""Network isolation: deny by default; the edge's proxies (and `allowFrom`) in, DNS and the listed destinations
out."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from ...model import ConfigModel
from ...types import DnsLabel, Labels, Network, Networks, network, networks, strictly_inside, unique

# What the default egress `except` leaves out of the internet, by IP version: private, link-local and unique-local
# networks. 169.254.0.0/16 stays in: it holds the cloud metadata endpoint (169.254.169.254, instance credentials);
# a link-local DNS cache (NodeLocal DNSCache, 169.254.20.10) is let through by `networkPolicy.dns.cidrs` instead.
PRIVATE_RANGES = {
    4: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
    6: ["fc00::/7", "fe80::/10"],
}


# The internet by IP version, before those exceptions: the default egress, and a public host's derived rule.
PUBLIC_NETWORKS = ("0.0.0.0/0", "::/0")


class Protocol(StrEnum):
    """A NetworkPolicy port's protocol."""

    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


Port = Annotated[int, Field(ge=1, le=65535)]


class EgressRule(ConfigModel):
    """Where the pods may connect to (besides DNS): a network (`cidr`), or the pods of a namespace (`namespace`)."""

    cidr: Network = PUBLIC_NETWORKS[0]
    """Destination network (IPv4 or IPv6); not with `namespace`."""
    except_: list[str] | None = Field(default=None, alias="except", validate_default=True)
    """Networks excluded from `cidr`, each inside it; unset: the private, link-local and unique-local ones inside
    it (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `169.254.0.0/16` with its cloud metadata endpoint;
    `fc00::/7`, `fe80::/10`), so `0.0.0.0/0` and `::/0` reach only the internet; `[]`: none."""
    namespace: DnsLabel | None = None
    """A namespace of the cluster instead of `cidr`: its pods are the destination, e.g. `data` for a Redis Service
    `redis.data.svc` (a NetworkPolicy sees the pods behind a Service, so `ports` are the pods' ports)."""
    pod_labels: Labels = Field(default_factory=dict)
    """With `namespace`: labels of the destination pods, e.g. `{app.kubernetes.io/name: redis}`; empty: every pod
    of it."""
    ports: list[Port] = Field(default_factory=lambda: [443])
    """Destination ports."""
    protocol: Protocol = Protocol.TCP
    """Protocol of `ports` (`TCP`, `UDP` or `SCTP`); one rule per protocol."""

    @field_validator("except_")
    @classmethod
    def _except(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        cidr = info.data.get("cidr")
        if cidr is None:
            return value  # the cidr's own error is reported
        outer = network(cidr)
        if value is None:
            ranges = (ipaddress.ip_network(r) for r in PRIVATE_RANGES[outer.version])
            return [str(r) for r in ranges if strictly_inside(r, outer)]
        for item in networks(value):
            # The API server requires each `except` to be a strict subset of `cidr`.
            if not strictly_inside(network(item), outer):
                raise ValueError(f"{item!r} is not a network strictly inside cidr {cidr}")
        return value

    @model_validator(mode="after")
    def _one_destination(self) -> EgressRule:
        if self.namespace is not None:
            given = [key for key, name in (("cidr", "cidr"), ("except", "except_")) if name in self.model_fields_set]
            if given:
                raise ValueError(f"set namespace or cidr (with except), not both: {' and '.join(given)} with namespace")
        elif "pod_labels" in self.model_fields_set:
            raise ValueError("podLabels selects pods in namespace; set namespace too")
        return self


def _default_egress() -> list[EgressRule]:
    return [EgressRule(cidr=network) for network in PUBLIC_NETWORKS]


class NamespacePods(ConfigModel):
    """Pods of one namespace of the cluster, e.g. `{namespace: batch, podLabels: {app: report-builder}}`."""

    namespace: DnsLabel
    """The namespace's name (matched by its `kubernetes.io/metadata.name` label)."""
    pod_labels: Labels = Field(default_factory=dict)
    """Labels of the pods in it; empty: every pod of it."""


def _unique_peers(values: list[NamespacePods]) -> list[NamespacePods]:
    return unique(values, "the same pods", key=lambda value: (value.namespace, tuple(value.pod_labels.items())))


class PortSpec(ConfigModel):
    """A port and its protocol."""

    port: Port
    """Port number."""
    protocol: Protocol = Protocol.TCP
    """`TCP`, `UDP` or `SCTP`."""


DNS_NAMESPACE = {"kubernetes.io/metadata.name": "kube-system"}


DNS_PODS = {"k8s-app": "kube-dns"}


class DnsArgs(ConfigModel):
    """Where the pods' DNS resolver is, for the egress rule `allowDns` writes. The default is kube-dns/CoreDNS in
    kube-system; e.g. OpenShift: `namespaceLabels: {kubernetes.io/metadata.name: openshift-dns}`,
    `podLabels: {dns.operator.openshift.io/daemonset-dns: default}`, ports 5353; NodeLocal DNSCache: add
    `cidrs: [169.254.20.10/32, <kube-dns Service IP>/32]` (its pods use the host's network, which no selector
    matches)."""

    namespace_labels: Labels | None = Field(default_factory=lambda: dict(DNS_NAMESPACE))
    """Labels of the resolver's namespace; `null`: no pod resolver, only `cidrs`."""
    pod_labels: Labels = Field(default_factory=lambda: dict(DNS_PODS))
    """Labels of the resolver's pods in that namespace (empty: any pod of it)."""
    cidrs: Networks = Field(default_factory=list)
    """Resolver addresses outside any pod (host-network caches), e.g. `169.254.20.10/32`."""
    ports: Annotated[list[PortSpec], Field(min_length=1)] = Field(
        default_factory=lambda: [PortSpec(port=53, protocol=Protocol.UDP), PortSpec(port=53, protocol=Protocol.TCP)]
    )
    """Ports the resolver answers on, each with its protocol; default: 53 over UDP and over TCP."""

    @model_validator(mode="after")
    def _somewhere(self) -> DnsArgs:
        if self.namespace_labels is None:
            if not self.cidrs:
                # An egress rule without destinations would allow these ports to anywhere.
                raise ValueError("with namespaceLabels null, name the resolver's addresses in cidrs")
            if "pod_labels" in self.model_fields_set:
                raise ValueError("podLabels selects pods in namespaceLabels' namespaces; set namespaceLabels too")
        return self


class NetworkPolicyArgs(ConfigModel):
    """Deny by default; allow the edge's proxies (and `allowFrom`) in, and DNS and the given destinations out."""

    enabled: bool = True
    """Create the NetworkPolicy."""
    ingress_namespace_labels: Labels | None = None
    """Labels of the namespace the edge's proxies run in; unset: by the edge, the namespace `ingress-nginx`,
    `traefik` or `envoy-gateway-system`."""
    ingress_pod_labels: Labels | None = None
    """Labels of the edge's proxy pods (empty: any pod of that namespace); unset: by the edge,
    `app.kubernetes.io/name` `ingress-nginx` or `traefik`, or the Envoy proxies of each Gateway in `parentRefs`."""
    allow_from: Annotated[list[NamespacePods], AfterValidator(_unique_peers)] = Field(default_factory=list)
    """Callers in other namespaces the pods admit, besides the edge's proxies (or, without an edge, the pods of the
    service's own namespace), e.g. `[{namespace: batch, podLabels: {app: report-builder}}]`. They reach the pods
    directly, past any edge authentication."""
    egress: list[EgressRule] = Field(default_factory=_default_egress)
    """Allowed destinations; the default reaches HTTPS on the internet (LLM APIs), over IPv4 and IPv6. The durable
    store's Redis (`server.durableRedisUrl`) is added to them where its host tells where it is; where it does not
    (a short name, a URL in `secrets`), a list set here is taken as saying where Redis is."""
    allow_dns: bool = True
    """Allow DNS to the resolver `dns` describes."""
    dns: DnsArgs = Field(default_factory=DnsArgs)
    """Where the resolver is (kube-dns in kube-system by default)."""
