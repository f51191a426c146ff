"""The real engine runs this repository's own `__main__.py` for the prod settings on the local cluster:
preview, up, a second preview with no change, a pipeline change, a `fromConfig` secret rotated with
`pulumi config set --secret`, the stack's outputs against what the cluster holds, the exported state without a
plaintext secret, destroy; and the namespace created, adopted, kept.

What runs: the toolchain's `pulumi` through the Automation API's inline programs (no Python language host),
the real pulumi-kubernetes provider (the version of `e2e/versions.env`, with the SDK of `make e2e-venv` at the
same version), the real API server. Stand-ins, each said in the test's output: pulumi-random (the basic-auth
password; tests/e2e/standin), and the controllers the local cluster lacks (an ExternalSecret's Ready
condition, an Ingress address: the status the real controllers write). kwok plays the kubelet, so the
placeholder image digest is never pulled.

What the test copy of the prod stack file changes, and why: a `fromConfig` secret `WEBHOOK_TOKEN` is added,
to rotate one with `pulumi config set --secret` (the prod file's own secret comes from the store).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from cluster import Cluster
from engine import Engine

from .support import (
    REPO,
    Controllers,
    differences_from_render,
    live,
    names,
    project_copy,
    registered,
    render,
    rendered_names,
    wait_for,
)

NAMESPACE = "hayhooks"
WEBHOOK = {"secrets.WEBHOOK_TOKEN": {"fromConfig": "webhookToken"}}
# Objects every namespace has, which no stack makes.
NAMESPACE_DEFAULTS = {("configmaps", "kube-root-ca.crt"), ("serviceaccounts", "default")}


@pytest.fixture(autouse=True)
def _namespace_removed(cluster: Cluster) -> Any:
    """In production `pulumi destroy` keeps the namespace (namespace.retain): each test removes it after."""
    yield
    cluster.kubectl("delete", "namespace", NAMESPACE, "--wait=true", "--timeout=120s", "--ignore-not-found")


def leftovers(cluster: Cluster, namespace: str) -> list[str]:
    """Every object of every listable namespaced kind in the namespace, but those each namespace has."""
    kinds = cluster.kubectl("api-resources", "--verbs=list", "--namespaced", "-o", "name").stdout.split()
    kinds = [k for k in kinds if k not in ("events", "events.events.k8s.io")]
    listed = json.loads(cluster.kubectl("get", ",".join(kinds), "-n", namespace, "-o", "json").stdout)["items"]
    found = []
    for item in listed:
        kind = item["kind"].lower() + "s"
        if (kind, item["metadata"]["name"]) not in NAMESPACE_DEFAULTS:
            found.append(f"{item['kind']}/{item['metadata']['name']}")
    return found


def pods(cluster: Cluster) -> set[str]:
    return names(cluster, "pods", NAMESPACE)


def ready_replicas(cluster: Cluster) -> int:
    deployment = live(cluster, "deployment", NAMESPACE, "hayhooks")
    return 0 if deployment is None else int(deployment["status"].get("readyReplicas", 0))


def referenced_secrets(deployment: dict[str, Any]) -> set[str]:
    spec = deployment["spec"]["template"]["spec"]
    found = set()
    for container in spec["containers"]:
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                found.add(source["secretRef"]["name"])
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                found.add(ref["name"])
    return found


class SecretWatch:
    """Samples the cluster while an update runs: each Secret the Deployment's pods are pointed at exists."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster, self.samples, self.missing = cluster, 0, []  # type: ignore[var-annotated]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            deployment = live(self.cluster, "deployment", NAMESPACE, "hayhooks")
            if deployment is None:
                continue
            present = names(self.cluster, "secrets", NAMESPACE)
            gone = referenced_secrets(deployment) - present
            self.samples += 1
            if gone:
                self.missing.append(sorted(gone))

    def __enter__(self) -> SecretWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def in_order(steps: list[tuple[str, str]], *wanted: tuple[str, str]) -> bool:
    return all(s in steps for s in wanted) and [steps.index(s) for s in wanted] == sorted(
        steps.index(s) for s in wanted
    )


