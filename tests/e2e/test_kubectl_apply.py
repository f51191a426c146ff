"""The offline render applied as the README offers it to users without a Pulumi CLI: the Secret templates
filled in and saved beside the rest, then one `kubectl apply --server-side -f <render>/manifests/` of the
folder, in file order. Every object is admitted at once and
stored as rendered, the pods run under `restricted`, a second apply changes nothing, deleting the folder leaves
nothing; and `restricted` is really enforced (a control pod that breaks it is refused).

For prod and `examples/local-cluster.yaml` (the README's own example). The prod pods go to kwok's node, which
never pulls the stack file's placeholder digest; the example's go to the real node (kubelet, containerd) with the
image set as the README sets it, the local rebuild by digest, and run. What the filled-in templates hold is a
test value.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Cluster
from helpers.render import Renders
from projects import stack_file

from .support import (
    REPO,
    Render,
    ensure_namespace,
    missing_from,
    ref,
    stored,
    wait_for,
)

FILLED = "e2e-filled-in"
STACKS = {"prod": None, "local-cluster": REPO / "examples" / "local-cluster.yaml"}


def filled_in(render: Render, target: Path) -> Path:
    """The render's manifests as a user prepares them: each `*.yaml.template` with its `[secret]` values written,
    saved without `.template`; the folder kubectl is given."""
    shutil.copytree(render.out / "manifests", target)
    for template in sorted(target.glob("*.yaml.template")):
        body = yaml.safe_load(template.read_text())
        body["stringData"] = {key: FILLED for key in body.get("stringData", {})}
        template.with_suffix("").write_text(yaml.safe_dump(body, sort_keys=False))
        template.unlink()
    return target


def kubectl_apply(cluster: Cluster, folder: Path, *extra: str, check: bool = True) -> Any:
    return cluster.kubectl(
        "apply", "--server-side", "--field-manager=hayhooks-e2e", "-f", str(folder), *extra, check=check
    )


def as_stored(body: dict[str, Any]) -> dict[str, Any]:
    """What the API server keeps of a body: a Secret's stringData is stored base64 under data."""
    if body["kind"] != "Secret":
        return body
    return {k: v for k, v in body.items() if k != "stringData"}


def version(kept: dict[str, Any] | None) -> str:
    """What changes when an apply changes an object: its generation where it has one (its spec's version: the
    HorizontalPodAutoscaler's controller writes its status on its own schedule, which moves the resourceVersion),
    else its resourceVersion."""
    assert kept is not None
    metadata = kept["metadata"]
    return f"generation {metadata['generation']}" if "generation" in metadata else metadata["resourceVersion"]


def objects(folder: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yaml"))]


@pytest.mark.parametrize("name", STACKS)
def test_the_folder_applies_in_one_go_is_stored_as_rendered_runs_and_deletes(
    cluster: Cluster, stack_render: Renders, tmp_path: Path, name: str
) -> None:
    config = STACKS[name]
    if config is not None:
        # As the README has users do: `pulumi config set --path hayhooks:service.image "$HAYHOOKS_IMAGE"`.
        config = tmp_path / config.name
        config.write_text(stack_file(STACKS[name], image=cluster.hayhooks_image))  # type: ignore[arg-type]
    rendered = stack_render(name, config)
    assert rendered.result.returncode == 0, rendered.result.stderr
    render = Render(name, rendered.out)
    folder = filled_in(render, tmp_path / "manifests")
    bodies = objects(folder)
    # Namespaces the render refers to without making them, made as their cluster would have them; left to the
    # session's cluster (see conftest's `namespace` fixture).
    for namespace in sorted(render.foreign_namespaces):
        ensure_namespace(cluster, namespace)
    try:
        # One command, as the README says: file order creates each object after what it needs.
        kubectl_apply(cluster, folder)
        for body in bodies:
            kept = stored(cluster, body)
            assert kept is not None, f"{ref(body)} was not stored"
            assert missing_from(as_stored(body), kept) == [], f"{ref(body)} is not stored as rendered"
        for deployment in render.of_kind("Deployment"):
            meta = deployment["metadata"]
            cluster.kubectl(
                "rollout", "status", f"deployment/{meta['name']}", "-n", meta["namespace"], "--timeout=120s"
            )
        versions = {ref(b): version(stored(cluster, b)) for b in bodies}
        diff = cluster.kubectl("diff", "--server-side", "--field-manager=hayhooks-e2e", "-f", str(folder), check=False)
        assert diff.returncode == 0, f"a second apply would change:\n{diff.stdout}{diff.stderr}"
        kubectl_apply(cluster, folder)
        assert {ref(b): version(stored(cluster, b)) for b in bodies} == versions
    finally:
        cluster.kubectl("delete", "-f", str(folder), "--wait=true", "--timeout=120s", "--ignore-not-found")
    wait_for(lambda: all(stored(cluster, b) is None for b in bodies), "objects left after deleting the folder")


@pytest.fixture
def restricted_namespace(cluster: Cluster, namespace: str) -> str:
    """The test's own namespace, labelled `restricted` as the components label theirs."""
    ensure_namespace(cluster, namespace)
    return namespace


def test_restricted_is_enforced_a_control_pod_that_breaks_it_is_refused(
    cluster: Cluster, restricted_namespace: str
) -> None:
    """A pod with no security context at all: valid, admitted where no level is enforced, refused here."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "breaks-restricted", "namespace": restricted_namespace},
        "spec": {"containers": [{"name": "c", "image": "example.invalid/x:1"}]},
    }
    refused = cluster.kubectl("apply", "-f", "-", input=json.dumps(pod), check=False)
    elsewhere = cluster.kubectl(
        "apply",
        "--dry-run=server",
        "-f",
        "-",
        input=json.dumps({**pod, "metadata": {**pod["metadata"], "namespace": "default"}}),
    )
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in refused.stderr
    assert "runAsNonRoot != true" in refused.stderr and "allowPrivilegeEscalation != false" in refused.stderr
    assert elsewhere.returncode == 0
