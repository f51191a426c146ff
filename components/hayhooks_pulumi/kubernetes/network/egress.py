"""Egress the server's own settings need: the durable store's Redis (`server.durableRedisUrl`).

A NetworkPolicy names destinations by namespace or address, never by host name, so the URL's host is placed: a
Service of the cluster (`<service>.<namespace>.svc[.cluster.local]`) is its namespace, an IP literal its address,
a loopback address or `localhost` the pod itself (no rule), any other fully qualified name the public networks the
default egress reaches. What cannot be placed honestly (a short name the resolver's search path decides, a cluster
domain of its own, a URL only a Secret holds) is refused until `networkPolicy.egress` is set by the user.
"""

from __future__ import annotations

import ipaddress

from pydantic import ValidationError

from ...errors import Problem
from ...server.models import DurableStore, redis_address
from ...server.settings_table import env_of
from ..args import HayhooksServiceArgs
from .models import PUBLIC_NETWORKS, EgressRule

_SERVICE_SUFFIXES = (["svc"], ["svc", "cluster", "local"])
_HOW_TO_SAY = (
    "list Redis's destination in networkPolicy.egress yourself, e.g. {namespace: data, ports: [6379]} for a Service "
    "in the namespace data, or {cidr: 10.0.0.5/32, ports: [6379]} (an egress list you set is taken as saying where "
    "Redis is)"
)


def rules_to(host: str, port: int) -> list[EgressRule] | None:
    """The egress rules that reach `host:port` over TCP; [] for the pod itself; None where no rule can be derived."""
    if host == "localhost":
        return []
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return [] if address.is_loopback else [EgressRule(cidr=f"{address}/{address.max_prefixlen}", ports=[port])]
    absolute = host.endswith(".")
    labels = host.rstrip(".").split(".")
    if labels[2:] in _SERVICE_SUFFIXES:
        try:
            return [EgressRule(namespace=labels[1], ports=[port])]
        except ValidationError:
            return None
    in_cluster = labels[-1] == "svc" or labels[-2:] == ["cluster", "local"] or labels[2:3] == ["svc"]
    if in_cluster or (not absolute and len(labels) < 3):
        return None
    return [EgressRule(cidr=network, ports=[port]) for network in PUBLIC_NETWORKS]


def settings_egress(args: HayhooksServiceArgs) -> tuple[list[EgressRule], list[Problem]]:
    """The rules the settings add to `networkPolicy.egress`, and the problems where none can be derived."""
    policy, server = args.network_policy, args.server
    if not policy.enabled or server.durable_store is DurableStore.MEMORY:
        return [], []
    said = "egress" in policy.model_fields_set
    redis_url_secret = env_of("durableRedisUrl")
    if redis_url_secret in args.secrets:
        if said:
            return [], []
        message = (
            "the durable store's Redis URL is a secret, so where Redis is cannot be read from it and the "
            f"NetworkPolicy would block it: {_HOW_TO_SAY}"
        )
        return [], [Problem(f"secrets.{redis_url_secret}", message)]
    if server.durable_redis_url is None:
        return [], []  # the server's default, localhost: the pod itself
    address = redis_address(server.durable_redis_url)
    if address is None:
        return [], []  # a unix socket in the pod
    rules = rules_to(*address)
    if rules is not None or said:
        return rules or [], []
    message = (
        f"the NetworkPolicy cannot tell where {address[0]!r} is (a short name resolves through the pod's search "
        "path, a cluster domain of its own is unknown here), so it would block Redis: write a Service as "
        f"<service>.<namespace>.svc or a name outside the cluster in full (ending in '.' if it has two labels), or "
        f"{_HOW_TO_SAY}"
    )
    return [], [Problem("server.durableRedisUrl", message)]
