"""Workload options a cluster may need changed: where DNS is, egress by protocol and IP version, scratch sizes,
scheduling and pull secrets on the pod, a model cache. Each under the mock engine, each manifest validated strictly
as the API server's schema would."""

from __future__ import annotations

from typing import Any

import pytest
from hayhooks_pulumi import ConfigError
from hayhooks_pulumi.crds import CRD_DIR
from hayhooks_pulumi.docker.container import tmpfs
from hayhooks_pulumi.docker.plan import plan_container
from hayhooks_pulumi.render.schemas import kubernetes_versions, validate_manifest
from helpers.kubernetes import IMAGE, base_args, build, by_kind, refusal
from helpers.paths import PIPELINES


def valid(registrations: dict, kind: str) -> dict[str, Any]:
    """The registered object of `kind`, after checking it against Kubernetes' schemas (strict)."""
    body = by_kind(registrations, kind)
    assert validate_manifest(body, CRD_DIR, kubernetes_versions()) == [], kind
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


def with_redis(url: str, **overrides: Any) -> dict[str, Any]:
    server = {**base_args()["server"], "durableRedisUrl": url}
    return base_args(server=server, **overrides)


PUBLIC_EXCEPT = {
    "0.0.0.0/0": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
    "::/0": ["fc00::/7", "fe80::/10"],
}


@pytest.mark.parametrize(
    ("url", "destinations", "port"),
    [
        (
            "redis://redis.data.svc:6379/0",
            [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "data"}}, "podSelector": {}}],
            6379,
        ),
        (
            "rediss://redis.cache.svc.cluster.local/2",
            [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "cache"}}, "podSelector": {}}],
            6379,
        ),
        ("redis://10.1.2.3:6380", [{"ipBlock": {"cidr": "10.1.2.3/32"}}], 6380),
        ("rediss://[fd00::5]/0", [{"ipBlock": {"cidr": "fd00::5/128"}}], 6379),
        (
            "rediss://redis.example.com:6380",
            [{"ipBlock": {"cidr": c, "except": e}} for c, e in PUBLIC_EXCEPT.items()],
            6380,
        ),
    ],
)
def test_egress_opens_to_the_redis_the_durable_store_names(url: str, destinations: list[dict], port: int) -> None:
    redis = egress_of(with_redis(url))[3:]  # after DNS and HTTPS over IPv4 and IPv6
    assert [rule["to"] for rule in redis] == [[destination] for destination in destinations]
    assert redis and all(rule["ports"] == [{"port": port, "protocol": "TCP"}] for rule in redis)


@pytest.mark.parametrize(
    "url", ["redis://localhost:6379/0", "redis://127.0.0.1", "rediss://[::1]:6380", "unix:///run/redis.sock"]
)
def test_redis_in_the_pod_or_unused_opens_nothing(url: str) -> None:
    assert len(egress_of(with_redis(url))) == 3
    # A name no rule can be derived for, but the store is in memory (one pod: a memory store is not shared).
    memory = with_redis("redis://redis", profile="development", replicas=1)
    memory["server"]["durableStore"] = "memory"
    assert len(egress_of(memory)) == 3


@pytest.mark.parametrize("host", ["redis", "redis.data", "redis.data.svc.corp.internal", "redis.svc"])
def test_a_redis_host_no_rule_can_be_derived_for_is_refused_until_egress_says_where_it_is(host: str) -> None:
    error, registrations = refusal(with_redis(f"redis://{host}:6379"))
    assert [p.path for p in error.problems] == ["server.durableRedisUrl"]
    assert f"cannot tell where {host!r} is" in str(error) and "networkPolicy.egress" in str(error)
    assert registrations == {}
    said = {"egress": [{"namespace": "data", "podLabels": {"app.kubernetes.io/name": "redis"}, "ports": [6379]}]}
    _, redis = egress_of(with_redis(f"redis://{host}:6379", networkPolicy=said))
    assert redis["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "data"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "redis"}},
        }
    ]


