"""The prod settings through the real engine on the real node: this repository's `__main__.py` run by the engine
(the Automation API), its pods run by the kubelet with containerd from the locally built image, pulled by digest
from the registry on loopback. The tests below run in this order on one deployment, as a user's would evolve:

1. preview plans what the offline render of the same stack file shows; `up` applies exactly that;
2. the stack's outputs are what the cluster holds (the basic-auth password checked against the htpasswd with
   bcrypt), `pulumi stack export` holds no plaintext secret, a second preview changes nothing;
3. the pods start under `restricted`: startup, readiness and liveness probes run by the kubelet, env from the
   Secrets resolved by the kubelet, a read-only root and pipelines mount, no capabilities, seccomp, no token;
4. nginx configured as ingress-nginx applies the Ingress, in front of the Service (kube-proxy): basic auth
   refused without and accepted with the stack's password, the upload paths never routed, CORS as configured;
5. a pipeline change: a new ConfigMap before the Deployment rolls onto it, the old one after, while requests
   through the Service keep getting answers; then a `fromConfig` secret rotated with `pulumi config set
   --secret`: the Secret the pods are pointed at exists at every moment;
6. a deleted pod is replaced by a Ready one; the HPA object is admitted;
7. destroy leaves nothing of the stack (the namespace is kept: `namespace.retain`).

What the test copy of the prod stack file changes, and why: the image (the local rebuild by digest: the stack
file's placeholder digest is no image's, and no registry can be reached), the namespace (`hayhooks-prod`, its own,
left to the session's cluster as conftest's `namespace` fixture says), `pod.nodeSelector` and `pod.tolerations`
(the real node, tainted so that only pods that ask land there), a `fromConfig` secret `WEBHOOK_TOKEN` (one the
test rotates; the prod file's own comes from the store). What stands in, each said in the output: pulumi-random
(the basic-auth password), and the controllers the cluster lacks (the External Secrets Operator writes the store's
Secret with test values; ingress-nginx publishes an address): tests/e2e/support.py says what each writes.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml
from cluster import Cluster
from controllers import Controllers
from engine import Engine, Outcome
from hayhooks_pulumi.kubernetes.secrets.models import READY_TIMEOUT_MIN
from hayhooks_pulumi.server.facts import DOCS_PATHS, UPLOAD_PATHS
from helpers.ingress_nginx import Edge, annotations, running_edge
from node import NODE_NAME, node_selection
from projects import project_copy, stack_engine

from .support import (
    differences_from_render,
    in_namespace,
    live,
    names,
    registered,
    render,
    rendered_names,
    wait_for,
)

# The test copy's namespace: its own, so that no test after it waits for its deletion.
NAMESPACE = "hayhooks-prod"
POD_LABELS = "app.kubernetes.io/instance=hayhooks"
# Objects every namespace has, which no stack makes.
NAMESPACE_DEFAULTS = {("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")}
AUTH_SECRET = "nginx.ingress.kubernetes.io/auth-secret"


@dataclass
class Prod:
    cluster: Cluster
    engine: Engine
    project: Path
    rendered: Path
    preview: Outcome
    up: Outcome
    config: dict[str, Any]
    changes: dict[str, Any]

    @property
    def outputs(self) -> dict[str, Any]:
        return self.up.outputs

    def pods(self) -> list[dict[str, Any]]:
        listed = self.cluster.api.list(self.cluster.api.resource("pods"), NAMESPACE, selector=POD_LABELS)
        return [p for p in listed if not p["metadata"].get("deletionTimestamp")]

    def ready_pods(self) -> list[dict[str, Any]]:
        return [p for p in self.pods() if _conditions(p).get("Ready") == "True"]

    def exec(self, pod: str, *command: str) -> tuple[int, str]:
        result = self.cluster.kubectl("exec", "-n", NAMESPACE, pod, "-c", "hayhooks", "--", *command, check=False)
        return result.returncode, result.stdout + result.stderr

    def python(self, pod: str, code: str) -> tuple[int, str]:
        return self.exec(pod, "python", "-c", code)

    def service(self) -> dict[str, Any]:
        service = live(self.cluster, "service", NAMESPACE, self.outputs["serviceName"])
        assert service is not None
        return service

    @property
    def service_address(self) -> tuple[str, int]:
        spec = self.service()["spec"]
        return spec["clusterIP"], int(spec["ports"][0]["port"])

    def up_again(self) -> Outcome:
        with Controllers(self.cluster):
            return self.engine.up()


def _conditions(pod: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in pod["status"].get("conditions", [])}


def request(address: tuple[str, int], method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
    connection = HTTPConnection(*address, timeout=10)
    try:
        data = json.dumps(body).encode() if body is not None else None
        connection.request(method, path, body=data, headers={**(headers or {}), "Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def prod(cluster: Cluster, sdk: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prod]:
    """The prod settings up on the real node, once for this module; destroyed (by the last test, else here)."""
    root = tmp_path_factory.mktemp("prod")
    changes = {
        **in_namespace(NAMESPACE),
        "pod.nodeSelector": node_selection()["nodeSelector"],
        "pod.tolerations": node_selection()["tolerations"],
        "secrets.WEBHOOK_TOKEN": {"fromConfig": "webhookToken"},
    }
    project = project_copy(root, "prod", changes=changes, image=cluster.hayhooks_image)
    engine = stack_engine(cluster, sdk, root / "engine", project, "prod")
    engine.init()
    engine.set_config("hayhooks:webhookToken", "token-one", secret=True)
    assert "token-one" not in (project / "Pulumi.prod.yaml").read_text()
    rendered = render("prod", root / "render", project=project).out
    config = yaml.safe_load((project / "Pulumi.prod.yaml").read_text())
    try:
        preview = engine.preview()
        assert preview.ok, preview.text()
        with Controllers(cluster):
            up = engine.up()
        assert up.ok, up.text()
        print("STAND-IN: pulumi-random (tests/e2e/standin) served the basic-auth password")
        deployed = Prod(cluster, engine, project, rendered, preview, up, config["config"]["hayhooks:service"], changes)
        # With autoscaling the Deployment leaves `replicas` to the HPA: a first `up` returns once the one pod the
        # API starts with is ready, and the HPA raises the count to minReplicas at its next sync.
        wait_for(lambda: len(deployed.ready_pods()) >= 2, "the HPA did not bring the pods to minReplicas", 90)
        yield deployed
    finally:
        engine.teardown()  # the namespace, emptied, is left to the session's cluster


# ------------------------------------------------------------------------------------------------ 1, 2


def test_up_applies_what_the_render_shows(prod: Prod) -> None:
    assert registered(prod.preview) == rendered_names(prod.rendered)
    assert set(prod.preview.summary) == {"create"}, prod.preview.summary
    assert differences_from_render(prod.cluster, prod.rendered) == {}


def test_the_outputs_are_what_the_cluster_holds_and_the_state_no_plaintext(prod: Prod) -> None:
    outputs = json.loads((prod.rendered / "outputs.json").read_text())
    assert prod.up.secret_outputs == {"basicAuthPassword", "apiKeys"}
    for key in ("namespace", "serviceName", "internalUrl", "publicUrl", "image", "env", "basicAuthUsername"):
        assert prod.outputs[key] == outputs[key], key
    [container] = live(prod.cluster, "deployment", NAMESPACE, "hayhooks")["spec"]["template"]["spec"]["containers"]  # type: ignore[index]
    assert container["image"] == prod.outputs["image"]
    assert {e["name"]: e["value"] for e in container["env"] if "value" in e} == prod.outputs["env"]

    password = prod.engine.stack_output("basicAuthPassword")
    ingress = live(prod.cluster, "ingress", NAMESPACE, "hayhooks")
    assert ingress is not None
    htpasswd = live(prod.cluster, "secret", NAMESPACE, ingress["metadata"]["annotations"][AUTH_SECRET])
    assert htpasswd is not None
    user, hashed = base64.b64decode(htpasswd["data"]["auth"]).decode().strip().split(":", 1)
    assert user == prod.engine.stack_output("basicAuthUsername")
    assert bcrypt.checkpw(password.encode(), hashed.encode())
    state = json.dumps(prod.engine.export())
    for plaintext in (password, hashed, "token-one"):
        assert plaintext not in state

    again = prod.engine.preview(expect_no_changes=True)
    assert again.ok, again.text()
    # Nothing to change: only the CRD the component reads (`checkCrds`) is read again.
    assert set(again.summary) <= {"same", "read"}, again.summary


# ------------------------------------------------------------------------------------------------ 3


def test_the_pods_run_on_the_real_node_from_the_image_by_digest_under_restricted(prod: Prod) -> None:
    namespace = live(prod.cluster, "namespace", "", NAMESPACE)
    assert namespace is not None
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = prod.ready_pods()
    assert len(pods) >= 2
    for pod in pods:
        assert pod["spec"]["nodeName"] == NODE_NAME
        [status] = pod["status"]["containerStatuses"]
        assert status["ready"] is True and status["started"] is True
        assert status["imageID"].endswith(prod.outputs["image"].split("@", 1)[1]), status["imageID"]
        assert status["restartCount"] == 0, status


def test_the_kubelet_ran_the_probes_as_rendered(prod: Prod) -> None:
    """Startup on `/status`, readiness on each required pipeline (one exec check for several), liveness: the pods
    are Ready, so the kubelet's probes passed; the readiness command, run the same way, says why."""
    pod = prod.ready_pods()[0]
    [container] = pod["spec"]["containers"]
    assert container["startupProbe"]["httpGet"]["path"] == "/status"
    assert "tcpSocket" in container["livenessProbe"]
    readiness = container["readinessProbe"]
    if "exec" in readiness:
        code, said = prod.exec(pod["metadata"]["name"], *readiness["exec"]["command"])
        assert code == 0, said
    else:
        assert readiness["httpGet"]["path"].startswith("/status/")
    assert _conditions(pod)["ContainersReady"] == "True"
    selector = f"involvedObject.name={pod['metadata']['name']}"
    events = json.loads(
        prod.cluster.kubectl("get", "events", "-n", NAMESPACE, "--field-selector", selector, "-o", "json").stdout
    )["items"]
    # While the server loads its pipelines the startup probe may fail (that is what its budget is for); nothing else.
    troubles = [
        f"{e['reason']}: {e['message']}"
        for e in events
        if e["reason"] in ("BackOff", "Failed", "Killing")
        or (e["reason"] == "Unhealthy" and not e["message"].startswith("Startup probe failed"))
    ]
    assert troubles == []


