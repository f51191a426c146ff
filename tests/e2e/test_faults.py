"""Faults survived: an interrupted or failed `pulumi up` converges, with nothing orphaned and nothing lost.

Each test injects one fault into a real `pulumi up` of the prod settings (through the Automation API, on kwok's
node, where a fault's outcome is the engine's and the API server's, not a container's), prints what it injected,
when, and what the engine and the cluster said, then runs the documented recovery (`hayhooks-pulumi-recover`, as
the README's "When an up was interrupted" says) and checks that the next `up` converges: no pending operation left
in the state, every object of the stack in the cluster is in the state and none is there twice, and a preview
shows no change. The faults of a release that does not start and of a store that never syncs need running pods:
they are in test_prod.py, on the real node.

- The CLI killed (SIGKILL to it and its plugins, as a CI runner that dies takes them all; none left running) while
  the pipelines ConfigMap is created, while the Deployment rolls, while the Service's endpoints are awaited.
- kube-apiserver restarted while the Deployment is awaited; etcd frozen for five seconds during a rollout.
- A second stack with the same settings, into the same namespace by mistake: refused at its first object.
- Destroy after a partial `up`: nothing of the stack left (the namespace too, where `namespace.retain` is off).

Which provider ran: pulumi-kubernetes 4.25.0, the one the proxy serves. Where an outcome depends on its version it
is said below (from 4.29 a create is a POST, so an object a killed run made is refused as "already exists" rather
than adopted; the recovery makes both converge). Stand-ins as in test_engine.py. What the test copies of the prod
stack file change: the image (the local rebuild by digest) and the namespace's name, each test's own (the
`namespace` fixture), so that none waits for the one before it to be deleted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster
from controllers import Controllers
from engine import Engine, Outcome, Running
from projects import project_copy

from .support import in_namespace, live, names, wait_for

INSTANCE = "app.kubernetes.io/instance=hayhooks"
FAULT_TIMEOUT = 90.0


def steps(running: Running) -> tuple[set[str], set[str]]:
    """Resources whose step the engine has begun, and those whose step it has finished."""
    begun, done = set(), set()
    for event in running.events():
        if event.get("resource_pre_event"):
            begun.add(event["resource_pre_event"]["metadata"]["urn"].rsplit("::", 1)[-1])
        if event.get("res_outputs_event"):
            done.add(event["res_outputs_event"]["metadata"]["urn"].rsplit("::", 1)[-1])
    return begun, done


def started(running: Running) -> set[str]:
    """Resources whose step the engine began and has not finished."""
    begun, done = steps(running)
    return begun - done


def wait_until_in_flight(running: Running, predicate: Callable[[Running], bool], what: str) -> float:
    """Polls the engine's events until `predicate(running)` holds; the seconds since the operation started."""
    deadline = time.monotonic() + FAULT_TIMEOUT
    while not predicate(running):
        assert running.proc.poll() is None, (
            f"the up ended before {what}:\n{running.proc.stdout.read() if running.proc.stdout else ''}"
        )
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.05)
    return time.monotonic() - running.started


def exists(cluster: Cluster, namespace: str, kind: str, name: str) -> bool:
    return live(cluster, kind, namespace, name) is not None


# Kill points: what the engine has begun (and what must be in the cluster by then).
KILL_POINTS: dict[str, Callable[[Cluster, str, Running], bool]] = {
    # A ConfigMap's create takes milliseconds, less than a poll: killed as soon as the engine has begun it, in the
    # wave of creates the engine begins with it (the ServiceAccount, the ExternalSecret, the Service, ...).
    "configmap": lambda cluster, namespace, running: "hayhooks-pipelines" in steps(running)[0],
    "deployment": lambda cluster, namespace, running: (
        "hayhooks-deployment" in started(running) and exists(cluster, namespace, "deployment", "hayhooks")
    ),
    "service": lambda cluster, namespace, running: (
        "hayhooks-service" in started(running) and exists(cluster, namespace, "service", "http-hayhooks")
    ),
}


def pending_after_kill(engine: Engine) -> str:
    """The pending operations a killed run left, as the state says; a state the kill left unreadable (its save cut
    short on the file backend) is said as such: the recovery finishes that save."""
    try:
        pending = [(o["type"], o["resource"]["urn"].rsplit("::", 1)[-1]) for o in engine.pending_operations()]
    except RuntimeError as error:
        assert "failed to load checkpoint" in str(error), error
        return "unreadable: the kill cut the state's save short"
    assert pending, "a killed up left no pending operation: the kill came too late to test anything"
    return f"pending operations {pending}"