def test_a_redis_url_in_secrets_needs_egress_set_by_the_user() -> None:
    secrets = {"HAYHOOKS_DURABLE_REDIS_URL": {"fromSecret": {"name": "redis", "key": "url"}}}
    error, _ = refusal(base_args(secrets=secrets))
    assert [p.path for p in error.problems] == ["secrets.HAYHOOKS_DURABLE_REDIS_URL"]
    assert "networkPolicy.egress" in error.problems[0].message
    said = {"egress": [{"cidr": "10.0.0.5/32", "ports": [6379]}]}
    assert egress_of(base_args(secrets=secrets, networkPolicy=said))[1]["to"] == [{"ipBlock": {"cidr": "10.0.0.5/32"}}]
    build(base_args(secrets=secrets, networkPolicy={"enabled": False}))  # no policy, nothing to open


@pytest.mark.parametrize(
    ("network_policy", "path", "message"),
    [
        (
            {"egress": [{"namespace": "data", "cidr": "10.0.0.0/8"}]},
            "networkPolicy.egress[0]",
            "set namespace or cidr (with except), not both",
        ),
        ({"egress": [{"podLabels": {"app": "redis"}}]}, "networkPolicy.egress[0]", "set namespace too"),
        ({"egress": [{"namespace": "Data"}]}, "networkPolicy.egress[0].namespace", "not a DNS label"),
        ({"allowFrom": [{"namespace": "batch_jobs"}]}, "networkPolicy.allowFrom[0].namespace", "not a DNS label"),
        (
            {"allowFrom": [{"namespace": "batch", "podLabels": {"app": "-x"}}]},
            "networkPolicy.allowFrom[0].podLabels",
            "not a valid label value",
        ),
        ({"allowFrom": [{"namespace": "batch"}, {"namespace": "batch"}]}, "networkPolicy.allowFrom", "twice"),
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


def ingress_of(args: dict[str, Any]) -> list[dict[str, Any]]:
    (rule,) = valid(build(args)[0], "NetworkPolicy")["spec"]["ingress"]
    assert rule["ports"] == [{"port": 1416, "protocol": "TCP"}]
    return rule["from"]


CALLERS = [{"namespace": "batch", "podLabels": {"app": "report-builder"}}, {"namespace": "ops"}]
ADMITTED = [
    {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "batch"}},
        "podSelector": {"matchLabels": {"app": "report-builder"}},
    },
    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ops"}}, "podSelector": {}},
]


def test_an_internal_service_admits_callers_of_other_namespaces_from_allow_from() -> None:
    internal = base_args(ingress=None, networkPolicy={"allowFrom": CALLERS})
    assert ingress_of(internal) == [{"podSelector": {}}, *ADMITTED]
    assert ingress_of(base_args(ingress=None)) == [{"podSelector": {}}]