def test_env_from_the_secrets_is_resolved_by_the_kubelet(prod: Prod) -> None:
    pod = prod.ready_pods()[0]["metadata"]["name"]
    code, said = prod.python(
        pod,
        "import os, json; print(json.dumps({k: os.environ.get(k) for k in ('WEBHOOK_TOKEN', 'EXAMPLE_LLM_API_KEY')}))",
    )
    assert code == 0, said
    values = json.loads(said.strip().splitlines()[-1])
    assert values["WEBHOOK_TOKEN"] == "token-one"
    assert values["EXAMPLE_LLM_API_KEY"] == "e2e-store-value:prod/hayhooks/llm:api_key"


def test_the_container_is_locked_down(prod: Prod) -> None:
    pod = prod.ready_pods()[0]
    name = pod["metadata"]["name"]
    code, status = prod.exec(name, "cat", "/proc/1/status")
    assert code == 0, status
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    assert int(fields["CapEff"].strip(), 16) == 0 and int(fields["CapBnd"].strip(), 16) == 0
    assert fields["NoNewPrivs"].strip() == "1"
    assert fields["Seccomp"].strip() == "2"
    assert int(fields["Uid"].split()[0]) >= 10000 and int(fields["Gid"].split()[0]) >= 10000
    fs_group = pod["spec"]["securityContext"].get("fsGroup")
    assert [int(g) for g in fields["Groups"].split()] == ([fs_group] if fs_group else []), fields["Groups"]
    code, said = prod.python(name, "open('/opt/venv/written', 'w')")
    assert code != 0 and "Read-only file system" in said, said
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0].get("env", [])}
    code, said = prod.python(name, f"open('{env['HAYHOOKS_PIPELINES_DIR']}/written', 'w')")
    assert code != 0 and ("Read-only file system" in said or "Permission denied" in said), said
    code, said = prod.python(name, "import os; print(os.path.exists('/var/run/secrets/kubernetes.io'))")
    assert said.strip() == "False", "a service-account token is mounted"
    for folder in ("/tmp", env["HOME"]):
        code, said = prod.python(name, f"open('{folder}/written', 'w').write('x')")
        assert code == 0, f"{folder}: {said}"


