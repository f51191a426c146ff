"""Many services per stack: each adds the same resources. How long they take is `make bench`'s to measure
(benchmarks/bench.py --check), not a test's: a wall clock on a shared machine is no verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pulumi
from hayhooks_pulumi import HayhooksService
from helpers import engine
from helpers.engine import register
from helpers.paths import REPO

IMAGE = "deepset/hayhooks:v2.1.0@sha256:" + "ab" * 32


def service_args(index: int) -> dict[str, Any]:
    """Every feature on, so each service registers all it can."""
    return {
        "image": IMAGE,
        "namespace": {"name": "bench", "create": index == 0},
        "pipelinesPath": str(REPO / "pipelines"),
        "server": {"cors": {"allowOrigins": ["https://app.example.com"]}},
        "ingress": {"host": f"svc{index}.example.com", "tlsSecretName": f"svc{index}-tls"},
        "secretStore": {"name": "vault"},
        "secrets": {
            "LLM_API_KEY": {"fromStore": {"remoteKey": f"bench/svc{index}"}},
            "WEBHOOK_TOKEN": {"fromConfig": "webhookToken"},
        },
        "autoscaling": {"enabled": True},
    }


def services(count: int) -> Callable[[], None]:
    def program() -> None:
        for index in range(count):
            HayhooksService(
                f"svc{index}",
                service_args(index),
                secret_values={"WEBHOOK_TOKEN": pulumi.Output.secret("token")},
            )

    return program


def test_each_service_adds_the_same_resources() -> None:
    one, ten = len(register(services(1))), len(register(services(10)))
    per_service = one - 1  # the namespace comes once
    assert ten == 10 * per_service + 1


def test_a_service_registers_and_reads_the_same_whatever_its_place() -> None:
    """The tenth service costs the engine what the first does: the same resources, nothing redone for the services
    before it; the CRD they all need is read once, by the first (each read is a round trip the services wait for)."""
    monitor = engine.run(services(10))

    def children(index: int) -> Counter[str]:
        urn = f"::svc{index}"
        return Counter(
            r.type for r in monitor.registrations if r.parent_urn.endswith(urn) and not r.type.endswith(":Namespace")
        )

    assert all(children(index) == children(0) for index in range(10))
    assert Counter(read.name.split("-crd-")[0] for read in monitor.reads) == {"svc0": 1}


def test_services_on_two_clusters_each_read_the_crd_of_their_own() -> None:
    """The read is shared per provider: a service deployed through another cluster's provider reads that cluster."""

    def program() -> None:
        other = pulumi.ProviderResource("kubernetes", "other-cluster", {})
        for index in range(3):
            provider = other if index == 2 else None
            HayhooksService(
                f"svc{index}",
                service_args(index),
                secret_values={"WEBHOOK_TOKEN": pulumi.Output.secret("token")},
                opts=pulumi.ResourceOptions(provider=provider),
            )

    monitor = engine.run(program)
    assert sorted(read.name.split("-crd-")[0] for read in monitor.reads) == ["svc0", "svc2"]
