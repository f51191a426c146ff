"""The real engine runs this repository's own `__main__.py` on kwok's node: the namespace created, adopted, kept;
the component's URN as the program names it. (The whole prod scenario runs on the real node: test_prod.py.)

What runs: the toolchain's `pulumi` through the Automation API's inline programs (no Python language host), the
real pulumi-kubernetes provider (the version of `e2e/versions.env`, with the SDK of `make e2e-venv` at the same
version), the real API server. Stand-ins, each said in the test's output: pulumi-random (the basic-auth password;
tests/e2e/standin), and the controllers the local cluster lacks (tests/e2e/support.py). What the test copies of
the prod stack file change: the image (the local rebuild by digest: `pulumi up` refuses the placeholder), the
namespace settings each test is about, and the namespace's name: each test's own (the `namespace` fixture), so that
none waits for the one before it to be deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cluster import Cluster
from controllers import Controllers
from engine import Engine
from projects import project_copy

from .support import REPO, in_namespace, live


def existing_namespace(cluster: Cluster, name: str) -> None:
    """A namespace a platform team made, holding a Secret the pods would need before the first deploy."""
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("create", "secret", "generic", "registry-pull", "-n", name, "--from-literal=k=v")


def test_an_existing_namespace_is_adopted_and_never_deleted(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path, namespace: str
) -> None:
    """`namespace.adopt` on a namespace a platform team made: labelled by server-side apply, and after
    `pulumi destroy` still there with what it held, only the labels gone."""
    existing_namespace(cluster, namespace)
    changes = {**in_namespace(namespace), "namespace.adopt": True, "namespace.retain": False}
    project = project_copy(tmp_path, "prod", changes=changes, image=cluster.hayhooks_image)
    engine = engines(project, "prod")
    with Controllers(cluster):
        up = engine.up()
    assert up.ok, up.text()
    made = live(cluster, "namespace", "", namespace)
    assert made is not None
    assert made["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert live(cluster, "secret", namespace, "registry-pull") is not None

    destroyed = engine.destroy()
    assert destroyed.ok, destroyed.text()
    kept = live(cluster, "namespace", "", namespace)
    assert kept is not None, "destroying an adopted namespace's patch deleted the namespace"
    assert kept["metadata"].get("deletionTimestamp") is None
    assert live(cluster, "secret", namespace, "registry-pull") is not None
    assert "pod-security.kubernetes.io/enforce" not in kept["metadata"].get("labels", {})


def test_switching_namespace_create_off_keeps_the_namespace_and_what_is_in_it(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path, namespace: str
) -> None:
    engine = engines(
        project_copy(tmp_path, "prod", changes=in_namespace(namespace), image=cluster.hayhooks_image), "prod"
    )
    with Controllers(cluster):
        assert (up := engine.up()).ok, up.text()
    changes = {**in_namespace(namespace), "namespace.create": False}
    project_copy(tmp_path, "prod", changes=changes, image=cluster.hayhooks_image)
    with Controllers(cluster):
        assert (changed := engine.up()).ok, changed.text()
    assert ("delete", "hayhooks-namespace") in changed.steps() or any(
        name == "hayhooks-namespace" for _, name in changed.steps()
    )
    assert live(cluster, "namespace", "", namespace) is not None
    deployment = live(cluster, "deployment", namespace, "hayhooks")
    assert deployment is not None and deployment["metadata"].get("deletionTimestamp") is None


def test_the_repository_program_is_what_ran(cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path) -> None:
    """The engine ran the repository's `__main__.py` itself: its component's URN, as the program names it."""
    project = project_copy(tmp_path, "prod", image=cluster.hayhooks_image)
    engine = engines(project, "prod")
    preview = engine.preview()
    assert preview.ok, preview.text()
    assert "urn:pulumi:prod::hayhooks::hayhooks:index:HayhooksService::hayhooks" in preview.urns()
    assert (project / "__main__.py").resolve() == (REPO / "__main__.py").resolve()