def test_through_the_service_the_server_answers_as_configured(prod: Prod) -> None:
    """The upload routes are gone (durable mode), the trace API is off, an error carries no traceback."""
    address = prod.service_address
    status, _, body = request(address, "GET", "/status")
    assert status == 200 and json.loads(body)["durable_mode"] is True
    for path in ("/deploy_files", "/deploy-yaml", "/undeploy/greeter"):
        assert request(address, "POST", path, {"name": "x", "files": {}, "source_code": "import os"})[0] == 404, path
    assert request(address, "GET", "/status/greeter")[0] == 200, "an upload route removed a pipeline"
    status, _, body = request(address, "POST", "/greeter/run", {"name": "Ada"})
    assert status == 200 and json.loads(body)["result"]["greeting"] == "Hello, Ada!", body
    assert request(address, "GET", "/traces")[0] == 404
    # A lone surrogate decodes but cannot be encoded into the answer: an unhandled error inside the server.
    for body, wanted in (('{"name": 5}', 422), ("{not json", 422), ('{"name": "\\ud800"}', 500)):
        connection = HTTPConnection(*address, timeout=10)
        try:
            connection.request("POST", "/greeter/run", body=body.encode(), headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            text = answer.read().decode(errors="replace")
        finally:
            connection.close()
        assert answer.status == wanted, (body, answer.status, text)
        assert not [m for m in ("Traceback", 'File "', "site-packages") if m in text], text[:500]


def test_the_logs_are_at_the_configured_level_without_colour_codes(prod: Prod) -> None:
    """What `kubectl logs` gets from the kubelet: lines at INFO and above only, no ANSI escapes."""
    pod = prod.ready_pods()[0]["metadata"]["name"]
    logs = prod.cluster.kubectl("logs", "-n", NAMESPACE, pod, "-c", "hayhooks").stdout
    levels = re.findall(r"^\S+ \S+ \| ([A-Z]+) +\|", logs, re.MULTILINE)
    assert levels, f"no log lines recognised:\n{logs[-2000:]}"
    assert not {"TRACE", "DEBUG"} & set(levels), levels
    assert "\x1b[" not in logs, "colour codes in the pod's log"


def test_service_links_are_off_in_the_real_pod(prod: Prod) -> None:
    """The kubelet injects no Service variables (`enableServiceLinks: false`), the Service is there all the same."""
    pod = prod.ready_pods()[0]["metadata"]["name"]
    code, said = prod.python(pod, "import os, json; print(json.dumps(sorted(os.environ)))")
    assert code == 0, said
    names_seen = json.loads(said.strip().splitlines()[-1])
    service = prod.outputs["serviceName"].upper().replace("-", "_")
    assert not [n for n in names_seen if n.startswith(f"{service}_")], names_seen
    assert "KUBERNETES_SERVICE_HOST" in names_seen, "the `kubernetes` Service's variables are always set"


# ------------------------------------------------------------------------------------------------ 4: the edge


@pytest.fixture(scope="module")
def edge(prod: Prod) -> Iterator[Edge]:
    """nginx as ingress-nginx applies the cluster's Ingress, with the htpasswd of the cluster's Secret, in front of
    the Service's ClusterIP (kube-proxy takes it to the pods)."""
    ingress = live(prod.cluster, "ingress", NAMESPACE, "hayhooks")
    assert ingress is not None
    secret = live(prod.cluster, "secret", NAMESPACE, ingress["metadata"]["annotations"][AUTH_SECRET])
    assert secret is not None
    service = prod.service()
    address = f"{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"
    upstream = {
        (service["metadata"]["name"], p.get("targetPort", p["port"])): address for p in service["spec"]["ports"]
    }
    htpasswd = base64.b64decode(secret["data"]["auth"]).decode()
    with running_edge([service], ingress, upstream, htpasswd) as running:
        yield running


def credentials(prod: Prod) -> tuple[str, str]:
    return prod.engine.stack_output("basicAuthUsername"), prod.engine.stack_output("basicAuthPassword")


def test_the_edge_refuses_without_and_with_a_wrong_password(prod: Prod, edge: Edge) -> None:
    user, password = credentials(prod)
    response, upstream = edge.request("POST", "/greeter/run", {"name": "Ada"})
    assert (response.status, upstream) == (401, "-")
    assert response.headers.get("www-authenticate") == 'Basic realm="Hayhooks"'
    for auth in ((user, password + "x"), (user, ""), ("admin", password)):
        response, upstream = edge.request("POST", "/greeter/run", {"name": "Ada"}, auth=auth)
        assert (response.status, upstream) == (401, "-"), auth[0]


def test_the_stack_password_reaches_the_pipelines_through_the_service(prod: Prod, edge: Edge) -> None:
    auth = credentials(prod)
    response, upstream = edge.request("POST", "/greeter/run", {"name": "Ada"}, auth=auth)
    assert (response.status, upstream) == (200, edge.upstream), response.text
    assert response.json()["result"]["greeting"] == "Hello, Ada!"
    response, _ = edge.request("POST", "/qa-prompt/run", {"context": "c", "question": "q"}, auth=auth)
    assert response.status == 200, response.text


def test_the_edge_never_routes_uploads_docs_or_other_hosts(prod: Prod, edge: Edge) -> None:
    auth = credentials(prod)
    for path in UPLOAD_PATHS:
        response, upstream = edge.request("POST", path, {"name": "x"}, auth=auth)
        assert (response.status, upstream) == (404, "-"), path
    for path in (*DOCS_PATHS, "/", "/status/greeter"):
        response, upstream = edge.request("GET", path, auth=auth)
        assert (response.status, upstream) == (404, "-"), path
    response, upstream = edge.request("POST", "/greeter/run", {"name": "Ada"}, auth=auth, host="other.example")
    assert (response.status, upstream) == (404, "-")


# A browser's preflight before a cross-origin JSON POST with basic auth: no credentials, by the Fetch standard.
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}


