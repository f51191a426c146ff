"""The end-to-end suite's cluster: a real kube-apiserver with etcd, kube-controller-manager,
kube-scheduler and kwok on 127.0.0.1, started once per session in a temporary folder and stopped at
the end whatever happened (its processes also die with the test process). HAYHOOKS_E2E_KUBECONFIG
names a cluster of your own (kind, say) to use instead; it is used as it is and never stopped.

A piece that is missing fails the test that needs it, naming it; nothing here skips."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "e2e"))

from cluster import Cluster, ClusterError  # noqa: E402

from .support import describe_toolchain  # noqa: E402

EXISTING = "HAYHOOKS_E2E_KUBECONFIG"
# The namespaces the stacks, examples and tests create and delete.
E2E_NAMESPACES = ("hayhooks", "assistants", "gateways", "envoy-gateway-system")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"e2e toolchain: {describe_toolchain()}"]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    existing = os.environ.get(EXISTING)
    if existing:
        kube = Cluster(tmp_path_factory.mktemp("existing-cluster"), existing=Path(existing).resolve())
        taken = kube.kubectl("get", "namespace", *E2E_NAMESPACES, "--ignore-not-found", "-o", "name").stdout.split()
        if taken:
            pytest.fail(f"{existing} has {', '.join(taken)}, which the e2e tests create and delete", pytrace=False)
    else:
        kube = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        kube.start()
    except (ClusterError, OSError) as error:
        pytest.fail(f"the end-to-end cluster did not start: {error}", pytrace=False)
    try:
        yield kube
    finally:
        kube.stop()


@pytest.fixture(scope="session")
def server_version(cluster: Cluster) -> str:
    return json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]


@pytest.fixture(autouse=True)
def _what_it_ran_against(request: pytest.FixtureRequest) -> None:
    """Every e2e test prints the versions it ran against (shown with its report)."""
    if "cluster" in request.fixturenames:
        version = request.getfixturevalue("server_version")
        where = os.environ.get(EXISTING) or "the local control plane"
        print(f"ran against Kubernetes {version} ({where}); toolchain: {describe_toolchain()}")
