"""Every rendered stack against a real API server: admitted by server-side apply (dry-run, then for
real), stored as sent, idempotent, its pods made by the real ReplicaSet controller under the
`restricted` Pod Security level, rolled by a pipeline change, and gone after deletion.

This is the API-server half of the end-to-end suite. It applies the offline render with kubectl,
because the Pulumi engine cannot run a Python program here: the proxy refuses the Python language
host (see e2e/versions.env). What a cluster here needs beyond the render, and only that:
- namespaces a stack refers to but does not create (`namespace.create: false`, a Gateway's
  namespace for ReferenceGrants) are created by the test first, labelled `restricted` like the
  namespaces the components create;
- kwok plays the kubelet, so pods become Ready without pulling the image (the placeholder digest
  of the stack files is never pulled).
"""

from __future__ import annotations

import base64
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Cluster
from helpers.render import Rendered, Renders

from .support import CONSUMER, EXAMPLES, REPO, Render, api_resource, ref, render

ENFORCE = "pod-security.kubernetes.io/enforce"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
ROLLOUT_TIMEOUT = "120s"
STACKS = ["prod", *[path.stem for path in EXAMPLES], "consumer"]


@pytest.fixture(scope="session")
def renders(
    tmp_path_factory: pytest.TempPathFactory, stack_render: Renders, example_renders: dict[str, Rendered]
) -> dict[str, Render]:
    """prod's and the examples' renders, the session's that the other suites read too; the consumer's own."""

    def shared(name: str, rendered: Rendered) -> Render:
        assert rendered.result.returncode == 0, f"render of {name} failed:\n{rendered.result.stderr}"
        return Render(name, rendered.out)

    out = {"prod": shared("prod", stack_render("prod"))}
    out |= {name: shared(name, rendered) for name, rendered in example_renders.items()}
    out["consumer"] = render("prod", tmp_path_factory.mktemp("e2e-renders") / "consumer", project=CONSUMER)
    return out


def multi_doc(bodies: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(bodies, sort_keys=False)


def apply(cluster: Cluster, bodies: list[dict[str, Any]], *extra: str, check: bool = True) -> Any:
    return cluster.kubectl(
        "apply",
        "--server-side",
        "--field-manager=hayhooks-e2e",
        "-f",
        "-",
        *extra,
        input=multi_doc(bodies),
        check=check,
    )


def stored(cluster: Cluster, body: dict[str, Any]) -> dict[str, Any] | None:
    args = ["get", api_resource(body), body["metadata"]["name"], "-o", "json", "--ignore-not-found"]
    if "namespace" in body["metadata"]:
        args += ["-n", body["metadata"]["namespace"]]
    text = cluster.kubectl(*args).stdout
    return json.loads(text) if text.strip() else None


def missing_from(sent: Any, kept: Any, path: str = "") -> list[str]:
    """Where what was sent is not what the API server stored (defaults it added are fine)."""
    if isinstance(sent, dict):
        if not isinstance(kept, dict):
            return [f"{path}: sent a mapping, stored {kept!r}"]
        return [p for k, v in sent.items() for p in missing_from(v, kept.get(k), f"{path}.{k}")]
    if isinstance(sent, list):
        if not isinstance(kept, list) or len(kept) != len(sent):
            return [f"{path}: sent {sent!r}, stored {kept!r}"]
        return [p for i, (a, b) in enumerate(zip(sent, kept, strict=True)) for p in missing_from(a, b, f"{path}[{i}]")]
    return [] if sent == kept else [f"{path}: sent {sent!r}, stored {kept!r}"]


def as_stored(body: dict[str, Any]) -> dict[str, Any]:
    """What the API server keeps of a body: a Secret's stringData is stored base64 under data."""
    if body["kind"] != "Secret" or "stringData" not in body:
        return body
    data = {k: base64.b64encode(v.encode()).decode() for k, v in body["stringData"].items()}
    return {**{k: v for k, v in body.items() if k != "stringData"}, "data": {**body.get("data", {}), **data}}


def prerequisites(cluster: Cluster, stack: Render) -> list[str]:
    """The namespaces the stack lives in or refers to without creating them, created as its cluster has them."""
    created = []
    for name in sorted(stack.namespaces - stack.own_namespaces):
        if stored(cluster, {"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": name}}) is None:
            namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": RESTRICTED}}
            apply(cluster, [namespace])
            created.append(name)
    return created


def delete(cluster: Cluster, stack: Render, extra_namespaces: list[str]) -> None:
    """Delete what was applied, newest first, waiting until each is gone (namespaces too)."""
    bodies = list(reversed(stack.objects()))
    cluster.kubectl("delete", "--wait=true", "--timeout=120s", "--ignore-not-found", "-f", "-", input=multi_doc(bodies))
    for name in extra_namespaces:
        cluster.kubectl("delete", "namespace", name, "--wait=true", "--timeout=120s", "--ignore-not-found")