def test_cors_at_the_edge_is_as_configured(prod: Prod, edge: Edge) -> None:
    cors = prod.config["server"]["cors"]
    for origin in cors["allowOrigins"]:
        response, upstream = edge.request("OPTIONS", "/greeter/run", headers={"Origin": origin, **PREFLIGHT})
        assert (response.status, upstream) == (204, "-"), f"{origin}: {response.status}"
        assert response.headers["access-control-allow-origin"] == origin
        assert response.headers["access-control-allow-methods"] == ", ".join(cors["allowMethods"])
    foreign = "https://attacker.example.net"
    response, upstream = edge.request("OPTIONS", "/greeter/run", headers={"Origin": foreign, **PREFLIGHT})
    assert "access-control-allow-origin" not in response.headers and (response.status, upstream) == (401, "-")
    origin = cors["allowOrigins"][0]
    response, _ = edge.request(
        "POST", "/greeter/run", {"name": "Ada"}, auth=credentials(prod), headers={"Origin": origin}
    )
    assert response.status == 200 and response.headers["access-control-allow-origin"] == origin
    assert annotations(live(prod.cluster, "ingress", NAMESPACE, "hayhooks"))["proxy-buffering"] == "off"  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ 5: changes


@dataclass
class Loop:
    """Requests through the Service, one after another, until stopped: every answer counted."""

    address: tuple[str, int]
    answers: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def _run(self) -> None:
        began = time.monotonic()
        while not self.stop.is_set():
            sent = time.monotonic()
            try:
                status = request(self.address, "POST", "/greeter/run", {"name": "roll"})[0]
                self.answers[str(status)] = self.answers.get(str(status), 0) + 1
                if status != 200:
                    self.failures.append(f"HTTP {status} {_when(began, sent)}")
            except OSError as error:
                self.failures.append(f"{error!r} {_when(began, sent)}")
            time.sleep(0.05)

    def __enter__(self) -> Loop:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(1)  # the last pods' first answers
        self.stop.set()
        assert self.thread is not None
        self.thread.join(timeout=15)

    @property
    def served(self) -> int:
        return sum(self.answers.values())


