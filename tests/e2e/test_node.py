"""The prod settings on the real node: the engine runs this repository's program, and the kubelet runs the pods
with containerd from the locally built image, pulled by digest from the registry on loopback.

- The pods start under `restricted`: the startup probe on `/status`, readiness on `/status/<pipeline>` of each
  required pipeline, liveness; env from the Secrets resolved by the kubelet; the pipelines ConfigMap mounted
  read-only; the root filesystem read-only, a non-root UID >= 10000, no capabilities, seccomp `RuntimeDefault`,
  no service-account token; `/deploy_files` answers 404.
- Through the Service (kube-proxy) and nginx configured as the Ingress is: basic auth refused without and
  accepted with the stack's password; CORS as configured.
- A pipeline change rolls the pods while a bounded request loop through the Service runs: no failed request.
- A deleted pod is replaced by a Ready one; the HPA object is admitted.

What the test copy of the prod stack file changes, and why: the image (the local rebuild, by digest: no registry
can be reached), `pod.nodeSelector` and `pod.tolerations` (the real node; kwok's takes what does not ask), a
`fromConfig` secret `WEBHOOK_TOKEN` (a Secret the test sets). Stand-ins: pulumi-random (the basic-auth password)
and the controllers the cluster lacks (the External Secrets Operator writes the store's Secret with test
values; ingress-nginx publishes an address): tests/e2e/support.py says what each writes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import pytest
from cluster import Cluster
from engine import Engine
from node import NODE_NAME, node_selection

from .support import Controllers, delete_namespaces, live, names, project_copy, wait_for

NAMESPACE = "hayhooks"
POD_LABELS = "app.kubernetes.io/instance=hayhooks"


def real_node_changes(cluster: Cluster) -> dict[str, Any]:
    return {
        "image": cluster.hayhooks_image,
        "pod.nodeSelector": node_selection()["nodeSelector"],
        "pod.tolerations": node_selection()["tolerations"],
        "secrets.WEBHOOK_TOKEN": {"fromConfig": "webhookToken"},
    }


@dataclass
class Deployed:
    cluster: Cluster
    engine: Engine
    project: Path
    outputs: dict[str, Any] = field(default_factory=dict)

    def pods(self) -> list[dict[str, Any]]:
        listed = self.cluster.kubectl("get", "pods", "-n", NAMESPACE, "-l", POD_LABELS, "-o", "json").stdout
        return [p for p in json.loads(listed)["items"] if not p["metadata"].get("deletionTimestamp")]

    def exec(self, pod: str, *command: str) -> tuple[int, str]:
        result = self.cluster.kubectl("exec", "-n", NAMESPACE, pod, "-c", "hayhooks", "--", *command, check=False)
        return result.returncode, result.stdout + result.stderr

    def python(self, pod: str, code: str) -> tuple[int, str]:
        return self.exec(pod, "python", "-c", code)

    @property
    def service_address(self) -> tuple[str, int]:
        service = live(self.cluster, "service", NAMESPACE, self.outputs["serviceName"])
        assert service is not None
        return service["spec"]["clusterIP"], int(service["spec"]["ports"][0]["port"])


def request(address: tuple[str, int], method: str, path: str, headers: dict[str, str] | None = None, body: Any = None):
    connection = HTTPConnection(*address, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=data, headers={**(headers or {}), "Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def deployed(cluster: Cluster, sdk: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """The prod settings up on the real node, once for the tests below; destroyed after them."""
    root = tmp_path_factory.mktemp("real-node")
    project = project_copy(root, "prod", changes=real_node_changes(cluster))
    engine = Engine(
        project=project,
        stack="prod",
        root=root / "engine",
        toolchain=cluster.toolchain,
        python=sdk,
        path=(Path(__file__).resolve().parent / "standin",),
        extra_env={"KUBECONFIG": str(cluster.kubeconfig)},
    )
    engine.init()
    engine.set_config("hayhooks:webhookToken", "webhook-token-one", secret=True)
    try:
        with Controllers(cluster):
            up = engine.up()
        assert up.ok, up.text()
        print("STAND-IN: pulumi-random (tests/e2e/standin) served the basic-auth password")
        deployed = Deployed(cluster, engine, project, up.outputs)
        # With autoscaling the Deployment leaves `replicas` to the HPA: a first `up` returns once the one pod the
        # API starts with is ready, and the HPA raises the count to minReplicas at its next sync.
        wait_for(lambda: len(ready_pods(deployed)) >= 2, "the HPA did not bring the pods to minReplicas", 90)
        yield deployed
    finally:
        engine.teardown()
        delete_namespaces(cluster, NAMESPACE)


def test_the_pods_run_on_the_real_node_from_the_image_by_digest_under_restricted(deployed: Deployed) -> None:
    pods = deployed.pods()
    assert len(pods) >= 2
    namespace = live(deployed.cluster, "namespace", "", NAMESPACE)
    assert (
        namespace is not None and namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    )
    for pod in pods:
        assert pod["spec"]["nodeName"] == NODE_NAME
        [status] = pod["status"]["containerStatuses"]
        assert status["ready"] is True and status["started"] is True, (pod["metadata"]["name"], status)
        assert status["imageID"].endswith(deployed.outputs["image"].split("@", 1)[1]), status["imageID"]
        assert status["restartCount"] == 0, status


def test_the_kubelet_ran_the_probes_as_rendered(deployed: Deployed) -> None:
    """Startup on `/status`, readiness on each required pipeline (one exec check for several), liveness: the pods
    are Ready, so the kubelet's probes passed; the readiness command, run the same way, says why."""
    pod = deployed.pods()[0]
    [container] = pod["spec"]["containers"]
    assert container["startupProbe"]["httpGet"]["path"] == "/status"
    assert "tcpSocket" in container["livenessProbe"]
    readiness = container["readinessProbe"]
    if "exec" in readiness:
        code, said = deployed.exec(pod["metadata"]["name"], *readiness["exec"]["command"])
        assert code == 0, said
    else:
        assert readiness["httpGet"]["path"].startswith("/status/")
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert conditions["Ready"] == "True" and conditions["ContainersReady"] == "True"
    events = json.loads(
        deployed.cluster.kubectl(
            "get",
            "events",
            "-n",
            NAMESPACE,
            "--field-selector",
            f"involvedObject.name={pod['metadata']['name']}",
            "-o",
            "json",
        ).stdout
    )["items"]
    # While the server loads its pipelines the startup probe may fail (that is what its budget is for); nothing else.
    troubles = [
        f"{e['reason']}: {e['message']}"
        for e in events
        if e["reason"] in ("BackOff", "Failed", "Killing")
        or (e["reason"] == "Unhealthy" and not e["message"].startswith("Startup probe failed"))
    ]
    assert troubles == []