def test_behind_an_edge_allow_from_adds_callers_and_stops_trusting_every_forwarder() -> None:
    edge, *admitted = ingress_of(base_args(networkPolicy={"allowFrom": CALLERS}))
    assert edge["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    assert admitted == ADMITTED
    # Only the edge's proxies reach the pods no more, so their forwarded headers are trusted from no one by default.
    _, outputs = build(base_args(networkPolicy={"allowFrom": CALLERS}))
    assert "FORWARDED_ALLOW_IPS" not in outputs["env"]
    assert build(base_args())[1]["env"]["FORWARDED_ALLOW_IPS"] == "*"


# ---------------------------------------------------------------------------------------------------------------
# Scratch sizes (both targets), pod scheduling, a model cache


def volumes_of(registrations: dict) -> dict[str, dict[str, Any]]:
    spec = valid(registrations, "Deployment")["spec"]["template"]["spec"]
    return {v["name"]: v for v in spec["volumes"]}


def test_scratch_sizes_default_and_change_on_kubernetes() -> None:
    volumes = volumes_of(build(base_args())[0])
    assert (volumes["tmp"]["emptyDir"], volumes["home"]["emptyDir"]) == ({"sizeLimit": "1Gi"}, {"sizeLimit": "256Mi"})
    volumes = volumes_of(build(base_args(scratch={"tmpSize": "4Gi", "homeSize": "1Gi"}))[0])
    assert (volumes["tmp"]["emptyDir"], volumes["home"]["emptyDir"]) == ({"sizeLimit": "4Gi"}, {"sizeLimit": "1Gi"})


def test_scratch_sizes_default_and_change_on_docker() -> None:
    # Same keys and quantities as on Kubernetes, written as the kernel's tmpfs sizes.
    default = tmpfs(plan_container("hh", docker_args()))
    assert "size=1024m" in default["/tmp"].split(",") and "size=256m" in default["/home/hayhooks"].split(",")
    sized = tmpfs(plan_container("hh", docker_args(scratch={"tmpSize": "3Gi", "homeSize": "1536Ki"})))
    assert "size=3072m" in sized["/tmp"].split(",") and "size=1536k" in sized["/home/hayhooks"].split(",")


def docker_args(**overrides: Any) -> dict[str, Any]:
    return {"profile": "development", "image": IMAGE, "pipelinesPath": PIPELINES, **overrides}


@pytest.mark.parametrize("size", ["512m", "1.5", "100Ki", "lots", "0"])
def test_scratch_sizes_are_whole_bytes_of_at_least_a_mebibyte_on_both_targets(size: str) -> None:
    error, _ = refusal(base_args(scratch={"tmpSize": size}))
    assert [p.path for p in error.problems] == ["scratch.tmpSize"] and "512Mi" in str(error)
    with pytest.raises(ConfigError) as docker_error:
        plan_container("hh", docker_args(scratch={"homeSize": size}))
    assert [p.path for p in docker_error.value.problems] == ["scratch.homeSize"]


POD = {
    "annotations": {"sidecar.istio.io/inject": "false", "example.com/team": "ai"},
    "nodeSelector": {"kubernetes.io/arch": "amd64"},
    "tolerations": [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "dedicated", "value": "ai", "effect": "NoExecute", "tolerationSeconds": 300},
        {"operator": "Exists"},
    ],
    "imagePullSecrets": ["registry-credentials"],
    "priorityClassName": "high-priority",
}


def test_pod_options_reach_the_pod_template() -> None:
    template = valid(build(base_args(pod=POD))[0], "Deployment")["spec"]["template"]
    assert template["metadata"]["annotations"] == {"example.com/team": "ai", "sidecar.istio.io/inject": "false"}
    spec = template["spec"]
    assert spec["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert spec["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "dedicated", "operator": "Equal", "value": "ai", "effect": "NoExecute", "tolerationSeconds": 300},
        {"operator": "Exists"},
    ]
    assert spec["imagePullSecrets"] == [{"name": "registry-credentials"}]
    assert spec["priorityClassName"] == "high-priority"
    # Unset, none of them is written.
    plain = by_kind(build(base_args())[0], "Deployment")["spec"]["template"]
    assert "annotations" not in plain["metadata"]
    assert not {"nodeSelector", "tolerations", "imagePullSecrets", "priorityClassName"} & set(plain["spec"])


