"""The end-to-end suite's cluster and engine.

The cluster: a real kube-apiserver with etcd, kube-controller-manager, kube-scheduler on 127.0.0.1, kwok's
node for pods that need no runtime, and a real node (kubelet, kube-proxy, containerd, a pod network of its own)
whose pods pull the locally built image from a registry on loopback: started once per session in a temporary
folder and stopped at the end whatever happened (its processes also die with the test process). The tests run
pods on this machine's node from this machine's registry, so a cluster elsewhere cannot stand in for it.

The engine: `e2e/engine.py` runs a project's program through the Automation API with the toolchain's CLI,
a file backend and a passphrase of the test's own, in the interpreter of `make e2e-venv` (the project's SDK,
with pulumi-kubernetes at the provider's version). A stack an engine test made is destroyed after it.

A piece that is missing fails the test that needs it, naming it; nothing here skips."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cluster import Cluster, ClusterError
from engine import Engine
from projects import stack_engine
from registry import Registry

from .support import describe_toolchain, engine_versions, sdk_python, torn_down


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"e2e toolchain: {describe_toolchain()}"]


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> Iterator[Cluster]:
    kube = Cluster(tmp_path_factory.mktemp("cluster"), real_node=True, registry=registry)
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
    return str(json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"])


@pytest.fixture(scope="session")
def sdk() -> Path:
    """The interpreter with the project's SDK (`make e2e-venv`), checked to hold what the engine tests need."""
    python = sdk_python()
    if not python.is_file():
        pytest.fail(f"no {python}: run `make e2e-venv` (the end-to-end tests' interpreter)", pytrace=False)
    return python


@pytest.fixture(autouse=True)
def _what_it_ran_against(request: pytest.FixtureRequest) -> None:
    """Every e2e test prints the versions it ran against (shown with its report)."""
    if "cluster" in request.fixturenames:
        version = request.getfixturevalue("server_version")
        print(f"ran against Kubernetes {version} (the local control plane); toolchain: {describe_toolchain()}")


@pytest.fixture
def engines(cluster: Cluster, sdk: Path, tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """`engines(project, stack)`: the real engine for one stack of a project folder; each stack made is
    destroyed after the test. The pulumi-random stand-in is on PATH; a test whose stack used it says so."""
    made: list[Engine] = []

    def make(project: Path, stack: str, **kwargs: object) -> Engine:
        engine = stack_engine(cluster, sdk, tmp_path / f"engine-{len(made)}-{stack}", project, stack, **kwargs)
        made.append(engine)
        return engine

    print(engine_versions(sdk))
    try:
        yield make
    finally:
        for engine in reversed(made):
            said = torn_down(engine)
            if said:
                print(said)


@pytest.fixture(scope="session")
def _namespaces_given() -> list[str]:
    return []


@pytest.fixture
def namespace(request: pytest.FixtureRequest, _namespaces_given: list[str]) -> str:
    """A namespace name no other test uses (`hayhooks-<module>-<n>`). Whatever of it outlives the test's stack
    (kept by `namespace.retain`, adopted, or made by the test) is left, emptied by the stack's destroy, to the
    session's cluster, which goes whole at the end: deleting it would first wait out kube-controller-manager's
    5 s grace, for nothing a later test reads."""
    module = request.node.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    name = f"hayhooks-{module}-{len(_namespaces_given) + 1}"
    _namespaces_given.append(name)
    return name