def recover(engine: Engine) -> str:
    """The documented recovery, run as users run it: the package's command in the project folder."""
    import subprocess

    command = [str(engine.python.parent / "hayhooks-pulumi-recover"), "--stack", engine.stack]
    command += ["--pulumi", str(engine.toolchain / "bin" / "pulumi")]
    result = subprocess.run(
        command, cwd=engine.project, env=engine.environ(), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"recovery failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def stack_objects(cluster: Cluster, namespace: str) -> set[str]:
    """Every object of the stack in its namespace (by the instance label), and the namespace: kind/name."""
    kinds = cluster.kubectl("api-resources", "--verbs=list", "--namespaced", "-o", "name").stdout.split()
    kinds = [k for k in kinds if k not in ("events", "events.events.k8s.io", "pods", "replicasets.apps")]
    kinds = [k for k in kinds if not k.startswith(("endpoints", "endpointslices"))]
    listed = cluster.kubectl("get", ",".join(kinds), "-n", namespace, "-l", INSTANCE, "-o", "json").stdout
    found = {f"{item['kind']}/{item['metadata']['name']}" for item in json.loads(listed)["items"]}
    return found | ({f"Namespace/{namespace}"} if live(cluster, "namespace", "", namespace) else set())


def state_objects(engine: Engine) -> set[str]:
    found = set()
    for resource in engine.resources():
        kind = resource["type"]
        if not kind.startswith("kubernetes:") or resource.get("external") or "::" not in resource["urn"]:
            continue
        outputs = resource.get("outputs") or {}
        if "metadata" in outputs and "kind" in outputs:
            found.add(f"{outputs['kind']}/{outputs['metadata']['name']}")
    return found


def assert_converged(cluster: Cluster, namespace: str, engine: Engine, up: Outcome) -> None:
    assert up.ok, up.text()
    assert engine.pending_operations() == [], engine.pending_operations()
    in_cluster, in_state = stack_objects(cluster, namespace), state_objects(engine)
    orphans = in_cluster - in_state
    print(
        f"converged: {len(in_cluster)} objects of the stack in the cluster, all in the state; orphaned: {len(orphans)}"
    )
    assert orphans == set(), f"in the cluster, not in the state: {orphans}"
    assert in_state <= in_cluster, f"in the state, not in the cluster: {in_state - in_cluster}"
    # Nothing twice: one of each auto-named Secret and of the pipelines ConfigMap.
    secrets = names(cluster, "secrets", namespace)
    assert len([s for s in secrets if s.startswith("hayhooks-basic-auth-")]) == 1, secrets
    assert len([m for m in names(cluster, "configmaps", namespace) if m.startswith("hayhooks-pipelines-")]) == 1
    again = engine.preview(expect_no_changes=True)
    assert again.ok, again.text()


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_killed_up_is_recovered_and_the_next_up_converges(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path, namespace: str, point: str
) -> None:
    engine = engines(
        project_copy(tmp_path, "prod", changes=in_namespace(namespace), image=cluster.hayhooks_image), "prod"
    )
    with Controllers(cluster):
        running = engine.start("up")
        at = wait_until_in_flight(running, lambda r: KILL_POINTS[point](cluster, namespace, r), f"reached {point}")
        flight = started(running)
        running.kill()
    print(f"FAULT: SIGKILL to the CLI and its plugins {at:.1f}s into `up`, with {sorted(flight)} in flight")
    assert running.survivors() == [], "a process of the killed up is still running"
    left = pending_after_kill(engine)
    print(f"the state after it: {left}; in the cluster: {sorted(stack_objects(cluster, namespace))}")

    said = recover(engine)
    print(f"recovery: {said.strip()}")
    if left.startswith("unreadable"):
        assert "finished that save" in said or "removed" in said, said
    with Controllers(cluster):
        up = engine.up()
    assert_converged(cluster, namespace, engine, up)


def test_destroy_after_a_partial_up_leaves_nothing_of_the_stack(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path, namespace: str
) -> None:
    project = project_copy(
        tmp_path, "prod", changes={**in_namespace(namespace), "namespace.retain": False}, image=cluster.hayhooks_image
    )
    engine = engines(project, "prod")
    with Controllers(cluster):
        running = engine.start("up")
        at = wait_until_in_flight(
            running, lambda r: KILL_POINTS["service"](cluster, namespace, r), "reached the Service"
        )
        running.kill()
    print(f"FAULT: SIGKILL {at:.1f}s into `up`; in the cluster: {sorted(stack_objects(cluster, namespace))}")
    assert running.survivors() == [], "a process of the killed up is still running"
    recover(engine)
    destroyed = engine.destroy()
    assert destroyed.ok, destroyed.text()
    wait_for(lambda: live(cluster, "namespace", "", namespace) is None, "the namespace is left (retain is off)", 120)
    assert engine.resources() == []


def test_an_api_server_restart_and_a_frozen_etcd_mid_up_converge(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path, namespace: str
) -> None:
    """The API server restarted while the Deployment is awaited: `up` goes on once it answers again or fails with
    the provider's words; then, on a pipeline change, etcd frozen for 5 s while the Deployment rolls. After each,
    the documented recovery and an `up` converge."""
    project = project_copy(tmp_path, "prod", changes=in_namespace(namespace), image=cluster.hayhooks_image)
    engine = engines(project, "prod")
    with Controllers(cluster):
        running = engine.start("up")
        at = wait_until_in_flight(running, lambda r: KILL_POINTS["deployment"](cluster, namespace, r), "the rollout")
        took = cluster.restart("kube-apiserver")
        print(f"FAULT: kube-apiserver restarted {at:.1f}s into `up`; it answered again {took:.1f}s later")
        first = running.wait()
    print(f"the engine said: {'succeeded' if first.ok else 'failed: ' + (first.error or '')[-600:]}")
    if not first.ok:
        assert "kubernetes" in first.text().lower() or "connection refused" in first.text(), first.text()
    recover(engine)
    with Controllers(cluster):
        up = engine.up()
    assert_converged(cluster, namespace, engine, up)

    wrapper = project / "pipelines" / "greeter" / "pipeline_wrapper.py"
    wrapper.write_text(wrapper.read_text() + "\n# a new revision, made by the fault test\n")
    with Controllers(cluster):
        running = engine.start("up")
        at = wait_until_in_flight(running, lambda r: "hayhooks-deployment" in started(r), "the rollout")
        freeze = threading.Thread(target=cluster.pause, args=("etcd", 5.0))
        freeze.start()
        freeze.join()
        print(f"FAULT: etcd frozen (SIGSTOP) for 5 s, {at:.1f}s into `up`")
        second = running.wait()
    print(f"the engine said: {'succeeded' if second.ok else 'failed: ' + (second.error or '')[-600:]}")
    recover(engine)
    with Controllers(cluster):
        up = engine.up()
    assert_converged(cluster, namespace, engine, up)


def test_a_second_stack_into_the_same_namespace_is_refused_and_changes_nothing(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path, namespace: str
) -> None:
    """Two stack names, the same settings. The components mark each object with the stack that manages it, so the
    second stack's first object conflicts with the first's under server-side apply. (pulumi-kubernetes 4.25, which
    ran here, applies a create and would otherwise take the first stack's objects over silently; from 4.29 a
    create is refused as "already exists" anyway.)"""
    first = engines(
        project_copy(tmp_path / "first", "prod", changes=in_namespace(namespace), image=cluster.hayhooks_image), "prod"
    )
    with Controllers(cluster):
        assert (up := first.up()).ok, up.text()

    def snapshot() -> dict[str, tuple[Any, ...]]:
        """What a second stack's apply would change: an object's spec (its generation), who manages its fields,
        and which stack it says manages it. (Status updates by the controllers change none of these.)"""
        kinds = "deployments,services,configmaps,secrets,ingresses,networkpolicies,pdb,hpa,serviceaccounts"
        listed = cluster.kubectl("get", kinds, "-n", namespace, "-o", "json", "--show-managed-fields").stdout
        own = cluster.kubectl("get", "namespace", namespace, "-o", "json", "--show-managed-fields").stdout
        items = [*json.loads(listed)["items"], json.loads(own)]
        return {
            f"{i['kind']}/{i['metadata']['name']}": (
                i["metadata"].get("generation"),
                sorted(m["manager"] for m in i["metadata"].get("managedFields", []) if m.get("operation") == "Apply"),
                (i["metadata"].get("annotations") or {}).get("hayhooks.deepset.ai/stack"),
            )
            for i in items
        }

    before = snapshot()
    second = engines(
        project_copy(tmp_path / "second", "staging", changes=in_namespace(namespace), image=cluster.hayhooks_image),
        "staging",
    )
    with Controllers(cluster):
        refused = second.up()
    errors = "\n".join(refused.diagnostics("error"))
    print(f"the second stack's up said: {errors[:800]}")
    assert not refused.ok
    assert "conflict" in errors and "hayhooks.deepset.ai/stack" in errors, errors
    assert "Namespace" in errors or "hayhooks-namespace" in errors, errors
    assert snapshot() == before, "the second stack changed the first one's objects"
    assert first.preview(expect_no_changes=True).ok
