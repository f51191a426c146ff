"""What `pulumi up` waits for, and how long: the options and annotations pulumi-kubernetes acts on,
as the component registers them under the SDK mock engine. (The end-to-end suite checks against the
real API server that each `pulumi.com/waitFor` expression selects what its controller publishes.)"""

from __future__ import annotations

from typing import Any

import pytest
from hayhooks_pulumi import ConfigError, HayhooksService
from hayhooks_pulumi.render.mocks import Registration
from helpers.engine import register
from helpers.paths import REPO

IMAGE = "deepset/hayhooks:v2.1.0@sha256:" + "ab" * 32
PARENT = {"name": "eg", "namespace": "envoy-gateway-system", "sectionName": "https"}


def args(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "profile": "production",
        "image": IMAGE,
        "pipelinesPath": str(REPO / "pipelines"),
        "server": {"cors": {"allowOrigins": ["https://app.example.com"], "allowMethods": ["GET", "POST"]}},
        "ingress": {"host": "hayhooks.example.com", "tlsSecretName": "hayhooks-tls"},
    }
    return base | overrides


def build(config: dict[str, Any]) -> dict[str, Registration]:
    return register(lambda: HayhooksService("hh", config))


def of_type(registrations: dict[str, Registration], suffix: str) -> Registration:
    [match] = [r for r in registrations.values() if r.type.endswith(suffix)]
    return match


def annotations(registration: Registration) -> dict[str, str]:
    return registration.inputs["metadata"].get("annotations") or {}


def seconds(value: int) -> dict[str, str]:
    return {"create": f"{value}s", "update": f"{value}s"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # 2 pods × (180 + 10 + 60) = 500: below the provider's 10 minutes, which stays the floor.
        ({"autoscaling": {"enabled": False}, "replicas": 2}, 600),
        # The HPA may hold maxReplicas pods when a rollout starts, each replaced one at a time.
        ({"autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 6}}, 6 * 250),
        # An hour's start-up budget, 10 pods: ten hours and some, not the default 10 minutes.
        (
            {"probes": {"startupBudgetSeconds": 3600}, "autoscaling": {"enabled": True, "maxReplicas": 10}},
            10 * (3600 + 10 + 60),
        ),
        ({"rollout": {"timeoutSeconds": 900}}, 900),
    ],
)
def test_the_rollout_timeout_is_derived_from_the_start_up_budget_and_the_pods(
    overrides: dict[str, Any], expected: int
) -> None:
    registrations = build(args(**overrides))
    assert of_type(registrations, ":Deployment").custom_timeouts == seconds(expected)
    assert of_type(registrations, ":Service").custom_timeouts == seconds(expected)


def test_a_rollout_timeout_below_a_minute_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"rollout\.timeoutSeconds"):
        build(args(rollout={"timeoutSeconds": 30}))


def store_args(**store: Any) -> dict[str, Any]:
    return args(
        secretStore={"name": "vault", **store},
        secrets={"OPENAI_API_KEY": {"fromStore": {"remoteKey": "llm/openai"}}},
    )


def test_pulumi_up_waits_until_the_operator_has_synced_the_external_secret() -> None:
    external = of_type(build(store_args(readyTimeoutSeconds=120)), ":ExternalSecret")
    assert annotations(external)["pulumi.com/waitFor"] == "condition=Ready"
    assert external.custom_timeouts == seconds(120)
    assert of_type(build(store_args()), ":ExternalSecret").custom_timeouts == seconds(300)


def gateway_args(**gateway: Any) -> dict[str, Any]:
    config = args(
        gateway={
            "parentRefs": [PARENT],
            "hostnames": ["hayhooks.example.com"],
            "auth": {
                "jwt": {
                    "issuer": "https://idp.example.com",
                    "jwksUri": "https://idp.example.com/jwks",
                    "audiences": ["hayhooks"],
                }
            },
            **gateway,
        }
    )
    del config["ingress"]
    return config


def test_pulumi_up_waits_for_the_route_to_be_accepted_after_its_policy_exists() -> None:
    """The policy itself is not awaited: Envoy Gateway writes its status only once its route exists, and the
    route comes after it; a wait there would time out on every first deploy."""
    registrations = build(gateway_args(acceptedTimeoutSeconds=90))
    policy = of_type(registrations, ":SecurityPolicy")
    route = of_type(registrations, ":HTTPRoute")

    assert "pulumi.com/waitFor" not in annotations(policy) and policy.custom_timeouts == {}
    assert annotations(route)["pulumi.com/waitFor"] == (
        'jsonpath={.status.parents[0].conditions[?(@.type=="Accepted")].status}=True'
    )
    assert route.custom_timeouts == seconds(90)
    assert policy.urn in route.dependencies


@pytest.mark.parametrize(("wait", "expected"), [(True, None), (False, "true")])
def test_the_ingress_address_wait_can_be_switched_off(wait: bool, expected: str | None) -> None:
    ingress = args()["ingress"] | {"waitForAddress": wait}
    registered = of_type(build(args(ingress=ingress)), ":Ingress")
    assert annotations(registered).get("pulumi.com/skipAwait") == expected


def test_skip_await_is_the_options_to_set_not_an_annotation() -> None:
    ingress = args()["ingress"] | {"waitForAddress": False, "annotations": {"pulumi.com/skipAwait": "false"}}
    with pytest.raises(ConfigError, match=r"pulumi\.com/skipAwait.*ingress\.waitForAddress"):
        build(args(ingress=ingress))


@pytest.mark.parametrize(
    ("profile", "retain", "expected"),
    [
        ("production", None, True),
        ("development", None, False),
        ("production", False, False),
        ("development", True, True),
    ],
)
def test_a_created_namespace_is_kept_when_it_leaves_the_program_in_production(
    profile: str, retain: bool | None, expected: bool
) -> None:
    namespace: dict[str, Any] = {"name": "hayhooks", "create": True}
    if retain is not None:
        namespace["retain"] = retain
    config = args(profile=profile, namespace=namespace)
    if profile == "development":
        config["server"] = {}
    registered = of_type(build(config), ":Namespace")
    assert registered.retain_on_delete is expected


def test_an_adopted_namespace_is_labelled_by_server_side_apply_never_created() -> None:
    registrations = build(args(namespace={"name": "team-a", "create": True, "adopt": True}))

    patch = of_type(registrations, ":NamespacePatch")
    assert not [r for r in registrations.values() if r.type.endswith(":Namespace")]
    assert patch.inputs["metadata"]["name"] == "team-a"
    assert patch.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert patch.inputs["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}
    assert patch.retain_on_delete is True


def test_adopt_needs_create() -> None:
    with pytest.raises(ConfigError, match=r"namespace\.adopt"):
        build(args(namespace={"name": "team-a", "create": False, "adopt": True}))