def rollout(cluster: Cluster, deployment: dict[str, Any]) -> None:
    meta = deployment["metadata"]
    cluster.kubectl(
        "rollout", "status", f"deployment/{meta['name']}", "-n", meta["namespace"], f"--timeout={ROLLOUT_TIMEOUT}"
    )


def pods_of(cluster: Cluster, deployment: dict[str, Any]) -> list[dict[str, Any]]:
    meta, labels = deployment["metadata"], deployment["spec"]["selector"]["matchLabels"]
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    return json.loads(cluster.kubectl("get", "pods", "-n", meta["namespace"], "-l", selector, "-o", "json").stdout)[
        "items"
    ]


def apply_with_dry_run(cluster: Cluster, stack: Render) -> None:
    """Server-side apply after a server-side dry run that must store nothing. A dry run of a namespaced
    object needs its namespace to exist, so the stack's own Namespace goes first, alone."""
    namespaces = stack.of_kind("Namespace")
    rest = [body for body in stack.objects() if body["kind"] != "Namespace"]
    if namespaces:
        apply(cluster, namespaces, "--dry-run=server")
        assert all(stored(cluster, body) is None for body in namespaces), "a dry run stored a Namespace"
        apply(cluster, namespaces)
    apply(cluster, rest, "--dry-run=server")
    assert [ref(body) for body in rest if stored(cluster, body) is not None] == [], "a dry run stored objects"
    apply(cluster, rest)


def assert_stored_as_sent(cluster: Cluster, stack: Render) -> None:
    for body in stack.objects():
        kept = stored(cluster, body)
        assert kept is not None, f"{ref(body)} was not stored"
        sent = as_stored({k: v for k, v in body.items() if k != "status"})
        assert missing_from(sent, kept) == [], f"{ref(body)} is not stored as sent"


def assert_pods_run_under_restricted(cluster: Cluster, stack: Render) -> None:
    deployments = stack.of_kind("Deployment")
    assert deployments
    for deployment in deployments:
        rollout(cluster, deployment)
        namespace = stored(
            cluster,
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": deployment["metadata"]["namespace"]}},
        )
        assert namespace is not None and namespace["metadata"]["labels"].get(ENFORCE) == "restricted"
        pods = pods_of(cluster, deployment)
        assert pods, f"no pods of {ref(deployment)}"
        for pod in pods:
            [owner] = pod["metadata"]["ownerReferences"]
            assert owner["kind"] == "ReplicaSet" and owner["controller"] is True
            assert {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"] == "True"


def assert_idempotent(cluster: Cluster, stack: Render) -> None:
    def versions() -> dict[str, str]:
        return {ref(b): stored(cluster, b)["metadata"]["resourceVersion"] for b in stack.objects()}  # type: ignore[index]

    before = versions()
    diff = cluster.kubectl(
        "diff",
        "--server-side",
        "--field-manager=hayhooks-e2e",
        "-f",
        "-",
        input=multi_doc(stack.objects()),
        check=False,
    )
    assert diff.returncode == 0, f"kubectl diff found changes:\n{diff.stdout}{diff.stderr}"
    apply(cluster, stack.objects())
    assert versions() == before, "applying the same render again changed stored objects"


def assert_nothing_left(cluster: Cluster, stack: Render, created: list[str]) -> None:
    left = [ref(body) for body in stack.objects() if stored(cluster, body) is not None]
    assert left == [], "deleted, yet still stored"
    for namespace in stack.own_namespaces | set(created):
        assert stored(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}) is None


@pytest.mark.parametrize("name", STACKS)
def test_the_api_server_admits_stores_runs_and_deletes_the_stack(
    cluster: Cluster, renders: dict[str, Render], name: str
) -> None:
    """dry run, apply, stored as sent, pods Ready under restricted, idempotent, deleted without a trace."""
    stack = renders[name]
    created = prerequisites(cluster, stack)
    try:
        apply_with_dry_run(cluster, stack)
        assert_stored_as_sent(cluster, stack)
        assert_pods_run_under_restricted(cluster, stack)
        assert_idempotent(cluster, stack)
    finally:
        delete(cluster, stack, created)
    assert_nothing_left(cluster, stack, created)


@pytest.fixture(scope="module")
def prod(cluster: Cluster, renders: dict[str, Render]) -> Iterator[Render]:
    """The prod stack applied once for the tests below; deleted again after them."""
    stack = renders["prod"]
    created = prerequisites(cluster, stack)
    try:
        apply(cluster, stack.objects())
        yield stack
    finally:
        delete(cluster, stack, created)