def test_env_from_the_secrets_is_resolved_by_the_kubelet(deployed: Deployed) -> None:
    pod = deployed.pods()[0]["metadata"]["name"]
    code, said = deployed.python(
        pod,
        "import os, json; print(json.dumps({k: os.environ.get(k) for k in ('WEBHOOK_TOKEN', 'EXAMPLE_LLM_API_KEY')}))",
    )
    assert code == 0, said
    values = json.loads(said.strip().splitlines()[-1])
    assert values["WEBHOOK_TOKEN"] == "webhook-token-one"
    assert values["EXAMPLE_LLM_API_KEY"] == "e2e-store-value:prod/hayhooks/llm:api_key"


def test_the_container_is_locked_down(deployed: Deployed) -> None:
    pod = deployed.pods()[0]["metadata"]["name"]
    code, status = deployed.exec(pod, "cat", "/proc/1/status")
    assert code == 0, status
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert int(fields["CapEff"].strip(), 16) == 0 and int(fields["CapBnd"].strip(), 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2"
    uid = int(fields["Uid"].split()[0])
    assert uid >= 10000 and int(fields["Gid"].split()[0]) >= 10000
    code, said = deployed.python(pod, "open('/opt/venv/written', 'w')")
    assert code != 0 and "Read-only file system" in said, said
    env = {e["name"]: e.get("value") for e in deployed.pods()[0]["spec"]["containers"][0].get("env", [])}
    pipelines = env["HAYHOOKS_PIPELINES_DIR"]
    code, said = deployed.python(pod, f"open('{pipelines}/written', 'w')")
    assert code != 0 and ("Read-only file system" in said or "Permission denied" in said), said
    code, said = deployed.python(pod, "import os; print(os.path.exists('/var/run/secrets/kubernetes.io'))")
    assert said.strip() == "False", "a service-account token is mounted"
    for folder in ("/tmp", env["HOME"]):
        code, said = deployed.python(pod, f"open('{folder}/written', 'w').write('x')")
        assert code == 0, f"{folder}: {said}"


def test_through_the_service_the_server_answers_and_upload_routes_are_gone(deployed: Deployed) -> None:
    address = deployed.service_address
    status, _, body = request(address, "GET", "/status")
    assert status == 200 and json.loads(body)["durable_mode"] is True
    assert request(address, "POST", "/deploy_files", body={"name": "x", "files": {}})[0] == 404
    status, _, body = request(address, "POST", "/greeter/run", body={"name": "Ada"})
    assert status == 200, body


def ready_pods(deployed: Deployed) -> list[dict[str, Any]]:
    return [
        p
        for p in deployed.pods()
        if {c["type"]: c["status"] for c in p["status"].get("conditions", [])}.get("Ready") == "True"
    ]


@dataclass
class Loop:
    """Requests through the Service, one after another, until stopped: every answer counted."""

    address: tuple[str, int]
    answers: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                status = request(self.address, "POST", "/greeter/run", body={"name": "roll"})[0]
                self.answers[str(status)] = self.answers.get(str(status), 0) + 1
                if status != 200:
                    self.failures.append(f"HTTP {status}")
            except OSError as error:
                self.failures.append(repr(error))
            time.sleep(0.05)


def test_a_pipeline_change_rolls_the_pods_without_a_failed_request(deployed: Deployed) -> None:
    before = {p["metadata"]["name"] for p in deployed.pods()}
    wrapper = deployed.project / "pipelines" / "greeter" / "pipeline_wrapper.py"
    wrapper.write_text(wrapper.read_text() + "\n# a new revision, made by the e2e test\n")
    loop = Loop(deployed.service_address)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        with Controllers(deployed.cluster):
            changed = deployed.engine.up()
    finally:
        time.sleep(2)
        loop.stop.set()
        thread.join(timeout=15)
    assert changed.ok, changed.text()
    after = {p["metadata"]["name"] for p in deployed.pods()}
    assert after and not after & before, (before, after)
    served = sum(loop.answers.values())
    print(f"requests through the Service during the rollout: {served}, answers {loop.answers}")
    assert served >= 20 and loop.failures == [], loop.failures


def test_a_deleted_pod_is_replaced_by_a_ready_one_and_the_hpa_is_admitted(deployed: Deployed) -> None:
    victim = deployed.pods()[0]["metadata"]["name"]
    deployed.cluster.kubectl("delete", "pod", victim, "-n", NAMESPACE, "--wait=false")

    def replaced() -> bool:
        pods = deployed.pods()
        return victim not in {p["metadata"]["name"] for p in pods} and len(ready_pods(deployed)) >= 2

    wait_for(replaced, "no Ready pod replaced the deleted one", timeout=120)
    hpa = live(deployed.cluster, "hpa", NAMESPACE, "hayhooks")
    assert hpa is not None and hpa["spec"]["scaleTargetRef"]["name"] == "hayhooks"
    assert names(deployed.cluster, "pods", NAMESPACE)