def test_prod_through_the_engine_up_no_change_pipeline_change_rotation_outputs_and_destroy(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path
) -> None:
    project = project_copy(tmp_path, "prod", changes=WEBHOOK, image=cluster.hayhooks_image)
    engine = engines(project, "prod")
    engine.init()
    engine.set_config("hayhooks:webhookToken", "token-one", secret=True)
    assert "token-one" not in (project / "Pulumi.prod.yaml").read_text()

    # preview: the engine plans what the offline render of the same stack file shows.
    rendered = render("prod", tmp_path / "render", project=project).out
    preview = engine.preview()
    assert preview.ok, preview.text()
    assert registered(preview) == rendered_names(rendered)
    assert set(preview.summary) == {"create"}, preview.summary

    with Controllers(cluster):
        up = engine.up()
    assert up.ok, up.text()
    # The HPA raises the one pod a new Deployment starts with to minReplicas at its next sync.
    wait_for(lambda: ready_replicas(cluster) >= 2, "the HPA did not bring the pods to minReplicas", 90)
    assert differences_from_render(cluster, rendered) == {}

    # The stack's outputs are what the cluster holds; the password is the one its htpasswd accepts.
    outputs = json.loads((rendered / "outputs.json").read_text())
    assert up.secret_outputs == {"basicAuthPassword", "apiKeys"}, up.secret_outputs
    for key in ("namespace", "serviceName", "internalUrl", "publicUrl", "image", "env", "basicAuthUsername"):
        assert up.outputs[key] == outputs[key], key
    service = live(cluster, "service", NAMESPACE, up.outputs["serviceName"])
    assert service is not None
    deployment = live(cluster, "deployment", NAMESPACE, "hayhooks")
    assert deployment is not None
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == up.outputs["image"]
    plain_env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    assert plain_env == up.outputs["env"]
    password = engine.stack_output("basicAuthPassword")
    ingress = live(cluster, "ingress", NAMESPACE, "hayhooks")
    assert ingress is not None
    htpasswd = live(
        cluster, "secret", NAMESPACE, ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"]
    )
    assert htpasswd is not None
    user, hashed = base64.b64decode(htpasswd["data"]["auth"]).decode().strip().split(":", 1)
    assert user == engine.stack_output("basicAuthUsername")
    assert bcrypt.checkpw(password.encode(), hashed.encode())

    # The state holds no plaintext secret: not the password, its hash, nor the config value.
    state = json.dumps(engine.export())
    for plaintext in (password, hashed, "token-one"):
        assert plaintext not in state

    again = engine.preview(expect_no_changes=True)
    assert again.ok, again.text()
    # Nothing to change: only the CRD the component reads (`checkCrds`) is read again.
    assert set(again.summary) <= {"same", "read"}, again.summary

    # A changed pipeline: a new ConfigMap, created before the Deployment rolls onto it; the old one goes after.
    old_maps, old_pods = names(cluster, "configmaps", NAMESPACE), pods(cluster)
    wrapper = project / "pipelines" / "greeter" / "pipeline_wrapper.py"
    wrapper.write_text(wrapper.read_text() + "\n# a new revision, made by the e2e test\n")
    planned = engine.preview()
    assert planned.planned() == {"hayhooks-pipelines": "replace", "hayhooks-deployment": "update"}, planned.planned()
    with Controllers(cluster):
        changed = engine.up()
    assert changed.ok, changed.text()
    steps = changed.steps()
    assert in_order(
        steps,
        ("create-replacement", "hayhooks-pipelines"),
        ("update", "hayhooks-deployment"),
        ("delete-replaced", "hayhooks-pipelines"),
    ), steps
    maps = {n for n in names(cluster, "configmaps", NAMESPACE) if n.startswith("hayhooks-pipelines-")}
    assert len(maps) == 1 and not maps & old_maps, maps
    wait_for(lambda: pods(cluster) and not pods(cluster) & old_pods, "the pods did not roll onto the new pipelines")

    # Rotation with `pulumi config set --secret`: a new Secret before the pods move to it, the old one after;
    # sampled while the update runs, the Secret the pods are pointed at always exists.
    rolled_from = pods(cluster)
    engine.set_config("hayhooks:webhookToken", "token-two", secret=True)
    with Controllers(cluster), SecretWatch(cluster) as watch:
        rotated = engine.up()
    assert rotated.ok, rotated.text()
    steps = rotated.steps()
    assert in_order(
        steps,
        ("create-replacement", "hayhooks-config-secret"),
        ("update", "hayhooks-deployment"),
        ("delete-replaced", "hayhooks-config-secret"),
    ), steps
    assert watch.samples > 0 and watch.missing == [], watch.missing
    wait_for(lambda: pods(cluster) and not pods(cluster) & rolled_from, "the pods did not roll on the new value")
    deployment = live(cluster, "deployment", NAMESPACE, "hayhooks")
    assert deployment is not None
    values = {}
    for secret in referenced_secrets(deployment):
        body = live(cluster, "secret", NAMESPACE, secret)
        assert body is not None
        values |= {k: base64.b64decode(v).decode() for k, v in body.get("data", {}).items()}
    assert values.get("WEBHOOK_TOKEN") == "token-two"
    assert "token-two" not in json.dumps(engine.export())

    destroyed = engine.destroy()
    assert destroyed.ok, destroyed.text()
    # In production the namespace is kept (namespace.retain), emptied of the stack's objects.
    assert live(cluster, "namespace", "", NAMESPACE) is not None
    # The store's Secret goes with its ExternalSecret, by the garbage collector, a moment later.
    wait_for(lambda: leftovers(cluster, NAMESPACE) == [], f"left after destroy: {leftovers(cluster, NAMESPACE)}", 60)