def test_restricted_is_enforced_a_control_pod_that_breaks_it_is_refused(cluster: Cluster, prod: Render) -> None:
    """A pod with no security context at all: valid, admitted where no level is enforced, refused here."""
    [namespace] = prod.own_namespaces
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "breaks-restricted", "namespace": namespace},
        "spec": {"containers": [{"name": "c", "image": "example.invalid/x:1"}]},
    }
    refused = apply(cluster, [pod], check=False)
    elsewhere = apply(cluster, [{**pod, "metadata": {**pod["metadata"], "namespace": "default"}}], "--dry-run=server")

    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in refused.stderr
    assert "runAsNonRoot != true" in refused.stderr and "allowPrivilegeEscalation != false" in refused.stderr
    assert stored(cluster, pod) is None
    assert elsewhere.returncode == 0


def changed_pipeline_render(tmp: Path) -> Render:
    """The prod stack with one pipeline changed, rendered from a copy of the project."""
    project = tmp / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py"):
        shutil.copy(REPO / name, project / name)
    shutil.copytree(REPO / "pipelines", project / "pipelines")
    wrapper = project / "pipelines" / "greeter" / "pipeline_wrapper.py"
    wrapper.write_text(wrapper.read_text() + "\n# changed by the e2e test: a new revision of the pipeline\n")
    return render("prod", tmp / "out", project=project)


def test_a_changed_pipeline_is_a_new_configmap_and_rolls_the_pods(
    cluster: Cluster, prod: Render, tmp_path: Path
) -> None:
    [deployment] = prod.of_kind("Deployment")
    rollout(cluster, deployment)
    old_pods = {p["metadata"]["name"] for p in pods_of(cluster, deployment)}
    [old_map] = prod.of_kind("ConfigMap")

    changed = changed_pipeline_render(tmp_path)
    [new_map] = changed.of_kind("ConfigMap")
    assert new_map["metadata"]["name"] != old_map["metadata"]["name"]
    try:
        apply(cluster, changed.objects())
        rollout(cluster, deployment)
        deadline = time.monotonic() + 60
        while not (pods := pods_of(cluster, deployment)) or {p["metadata"]["name"] for p in pods} & old_pods:
            assert time.monotonic() < deadline, "the old pods were not replaced by new ones"
            time.sleep(0.5)
        assert old_pods, "no pods before the change"
        for pod in pods:
            maps = {v["configMap"]["name"] for v in pod["spec"]["volumes"] if "configMap" in v}
            assert maps == {new_map["metadata"]["name"]}
        assert stored(cluster, new_map) is not None
    finally:
        cluster.kubectl(
            "delete",
            "configmap",
            new_map["metadata"]["name"],
            "-n",
            new_map["metadata"]["namespace"],
            "--ignore-not-found",
        )


def published_status(body: dict[str, Any]) -> dict[str, Any]:
    """The status each controller writes when it has done its part, in the shape its CRD validates."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def condition(kind: str, reason: str) -> dict[str, Any]:
        return {"type": kind, "status": "True", "reason": reason, "message": reason, "lastTransitionTime": now}

    if body["kind"] == "ExternalSecret":
        return {"conditions": [condition("Ready", "SecretSynced")]}
    controller = "gateway.envoyproxy.io/gatewayclass-controller"
    assert body["kind"] == "HTTPRoute"
    [parent] = body["spec"]["parentRefs"]
    return {
        "parents": [
            {"parentRef": parent, "controllerName": controller, "conditions": [condition("Accepted", "Accepted")]}
        ]
    }


def test_each_wait_for_expression_selects_what_its_controller_publishes(
    cluster: Cluster, renders: dict[str, Render]
) -> None:
    """`pulumi up` waits on `pulumi.com/waitFor`: before the controller (played here by the test, writing the
    status subresource the CRD validates) publishes, the wait fails; after, it holds."""
    stack = renders["gateway-envoy-oidc"]
    awaited = [b for b in stack.objects() if "pulumi.com/waitFor" in (b["metadata"].get("annotations") or {})]
    assert {b["kind"] for b in awaited} == {"ExternalSecret", "HTTPRoute"}
    created = prerequisites(cluster, stack)
    try:
        apply(cluster, stack.objects())
        for body in awaited:
            meta = body["metadata"]
            target = [api_resource(body), meta["name"], "-n", meta["namespace"]]
            expression = meta["annotations"]["pulumi.com/waitFor"]
            before = cluster.kubectl("wait", *target, f"--for={expression}", "--timeout=1s", check=False)
            assert before.returncode != 0, f"{ref(body)}: {expression} held before anything was published"
            cluster.kubectl(
                "patch",
                *target,
                "--subresource=status",
                "--type=merge",
                "-p",
                json.dumps({"status": published_status(body)}),
            )
            cluster.kubectl("wait", *target, f"--for={expression}", "--timeout=20s")
    finally:
        delete(cluster, stack, created)