@pytest.mark.parametrize(
    ("pod", "path", "message"),
    [
        ({"annotations": {"bad key!": "x"}}, "pod.annotations", "is not a valid key"),
        ({"nodeSelector": {"zone": "a b"}}, "pod.nodeSelector", "not a valid label value"),
        ({"tolerations": [{"operator": "Sometimes"}]}, "pod.tolerations[0].operator", "'Equal' or 'Exists'"),
        ({"tolerations": [{"key": "a", "effect": "NoRun"}]}, "pod.tolerations[0].effect", "'NoExecute'"),
        ({"tolerations": [{"value": "x"}]}, "pod.tolerations[0]", "without key, operator must be Exists"),
        ({"tolerations": [{"key": "a", "operator": "Exists", "value": "x"}]}, "pod.tolerations[0]", "unset"),
        ({"tolerations": [{"key": "a", "tolerationSeconds": 60}]}, "pod.tolerations[0]", "needs effect NoExecute"),
        (
            {"tolerations": [{"key": "a", "effect": "NoExecute", "tolerationSeconds": -1}]},
            "pod.tolerations[0].tolerationSeconds",
            "greater than or equal to 0",
        ),
        ({"imagePullSecrets": ["Registry_Creds"]}, "pod.imagePullSecrets[0]", "not a Kubernetes object name"),
        ({"imagePullSecrets": ["a", "a"]}, "pod.imagePullSecrets", "lists a Secret twice"),
        ({"priorityClassName": "High"}, "pod.priorityClassName", "not a Kubernetes object name"),
        ({"affinity": {}}, "pod.affinity", "unknown key"),
    ],
)
def test_pod_refusals_name_their_key(pod: dict[str, Any], path: str, message: str) -> None:
    error, registrations = refusal(base_args(pod=pod))
    assert [p.path for p in error.problems][:1] == [path], error
    assert message in str(error)
    assert len(registrations) == 0


def test_a_cache_volume_is_mounted_with_variables_pointing_at_it() -> None:
    cache = {"mountPath": "/models", "size": "20Gi", "env": ["HF_HOME", "SENTENCE_TRANSFORMERS_HOME"]}
    registrations, _ = build(base_args(cache=cache))
    assert volumes_of(registrations)["cache"]["emptyDir"] == {"sizeLimit": "20Gi"}
    container = by_kind(registrations, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "cache", "mountPath": "/models"} in container["volumeMounts"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["HF_HOME"] == env["SENTENCE_TRANSFORMERS_HOME"] == "/models"
    in_memory = build(base_args(cache={"size": "1Gi", "medium": "memory"}))[0]
    assert volumes_of(in_memory)["cache"]["emptyDir"] == {"sizeLimit": "1Gi", "medium": "Memory"}
    assert "cache" not in volumes_of(build(base_args())[0])


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        ({"cache": {"mountPath": "relative"}}, "cache.mountPath", "absolute path"),
        (
            {"cache": {"mountPath": "/tmp/models"}},
            "cache.mountPath",
            "overlaps the container's mount or directory /tmp",
        ),
        ({"cache": {"mountPath": "/opt/venv/cache"}}, "cache.mountPath", "/opt/venv"),
        (
            {"cache": {"mountPath": "/opt/hayhooks"}},
            "cache.mountPath",
            "overlaps the container's mount or directory /opt/hayhooks/pipelines",
        ),
        ({"cache": {"env": ["HAYHOOKS_PORT"]}}, "cache.env[0]", "set by server.port"),
        ({"cache": {"env": ["HOME"]}}, "cache.env[0]", "HOME"),
        ({"cache": {"env": ["HF_HOME", "HF_HOME"]}}, "cache.env", "lists a variable twice"),
        (
            {"cache": {}, "server": {"extraEnv": {"HF_HOME": "/x"}}},
            "cache.env[0]",
            "HF_HOME is already set",
        ),
        ({"cache": {"medium": "ssd"}}, "cache.medium", "'disk' or 'memory'"),
        ({"cache": {"size": "4Gi", "medium": "memory"}}, "cache.size", "more than resources.memoryLimit (2Gi)"),
    ],
)
def test_cache_refusals_name_their_key(args: dict[str, Any], path: str, message: str) -> None:
    error, registrations = refusal(base_args(**args))
    assert [p.path for p in error.problems] == [path], error
    assert message in str(error)
    assert len(registrations) == 0
