"""How many pods run and where (issue 19): one owner of the count, a disruption budget a drain can finish and that
never takes every pod, a durable store every pod shares, a memory limit the server starts in, pods spread over
nodes (and zones), and disk the kubelet accounts to the pod that writes it."""

from __future__ import annotations

from typing import Any

import pytest
from hayhooks_pulumi.quantity import parse_quantity
from hayhooks_pulumi.server.facts import MIN_MEMORY_LIMIT_MIB
from helpers.kubernetes import base_args, build, by_kind, container, pod, problem_at, refusal

AUTOSCALED = {"enabled": True, "minReplicas": 3, "maxReplicas": 6}


# ---------------------------------------------------------------------------------------------------------------
# replicas and the autoscaler


def test_replicas_beside_an_autoscaler_is_refused_pointing_at_min_replicas() -> None:
    message = problem_at(base_args(replicas=4, autoscaling=AUTOSCALED), "replicas")
    assert "autoscaling.minReplicas" in message and "leave it unset" in message


@pytest.mark.parametrize("profile", ["production", "development"])
def test_an_autoscaler_alone_or_replicas_alone_is_accepted(profile: str) -> None:
    scaled = build(base_args(profile=profile, autoscaling=AUTOSCALED))[0]
    assert "replicas" not in by_kind(scaled, "Deployment")["spec"]
    fixed = build(base_args(profile=profile, replicas=3))[0]
    assert by_kind(fixed, "Deployment")["spec"]["replicas"] == 3


# ---------------------------------------------------------------------------------------------------------------
# the disruption budget


@pytest.mark.parametrize(
    ("overrides", "pods", "key"),
    [
        ({"replicas": 2, "disruptionBudget": {"maxUnavailable": 2}}, 2, "replicas"),
        ({"replicas": 3, "disruptionBudget": {"maxUnavailable": 5}}, 3, "replicas"),
        ({"autoscaling": AUTOSCALED, "disruptionBudget": {"maxUnavailable": 3}}, 3, "autoscaling.minReplicas"),
    ],
)
def test_production_refuses_a_budget_that_lets_a_drain_evict_every_pod(overrides: dict, pods: int, key: str) -> None:
    message = problem_at(base_args(**overrides), "disruptionBudget.maxUnavailable")
    assert f"evict every pod when {pods} run ({key})" in message and f"below {pods}" in message


@pytest.mark.parametrize("profile", ["production", "development"])
@pytest.mark.parametrize(
    ("overrides", "pods"),
    [
        ({"replicas": 3, "disruptionBudget": {"minAvailable": 3}}, 3),
        ({"replicas": 2, "disruptionBudget": {"minAvailable": 4}}, 2),
        ({"autoscaling": AUTOSCALED, "disruptionBudget": {"minAvailable": 3}}, 3),
    ],
)
def test_a_budget_no_drain_can_satisfy_is_refused_in_every_profile(overrides: dict, pods: int, profile: str) -> None:
    message = problem_at(base_args(profile=profile, **overrides), "disruptionBudget.minAvailable")
    assert "never finishes" in message and f"below {pods}" in message


def test_min_available_below_the_pods_is_the_budget_and_excludes_max_unavailable() -> None:
    registrations, _ = build(base_args(replicas=3, disruptionBudget={"minAvailable": 2}))
    spec = by_kind(registrations, "PodDisruptionBudget")["spec"]
    assert spec["minAvailable"] == 2 and "maxUnavailable" not in spec
    error, _ = refusal(base_args(disruptionBudget={"minAvailable": 1, "maxUnavailable": 1}))
    assert [p.path for p in error.problems] == ["disruptionBudget"]
    assert "not both" in error.problems[0].message