def _when(began: float, sent: float) -> str:
    """When a request that failed was sent (the wall clock, as the cluster's logs have it, and the seconds into the
    loop) and how long it took (whether it waited out its timeout)."""
    took = time.monotonic() - sent
    clock = (datetime.now(UTC) - timedelta(seconds=took)).strftime("%H:%M:%S.%f")[:-3]
    return f"(sent at {clock} UTC, {sent - began:.1f}s into the loop, after {took:.1f}s)"


class SecretWatch:
    """Samples the cluster while an update runs: each Secret the Deployment's pods are pointed at exists."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster, self.samples = cluster, 0
        self.missing: list[list[str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            deployment = live(self.cluster, "deployment", NAMESPACE, "hayhooks")
            if deployment is None:
                continue
            gone = referenced_secrets(deployment) - names(self.cluster, "secrets", NAMESPACE)
            self.samples += 1
            if gone:
                self.missing.append(sorted(gone))

    def __enter__(self) -> SecretWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def referenced_secrets(deployment: dict[str, Any]) -> set[str]:
    found = set()
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        found |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
        found |= {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in container.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
    return found


def in_order(steps: list[tuple[str, str]], *wanted: tuple[str, str]) -> bool:
    positions = [steps.index(s) for s in wanted if s in steps]
    return len(positions) == len(wanted) and positions == sorted(positions)


def test_a_pipeline_change_rolls_the_pods_without_a_failed_request(prod: Prod) -> None:
    before_pods = {p["metadata"]["name"] for p in prod.pods()}
    before_maps = names(prod.cluster, "configmaps", NAMESPACE)
    wrapper = prod.project / "pipelines" / "greeter" / "pipeline_wrapper.py"
    wrapper.write_text(wrapper.read_text() + "\n# a new revision, made by the e2e test\n")
    planned = prod.engine.preview()
    assert planned.planned() == {"hayhooks-pipelines": "replace", "hayhooks-deployment": "update"}, planned.planned()
    with Loop(prod.service_address) as loop:
        changed = prod.up_again()
    assert changed.ok, changed.text()
    steps = changed.steps()
    assert in_order(
        steps,
        ("create-replacement", "hayhooks-pipelines"),
        ("update", "hayhooks-deployment"),
        ("delete-replaced", "hayhooks-pipelines"),
    ), steps
    maps = {n for n in names(prod.cluster, "configmaps", NAMESPACE) if n.startswith("hayhooks-pipelines-")}
    assert len(maps) == 1 and not maps & before_maps, maps
    after = {p["metadata"]["name"] for p in prod.ready_pods()}
    assert after and not after & before_pods, (before_pods, after)
    print(f"requests through the Service during the pipeline rollout: {loop.served}, answers {loop.answers}")
    assert loop.served >= 20 and loop.failures == [], loop.failures


def test_a_rotated_secret_is_never_missing_for_the_pods(prod: Prod) -> None:
    rolled_from = {p["metadata"]["name"] for p in prod.pods()}
    prod.engine.set_config("hayhooks:webhookToken", "token-two", secret=True)
    with SecretWatch(prod.cluster) as watch, Loop(prod.service_address) as loop:
        rotated = prod.up_again()
    assert rotated.ok, rotated.text()
    steps = rotated.steps()
    assert in_order(
        steps,
        ("create-replacement", "hayhooks-config-secret"),
        ("update", "hayhooks-deployment"),
        ("delete-replaced", "hayhooks-config-secret"),
    ), steps
    assert watch.samples > 0 and watch.missing == [], watch.missing
    assert loop.failures == [], loop.failures
    wait_for(
        lambda: (ready := prod.ready_pods()) and not {p["metadata"]["name"] for p in ready} & rolled_from,
        "the pods did not roll on the new value",
    )
    code, said = prod.python(prod.ready_pods()[0]["metadata"]["name"], "import os; print(os.environ['WEBHOOK_TOKEN'])")
    assert code == 0, said
    assert said.strip() == "token-two", said
    assert "token-two" not in json.dumps(prod.engine.export())


# ------------------------------------------------------------------------------------------------ faults


BROKEN = """from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        raise RuntimeError("this release's pipeline cannot start (made so by the e2e fault test)")

    def run_api(self, question: str) -> str:
        return question