def existing_namespace(cluster: Cluster, name: str) -> None:
    """A namespace a platform team made, holding a Secret the pods would need before the first deploy."""
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("create", "secret", "generic", "registry-pull", "-n", name, "--from-literal=k=v")


def test_an_existing_namespace_is_adopted_and_never_deleted(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path
) -> None:
    """`namespace.adopt` on a namespace a platform team made: labelled by server-side apply, and after
    `pulumi destroy` still there with what it held, only the labels gone."""
    existing_namespace(cluster, NAMESPACE)
    project = project_copy(
        tmp_path, "prod", changes={"namespace.adopt": True, "namespace.retain": False}, image=cluster.hayhooks_image
    )
    engine = engines(project, "prod")
    with Controllers(cluster):
        up = engine.up()
    assert up.ok, up.text()
    namespace = live(cluster, "namespace", "", NAMESPACE)
    assert namespace is not None
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert live(cluster, "secret", NAMESPACE, "registry-pull") is not None

    destroyed = engine.destroy()
    assert destroyed.ok, destroyed.text()
    namespace = live(cluster, "namespace", "", NAMESPACE)
    assert namespace is not None, "destroying an adopted namespace's patch deleted the namespace"
    assert namespace["metadata"].get("deletionTimestamp") is None
    assert live(cluster, "secret", NAMESPACE, "registry-pull") is not None
    assert "pod-security.kubernetes.io/enforce" not in namespace["metadata"].get("labels", {})


def test_switching_namespace_create_off_keeps_the_namespace_and_what_is_in_it(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path
) -> None:
    engine = engines(project_copy(tmp_path, "prod", image=cluster.hayhooks_image), "prod")
    with Controllers(cluster):
        assert (up := engine.up()).ok, up.text()
    project_copy(tmp_path, "prod", changes={"namespace.create": False}, image=cluster.hayhooks_image)
    with Controllers(cluster):
        assert (changed := engine.up()).ok, changed.text()
    assert ("delete", "hayhooks-namespace") in changed.steps() or any(
        name == "hayhooks-namespace" for _, name in changed.steps()
    )
    assert live(cluster, "namespace", "", NAMESPACE) is not None
    deployment = live(cluster, "deployment", NAMESPACE, "hayhooks")
    assert deployment is not None and deployment["metadata"].get("deletionTimestamp") is None


def test_the_repository_program_is_what_ran(cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path) -> None:
    """The engine ran the repository's `__main__.py` itself: its component's URN, as the program names it."""
    project = project_copy(tmp_path, "prod", image=cluster.hayhooks_image)
    engine = engines(project, "prod")
    preview = engine.preview()
    assert preview.ok, preview.text()
    assert "urn:pulumi:prod::hayhooks::hayhooks:index:HayhooksService::hayhooks" in preview.urns()
    assert (project / "__main__.py").resolve() == (REPO / "__main__.py").resolve()