def test_a_budget_with_a_pod_to_spare_is_accepted() -> None:
    registrations, _ = build(base_args(replicas=3, disruptionBudget={"maxUnavailable": 2}))
    assert by_kind(registrations, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 2


# ---------------------------------------------------------------------------------------------------------------
# the durable store


def _memory_store(**overrides: Any) -> dict[str, Any]:
    server = {**base_args()["server"], "durableStore": "memory"}
    return base_args(server=server, **overrides)


@pytest.mark.parametrize(
    ("overrides", "pods"),
    [({"replicas": 2}, 2), ({"autoscaling": AUTOSCALED}, 6), ({"profile": "development", "replicas": 2}, 2)],
)
def test_an_in_memory_durable_store_is_refused_where_several_pods_run(overrides: dict, pods: int) -> None:
    message = problem_at(_memory_store(**overrides), "server.durableStore")
    assert f"up to {pods} pods" in message and "'redis'" in message


def test_an_in_memory_durable_store_in_one_development_pod_is_accepted() -> None:
    registrations, _ = build(_memory_store(profile="development", replicas=1))
    assert by_kind(registrations, "Deployment")["spec"]["replicas"] == 1


# ---------------------------------------------------------------------------------------------------------------
# the memory limit


def test_production_refuses_a_memory_limit_below_what_the_server_starts_in() -> None:
    below = f"{MIN_MEMORY_LIMIT_MIB - 64}Mi"
    message = problem_at(base_args(resources={"memoryRequest": "64Mi", "memoryLimit": below}), "resources.memoryLimit")
    assert message.startswith(f"{below} is below {MIN_MEMORY_LIMIT_MIB}Mi") and "OOM-killed at start" in message
    at_floor = f"{MIN_MEMORY_LIMIT_MIB}Mi"
    registrations, _ = build(base_args(resources={"memoryRequest": "64Mi", "memoryLimit": at_floor}))
    assert container(registrations)["resources"]["limits"]["memory"] == at_floor
    small = build(base_args(profile="development", resources={"memoryRequest": "64Mi", "memoryLimit": "100Mi"}))[0]
    assert container(small)["resources"]["limits"]["memory"] == "100Mi"


# ---------------------------------------------------------------------------------------------------------------
# spreading over nodes and zones


def _spread(registrations: dict) -> dict[str, dict[str, Any]]:
    return {c["topologyKey"]: c for c in pod(registrations)["spec"].get("topologySpreadConstraints", [])}


def test_production_requires_pods_on_different_nodes_and_prefers_different_zones() -> None:
    spread = _spread(build(base_args())[0])
    assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
    assert spread["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
    # A node the pods cannot run on (a tainted control plane) must not hold the skew: a rollout's extra pod
    # would then find no node.
    assert all(c["nodeTaintsPolicy"] == "Honor" for c in spread.values())
    assert all(c["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"] == "hh" for c in spread.values())


def test_development_only_prefers_a_spread_and_each_topology_can_be_changed_or_turned_off() -> None:
    development = _spread(build(base_args(profile="development"))[0])
    assert {c["whenUnsatisfiable"] for c in development.values()} == {"ScheduleAnyway"}
    chosen = _spread(build(base_args(pod={"spread": {"nodes": "preferred", "zones": "required"}}))[0])
    assert chosen["kubernetes.io/hostname"]["whenUnsatisfiable"] == "ScheduleAnyway"
    assert chosen["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "DoNotSchedule"
    assert _spread(build(base_args(pod={"spread": {"nodes": "off", "zones": "off"}}))[0]) == {}


# ---------------------------------------------------------------------------------------------------------------
# ephemeral storage


def _storage(registrations: dict) -> tuple[int, int]:
    resources = container(registrations)["resources"]
    return (
        int(parse_quantity(resources["requests"]["ephemeral-storage"])),
        int(parse_quantity(resources["limits"]["ephemeral-storage"])),
    )


def _disk_volumes(registrations: dict) -> int:
    """What the pod's disk-backed emptyDirs may hold together."""
    volumes = pod(registrations)["spec"]["volumes"]
    return sum(
        int(parse_quantity(v["emptyDir"]["sizeLimit"]))
        for v in volumes
        if "emptyDir" in v and v["emptyDir"].get("medium") != "Memory"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"scratch": {"tmpSize": "3Gi", "homeSize": "512Mi"}},
        {"cache": {"size": "20Gi"}},
        {"cache": {"size": "1Gi", "medium": "memory"}, "resources": {"memoryLimit": "4Gi"}},
    ],
)
def test_ephemeral_storage_covers_the_disk_emptydirs_and_the_logs(overrides: dict) -> None:
    registrations, _ = build(base_args(**overrides))
    request, limit = _storage(registrations)
    assert request == limit
    # The emptyDirs on disk, and a margin for the container's logs (a memory cache is memory, not disk).
    assert _disk_volumes(registrations) < limit <= _disk_volumes(registrations) + 128 * 2**20