"""


def test_a_release_that_does_not_start_fails_the_up_and_the_old_pods_keep_serving(prod: Prod) -> None:
    """A pipeline that fails at start-up: the new pod never becomes Ready, the rollout stops (`maxUnavailable: 0`),
    `up` fails within the rollout timeout naming the Deployment and why, the old pods serve throughout; fixing the
    pipelines and running `up` again converges. (The test copy sets `rollout.timeoutSeconds` to 60 s, the least it
    takes, for this step: the derived one is 10 minutes or more.)"""
    broken = prod.project / "pipelines" / "broken"
    broken.mkdir()
    (broken / "pipeline_wrapper.py").write_text(BROKEN)
    outputs_before = json.loads(prod.engine.cli("stack", "output", "--json").stdout)
    serving = {p["metadata"]["name"] for p in prod.ready_pods()}
    changes = {**prod.changes, "rollout.timeoutSeconds": 60}
    project_copy(prod.project.parent, "prod", changes=changes, image=prod.cluster.hayhooks_image)
    started = time.monotonic()
    with Loop(prod.service_address) as loop:
        failed = prod.up_again()
    took = time.monotonic() - started
    errors = "\n".join(failed.diagnostics("error"))
    print(f"FAULT: a pipeline that fails at start-up; `up` failed after {took:.0f}s saying: {errors[:1500]}")
    assert not failed.ok
    assert took < 60 + 60, f"up took {took:.0f}s, the rollout timeout is 60s"
    assert f'"{NAMESPACE}/hayhooks"' in errors and "CrashLoopBackOff" in errors and "exit code 1" in errors, errors
    assert loop.failures == [] and loop.served >= 20, (loop.failures, loop.answers)
    assert serving <= {p["metadata"]["name"] for p in prod.ready_pods()}, "an old pod stopped serving"
    assert json.loads(prod.engine.cli("stack", "output", "--json").stdout) == outputs_before

    shutil.rmtree(broken)
    project_copy(prod.project.parent, "prod", changes=prod.changes, image=prod.cluster.hayhooks_image)
    with Loop(prod.service_address) as loop:
        fixed = prod.up_again()
    assert fixed.ok, fixed.text()
    assert loop.failures == [], loop.failures
    assert prod.engine.pending_operations() == []
    again = prod.engine.preview(expect_no_changes=True)
    assert again.ok, again.text()


def test_a_store_that_never_syncs_fails_the_up_and_moves_no_pod(prod: Prod) -> None:
    """The ExternalSecret is changed and its store never syncs it (the stand-in writes what the operator writes when
    the store refuses: Ready False): `up` fails within `secretStore.readyTimeoutSeconds` naming the ExternalSecret,
    the Deployment is not touched, its pods keep serving; back to a key the store has, `up` converges."""
    deployment = live(prod.cluster, "deployment", NAMESPACE, "hayhooks")
    assert deployment is not None
    generation = deployment["metadata"]["generation"]
    moved = {**prod.changes, "secretStore.readyTimeoutSeconds": READY_TIMEOUT_MIN}
    moved["secrets.EXAMPLE_LLM_API_KEY"] = {"fromStore": {"remoteKey": "prod/hayhooks/moved", "property": "api_key"}}
    project_copy(prod.project.parent, "prod", changes=moved, image=prod.cluster.hayhooks_image)
    started = time.monotonic()
    with Controllers(prod.cluster, store_syncs=False), Loop(prod.service_address) as loop:
        failed = prod.engine.up()
    took = time.monotonic() - started
    errors = "\n".join(failed.diagnostics("error"))
    print(f"FAULT: a store that never syncs; `up` failed after {took:.0f}s saying: {errors[:1500]}")
    assert not failed.ok
    assert took < READY_TIMEOUT_MIN + 60, f"up took {took:.0f}s, the store's timeout is {READY_TIMEOUT_MIN}s"
    assert f'"{NAMESPACE}/hayhooks-store"' in errors and "timed out" in errors, errors
    store = prod.config["secretStore"]
    said = [d for d in failed.diagnostics("info") if "ExternalSecret hayhooks-store" in d]
    assert said and f"{store['kind']} {store['name']}" in said[0], failed.diagnostics("info")
    after = live(prod.cluster, "deployment", NAMESPACE, "hayhooks")
    assert after is not None and after["metadata"]["generation"] == generation, "the Deployment was changed"
    assert loop.failures == [], loop.failures

    project_copy(prod.project.parent, "prod", changes=prod.changes, image=prod.cluster.hayhooks_image)
    fixed = prod.up_again()
    assert fixed.ok, fixed.text()
    assert prod.engine.pending_operations() == []
    again = prod.engine.preview(expect_no_changes=True)
    assert again.ok, again.text()


# ------------------------------------------------------------------------------------------------ 6, 7


def test_a_deleted_pod_is_replaced_by_a_ready_one_and_the_hpa_is_admitted(prod: Prod) -> None:
    victim = prod.ready_pods()[0]
    grace = victim["spec"]["terminationGracePeriodSeconds"]
    started = time.monotonic()
    prod.cluster.kubectl("delete", "pod", victim["metadata"]["name"], "-n", NAMESPACE, "--wait=true", "--timeout=120s")
    # preStop, then SIGTERM: the server drains and exits before the kubelet would kill it.
    took = time.monotonic() - started
    assert took < grace, f"the pod took {took:.0f}s to stop, its grace period is {grace}s"
    victim = victim["metadata"]["name"]
    wait_for(
        lambda: victim not in {p["metadata"]["name"] for p in prod.pods()} and len(prod.ready_pods()) >= 2,
        "no Ready pod replaced the deleted one",
        timeout=120,
    )
    hpa = live(prod.cluster, "hpa", NAMESPACE, "hayhooks")
    assert hpa is not None and hpa["spec"]["scaleTargetRef"]["name"] == "hayhooks"


def leftovers(cluster: Cluster, namespace: str) -> list[str]:
    """Every object of every listable namespaced kind in the namespace, but those each namespace has."""
    kinds = cluster.kubectl("api-resources", "--verbs=list", "--namespaced", "-o", "name").stdout.split()
    kinds = [k for k in kinds if k not in ("events", "events.events.k8s.io")]
    listed = json.loads(cluster.kubectl("get", ",".join(kinds), "-n", namespace, "-o", "json").stdout)["items"]
    return [
        f"{item['kind']}/{item['metadata']['name']}"
        for item in listed
        if (item["kind"], item["metadata"]["name"]) not in NAMESPACE_DEFAULTS
    ]


def test_destroy_leaves_nothing_of_the_stack(prod: Prod) -> None:
    destroyed = prod.engine.destroy()
    assert destroyed.ok, destroyed.text()
    # In production the namespace is kept (namespace.retain), emptied of the stack's objects; the store's Secret
    # goes with its ExternalSecret, by the garbage collector, a moment later.
    assert live(prod.cluster, "namespace", "", NAMESPACE) is not None
    wait_for(lambda: leftovers(prod.cluster, NAMESPACE) == [], "objects of the stack left after destroy", 90)
