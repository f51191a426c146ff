"""The real Pulumi engine and pulumi-kubernetes provider against the real API server, on the prod
stack's registrations replayed as a Pulumi YAML program (tests/e2e/replay.py says what differs from the
Python program and why): preview, up, a second preview with no changes, a pipeline change, a secret
rotation, and destroy; the namespace created, adopted and kept; the Ingress address wait skipped.

What a cluster here needs beyond the stack, each change said where it is made:
- the test plays the two controllers the local cluster lacks: it writes an ExternalSecret's `Ready`
  condition (as the External Secrets Operator does once synced) and an Ingress's load-balancer address
  (as ingress-nginx does); neither sends traffic anywhere;
- kwok plays the kubelet, so the placeholder image digest is never pulled.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml
from cluster import Cluster, die_with_parent

from .support import REPO

PASSPHRASE = "e2e-passphrase-not-a-secret"
HERE = Path(__file__).resolve().parent
# The ingress address the test publishes as the ingress controller would: a name in a reserved TLD.
INGRESS_ADDRESS = {"hostname": "ingress.hayhooks-e2e.invalid"}


@dataclass
class Workspace:
    """A Pulumi project folder with a file backend, an own PULUMI_HOME and the toolchain on PATH."""

    root: Path
    cluster: Cluster

    @property
    def project(self) -> Path:
        return self.root / "program"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **self.cluster.env(),
            "PULUMI_HOME": str(self.root / "pulumi-home"),
            "PULUMI_BACKEND_URL": (self.root / "state").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_EXPERIMENTAL": "false",
        }

    def pulumi(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """The CLI in a process group of its own with its plugins, killed whole on a timeout, and dying with the
        test process however that ends (the cluster's `die_with_parent`)."""
        command = [str(self.cluster.bin / "pulumi"), *args, "--non-interactive"]
        with subprocess.Popen(
            command,
            cwd=self.project,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=die_with_parent,
        ) as proc:
            try:
                stdout, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                stdout, stderr = proc.communicate()
                pytest.fail(
                    f"pulumi {' '.join(args)} did not finish in {timeout:.0f} s:\n{stdout[-4000:]}\n{stderr[-4000:]}"
                )
        result = subprocess.CompletedProcess(command, proc.returncode, stdout, stderr)
        if check and result.returncode != 0:
            output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            pytest.fail(f"pulumi {' '.join(args)} failed ({result.returncode}):\n{output}")
        return result

    def replay(self, stack: str = "prod", project: Path = REPO, config: Path | None = None) -> dict[str, Any]:
        """Write the stack's registrations as the program (replacing the previous one); return it."""
        command = [sys.executable, str(HERE / "replay.py"), "--stack", stack, "--out", str(self.project)]
        command += ["--project-dir", str(project)] + (["--config", str(config)] if config else [])
        result = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, result.stderr
        return yaml.safe_load((self.project / "Pulumi.yaml").read_text())

    def events(self, *args: str) -> list[dict[str, Any]]:
        """`pulumi <args> --json`: the engine events it streams, in order."""
        out = self.pulumi(*args, "--json").stdout
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def steps(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(op, resource name) of each step the engine applied, in order."""
    done = []
    for event in events:
        outputs = event.get("resOutputsEvent")
        if outputs:
            metadata = outputs["metadata"]
            done.append((metadata["op"], metadata["urn"].rsplit("::", 1)[-1]))
    return done


class Controllers:
    """Plays the controllers the local cluster lacks, until stopped: ExternalSecrets become Ready, Ingresses
    get an address. Each is a status write through the API server, as the real controllers make."""

    def __init__(self, cluster: Cluster, ingress: bool = True) -> None:
        self.cluster, self.ingress = cluster, ingress
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _pending(self, resource: str) -> list[dict[str, Any]]:
        listed = self.cluster.kubectl("get", resource, "-A", "-o", "json", check=False)
        return json.loads(listed.stdout)["items"] if listed.returncode == 0 else []

    def _patch(self, item: dict[str, Any], resource: str, status: dict[str, Any]) -> None:
        meta = item["metadata"]
        self.cluster.kubectl(
            "patch",
            resource,
            meta["name"],
            "-n",
            meta["namespace"],
            "--subresource=status",
            "--type=merge",
            "-p",
            json.dumps({"status": status}),
            check=False,
        )

    def _run(self) -> None:
        now = lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # noqa: E731
        while not self.stop.wait(0.5):
            for item in self._pending("externalsecrets.external-secrets.io"):
                if not any(c.get("type") == "Ready" for c in item.get("status", {}).get("conditions", [])):
                    ready = {
                        "type": "Ready",
                        "status": "True",
                        "reason": "SecretSynced",
                        "message": "synced",
                        "lastTransitionTime": now(),
                    }
                    self._patch(item, "externalsecrets.external-secrets.io", {"conditions": [ready]})
            if self.ingress:
                for item in self._pending("ingresses.networking.k8s.io"):
                    if not item.get("status", {}).get("loadBalancer", {}).get("ingress"):
                        self._patch(
                            item, "ingresses.networking.k8s.io", {"loadBalancer": {"ingress": [INGRESS_ADDRESS]}}
                        )

    def __enter__(self) -> Controllers:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


@contextlib.contextmanager
def workspace(cluster: Cluster, root: Path) -> Iterator[Workspace]:
    ws = Workspace(root, cluster)
    ws.project.mkdir(parents=True)
    (root / "state").mkdir()
    try:
        yield ws
    finally:
        # What a failed test left in the cluster: a CLI killed on a timeout leaves its stack locked.
        shutil.rmtree(root / "state" / ".pulumi" / "locks", ignore_errors=True)
        if (ws.project / "Pulumi.yaml").exists():
            with contextlib.suppress(BaseException):  # never hide the test's own failure
                ws.pulumi("destroy", "--yes", "--skip-preview", check=False, timeout=600)


@pytest.fixture(autouse=True)
def _namespace_removed(cluster: Cluster) -> Iterator[None]:
    """In production `pulumi destroy` keeps the namespace (namespace.retain): each test removes it after."""
    yield
    cluster.kubectl("delete", "namespace", "hayhooks", "--wait=true", "--timeout=120s", "--ignore-not-found")


def test_toolchain_has_the_engine_pieces(cluster: Cluster) -> None:
    for program in ("pulumi", "pulumi-language-yaml", "pulumi-resource-kubernetes"):
        assert (cluster.bin / program).is_file(), f"{program} is missing from {cluster.bin}: run `make toolchain`"


def project_copy(root: Path, stack_changes: dict[str, Any], config: dict[str, str]) -> Path:
    """The repository's project (program, pipelines, prod stack file) copied, the stack file changed."""
    project = root / "project"
    if not project.exists():
        project.mkdir(parents=True)
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy(REPO / name, project / name)
        shutil.copytree(REPO / "pipelines", project / "pipelines")
    stack = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    service = stack["config"]["hayhooks:service"]
    for path, value in stack_changes.items():
        *parents, leaf = path.split(".")
        node = service
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    stack["config"].update(config)
    (project / "Pulumi.prod.yaml").write_text(yaml.safe_dump(stack, sort_keys=False))
    return project


def live(cluster: Cluster, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    result = cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found")
    return json.loads(result.stdout) if result.stdout.strip() else None


def names(cluster: Cluster, kind: str, namespace: str) -> set[str]:
    listed = json.loads(cluster.kubectl("get", kind, "-n", namespace, "-o", "json").stdout)["items"]
    return {item["metadata"]["name"] for item in listed}


def pod_names(cluster: Cluster, namespace: str) -> set[str]:
    listed = json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)["items"]
    return {p["metadata"]["name"] for p in listed if not p["metadata"].get("deletionTimestamp")}


def rolled(cluster: Cluster, namespace: str, old: set[str]) -> bool:
    """New pods are there and none of the old ones."""
    now = pod_names(cluster, namespace)
    return bool(now) and not now & old


def wait_for(predicate: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


# The test copy of the prod stack: a `fromConfig` secret to rotate (a plain test value here; a real stack
# file holds it `secure:`), and the basic-auth password length as the stack file has it.
WEBHOOK = {"secrets": {"WEBHOOK_TOKEN": {"fromConfig": "webhookToken"}}}


def test_prod_up_is_admitted_idempotent_rolls_rotates_without_a_gap_and_destroys(
    cluster: Cluster, tmp_path: Path
) -> None:
    with workspace(cluster, tmp_path / "ws") as ws:
        project = project_copy(tmp_path, {"secrets": WEBHOOK["secrets"]}, {"hayhooks:webhookToken": "token-one"})
        ws.replay(project=project)
        ws.pulumi("stack", "init", "prod")
        ws.pulumi("preview")
        with Controllers(cluster):
            ws.pulumi("up", "--yes", "--skip-preview")
        namespace = "hayhooks"
        deployment = live(cluster, "deployment", namespace, "hayhooks")
        assert deployment is not None and deployment["status"].get("readyReplicas", 0) >= 2

        # The password the stack outputs is the one the cluster's htpasswd Secret accepts; state holds no plaintext.
        password = ws.pulumi("stack", "output", "basicAuthPassword", "--show-secrets").stdout.strip()
        ingress = live(cluster, "ingress", namespace, "hayhooks")
        assert ingress is not None
        htpasswd_name = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"]
        htpasswd = live(cluster, "secret", namespace, htpasswd_name)
        assert htpasswd is not None
        _, hashed = base64.b64decode(htpasswd["data"]["auth"]).decode().strip().split(":", 1)
        assert bcrypt.checkpw(password.encode(), hashed.encode())
        state = "".join(p.read_text() for p in (ws.root / "state").rglob("*.json"))
        assert password not in state and "token-one" not in state

        ws.pulumi("preview", "--expect-no-changes")

        # A changed pipeline: a new ConfigMap and a Deployment update; the pods roll, the old ConfigMap goes.
        old_maps, old_pods = names(cluster, "configmap", namespace), pod_names(cluster, namespace)
        wrapper = project / "pipelines" / "greeter" / "pipeline_wrapper.py"
        wrapper.write_text(wrapper.read_text() + "\n# a new revision, made by the e2e test\n")
        ws.replay(project=project)
        preview = json.loads(ws.pulumi("preview", "--json").stdout)
        ops = {s["urn"].rsplit("::", 1)[-1]: s["op"] for s in preview["steps"] if s["op"] != "same"}
        assert ops == {"hayhooks-pipelines": "replace", "hayhooks-deployment": "update"}, ops
        with Controllers(cluster):
            ws.pulumi("up", "--yes", "--skip-preview")
        new_maps = names(cluster, "configmap", namespace)
        pipelines_maps = {n for n in new_maps if n.startswith("hayhooks-pipelines-")}
        assert len(pipelines_maps) == 1 and not pipelines_maps & old_maps
        assert old_pods
        wait_for(lambda: rolled(cluster, namespace, old_pods), "the pods did not roll")

        # Rotation: the fromConfig value and the basic-auth password length change. Each Secret is replaced by a
        # new one created before what reads it is pointed at it; the old one goes last.
        rolled_from = pod_names(cluster, namespace)
        project_copy(
            tmp_path,
            {"secrets": WEBHOOK["secrets"], "ingress.basicAuth.passwordLength": 40},
            {"hayhooks:webhookToken": "token-two"},
        )
        ws.replay(project=project)
        with Controllers(cluster):
            done = steps(ws.events("up", "--yes", "--skip-preview"))
        for secret, reader in (
            ("hayhooks-config-secret", "hayhooks-deployment"),
            ("hayhooks-basic-auth", "hayhooks-ingress"),
        ):
            created = done.index(("create-replacement", secret))
            updated = done.index(("update", reader))
            deleted = done.index(("delete-replaced", secret))
            assert created < updated < deleted, done
        ingress = live(cluster, "ingress", namespace, "hayhooks")
        assert (
            ingress is not None
            and live(
                cluster,
                "secret",
                namespace,
                ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"],
            )
            is not None
        )
        assert rolled_from
        wait_for(lambda: rolled(cluster, namespace, rolled_from), "the pods did not roll on the new value")

        ws.pulumi("destroy", "--yes", "--skip-preview")
        # In production the namespace is kept (namespace.retain), emptied of the stack's objects.
        assert live(cluster, "namespace", "", namespace) is not None
        for kind in ("deployment", "service", "ingress", "networkpolicy", "poddisruptionbudget", "configmap", "secret"):
            left = names(cluster, kind, namespace) - {"kube-root-ca.crt"}
            assert not left, f"{kind} left after destroy: {left}"


def test_without_the_address_wait_up_goes_on_while_no_controller_publishes_one(
    cluster: Cluster, tmp_path: Path
) -> None:
    with workspace(cluster, tmp_path / "ws") as ws:
        project = project_copy(tmp_path, {"ingress.waitForAddress": False}, {})
        ws.replay(project=project)
        ws.pulumi("stack", "init", "prod")
        with Controllers(cluster, ingress=False):  # the ExternalSecret still gets synced; the Ingress no address
            ws.pulumi("up", "--yes", "--skip-preview", timeout=300)
        ingress = live(cluster, "ingress", "hayhooks", "hayhooks")
        assert ingress is not None and not ingress.get("status", {}).get("loadBalancer", {}).get("ingress")
        assert ingress["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


def existing_namespace(cluster: Cluster, name: str) -> None:
    """A namespace a platform team made, holding a Secret the pods would need before the first deploy."""
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("create", "secret", "generic", "registry-pull", "-n", name, "--from-literal=k=v")


def test_an_existing_namespace_is_adopted_and_never_deleted(cluster: Cluster, tmp_path: Path) -> None:
    """`namespace.adopt` on a namespace a platform team made: labelled by server-side apply, and after
    `pulumi destroy` still there with what it held, only the labels gone. (A plain `create: true` on an
    existing namespace fails from pulumi-kubernetes 4.29, which creates with a POST; the 4.25 provider the
    proxy serves here still takes it over, and so would delete it with the stack without `retain`.)"""
    existing_namespace(cluster, "hayhooks")
    with workspace(cluster, tmp_path / "ws") as ws:
        ws.replay(project=project_copy(tmp_path, {"namespace.adopt": True, "namespace.retain": False}, {}))
        ws.pulumi("stack", "init", "prod")
        with Controllers(cluster):
            ws.pulumi("up", "--yes", "--skip-preview")
        namespace = live(cluster, "namespace", "", "hayhooks")
        assert namespace is not None
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        assert live(cluster, "secret", "hayhooks", "registry-pull") is not None

        ws.pulumi("destroy", "--yes", "--skip-preview")
        namespace = live(cluster, "namespace", "", "hayhooks")
        assert namespace is not None, "destroying an adopted namespace's patch deleted the namespace"
        assert namespace["metadata"].get("deletionTimestamp") is None
        assert live(cluster, "secret", "hayhooks", "registry-pull") is not None
        assert "pod-security.kubernetes.io/enforce" not in namespace["metadata"].get("labels", {})


def test_switching_namespace_create_off_keeps_the_namespace_and_what_is_in_it(cluster: Cluster, tmp_path: Path) -> None:
    with workspace(cluster, tmp_path / "ws") as ws:
        ws.replay(project=project_copy(tmp_path, {}, {}))
        ws.pulumi("stack", "init", "prod")
        with Controllers(cluster):
            ws.pulumi("up", "--yes", "--skip-preview")
        ws.replay(project=project_copy(tmp_path, {"namespace.create": False}, {}))
        with Controllers(cluster):
            ws.pulumi("up", "--yes", "--skip-preview")
        assert live(cluster, "namespace", "", "hayhooks") is not None
        deployment = live(cluster, "deployment", "hayhooks", "hayhooks")
        assert deployment is not None and deployment["metadata"].get("deletionTimestamp") is None
