"""A local Kubernetes cluster on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
kwok's node (pods become Ready without a kubelet: what needs many nodes or no runtime), and a real node
(e2e/node.py: the kubelet, kube-proxy and containerd; its pods run the locally built images, pulled by digest
from a registry on loopback, e2e/registry.py), from the toolchain `e2e/toolchain.sh` builds and the images
`e2e/image.py` builds.

    python3 e2e/cluster.py up [--dir DIR] [--no-real-node]   start it, install the packaged CRDs, print exports
    python3 e2e/cluster.py down [--dir DIR]                  stop all it started, put the host back, remove DIR

The test session uses `Cluster` directly: its processes die with the test process (e2e/lifetime.py)
as well as on `stop()`, so a failed or timed-out run leaves nothing behind. Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import image
from api import Api
from engine import SDK_PYTHON
from lifetime import GRACE_SECONDS, launched, terminate
from node import NODE_NAME, TAINT_KEY, Node, NodeError
from registry import Registry

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CRD_DIR = REPO / "components" / "hayhooks_pulumi" / "crds"
LOOPBACK = "127.0.0.1"
# A restarted process's time to stop after SIGTERM. kube-apiserver stops listening at once, then its process does
# not exit (measured here: still there 30 s later; kubernetes/kubernetes#131052): a longer grace only lengthens
# the outage the fault tests inject.
RESTART_GRACE_SECONDS = 2.0
TOKEN = "hayhooks-e2e-admin"  # a local, loopback-only cluster's admin token; never a real credential
# Virtual ranges the API server allocates from; on the real node, kube-proxy's rules answer Service addresses
# and they are routed to the pod bridge, so they never leave through the machine's own interface.
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/24"
NODE_ANNOTATION = "kwok.x-k8s.io/node"
KWOK_NODE = "kwok-node-0"
START_TIMEOUT = 120.0
PROCESSES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
DEFAULT_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hayhooks-pulumi" / "cluster"


class ClusterError(RuntimeError):
    pass


def toolchain_dir() -> Path:
    """The cache folder `e2e/toolchain.sh` builds into (its `dir` command is the one home of that path)."""
    out = subprocess.run([str(HERE / "toolchain.sh"), "dir"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    root: Path
    toolchain: Path = field(default_factory=toolchain_dir)
    # True for `make cluster`: the processes outlive the command that started them.
    detached: bool = False
    # A real node beside kwok's: its images come from `registry` (this cluster's own when none is given).
    real_node: bool = False
    registry: Registry | None = None
    ports: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    args: dict[str, list[str]] = field(default_factory=dict)
    node: Node | None = None
    own_registry: bool = False

    @property
    def bin(self) -> Path:
        return self.toolchain / "bin"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def server(self) -> str:
        return f"https://{LOOPBACK}:{self.ports['apiserver']}"

    @cached_property
    def api(self) -> Api:
        """The API server asked from this process, as admin (reads and status writes without a kubectl process)."""
        return Api(self.server, self.root / "pki" / "apiserver.crt", TOKEN)

    def env(self) -> dict[str, str]:
        """What a shell needs to use this cluster with kubectl and the Pulumi CLI built here."""
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }

    # ---------------------------------------------------------------- start

    def start(self) -> None:
        missing = [name for name in (*PROCESSES, "kubectl") if not (self.bin / name).is_file()]
        if missing:
            raise ClusterError(
                f"not in the toolchain at {self.bin}: {', '.join(missing)} (run `e2e/toolchain.sh build`)"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port() for name in ("etcd", "etcd-peer", "apiserver")}
        (self.root / "ports.json").write_text(json.dumps(self.ports))
        self._keys()
        try:
            self._start_etcd()
            self._start_apiserver()
            self._write_kubeconfig()
            self._wait_ready()
            self._start_controllers()
            self._add_node()
            self.install_crds()
            self.kubectl("wait", "--for=condition=Ready", "node", KWOK_NODE, "--timeout=60s")
            if self.real_node:
                self._start_real_node()
            self._wait_default_service_account()
        except BaseException:
            self.stop(remove=False)
            raise

    def _keys(self) -> None:
        key, pub = self.root / "sa.key", self.root / "sa.pub"
        if not key.exists():
            subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
            subprocess.run(
                ["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(pub)], check=True, capture_output=True
            )
        (self.root / "tokens.csv").write_text(f'{TOKEN},admin,admin,"system:masters"\n')
        self._kubelet_client_certificate()

    def _kubelet_client_certificate(self) -> None:
        """How the API server proves itself to the real node's kubelet (for logs, exec, port-forward): a client
        certificate from a CA of this cluster's own, the only one the kubelet accepts."""
        pki = self.root / "kubelet-client"
        if (pki / "client.crt").exists():
            return
        pki.mkdir(parents=True, exist_ok=True)
        openssl = ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-days", "365"]
        for command in (
            [*openssl, "-x509", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=hayhooks-e2e-kubelet-client-ca"],
            [*openssl[:-2], "-keyout", "client.key", "-out", "client.csr", "-subj", "/O=system:masters/CN=apiserver"],
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                "client.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "client.crt",
                "-days",
                "365",
            ],
        ):
            subprocess.run(command, cwd=pki, check=True, capture_output=True)

    def _spawn(self, name: str, args: Sequence[str]) -> None:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        proc = subprocess.Popen(
            launched([str(self.bin / name.split("@")[0]), *args], dies_with_parent=not self.detached),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.procs[name] = proc
        self.args[name] = list(args)
        (self.root / f"{name}.pid").write_text(str(proc.pid))

    # ---------------------------------------------------------------- faults (the fault tests inject them)

    def restart(self, name: str) -> float:
        """Stop one of the control plane's processes (SIGTERM, as a control-plane upgrade does) and start it again
        with the same arguments; the seconds from the SIGTERM until the API server answered again."""
        proc = self.procs[name]
        started = time.monotonic()
        terminate(proc.pid, proc, grace=RESTART_GRACE_SECONDS)
        self._spawn(name, self.args[name])
        self._wait_ready()
        return time.monotonic() - started

    def pause(self, name: str, seconds: float) -> None:
        """Freeze a process (SIGSTOP) for `seconds`, then let it go on (SIGCONT): an etcd that stops answering."""
        pid = self.procs[name].pid
        os.killpg(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.killpg(pid, signal.SIGCONT)

    def _start_etcd(self) -> None:
        client, peer = f"http://{LOOPBACK}:{self.ports['etcd']}", f"http://{LOOPBACK}:{self.ports['etcd-peer']}"
        self._spawn(
            "etcd",
            [
                "--name=default",
                f"--data-dir={self.root / 'etcd'}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=default={peer}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )

    def _start_apiserver(self) -> None:
        self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers=http://{LOOPBACK}:{self.ports['etcd']}",
                f"--bind-address={LOOPBACK}",
                f"--advertise-address={LOOPBACK}",
                f"--secure-port={self.ports['apiserver']}",
                f"--cert-dir={self.root / 'pki'}",
                f"--token-auth-file={self.root / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={self.root / 'sa.pub'}",
                f"--service-account-signing-key-file={self.root / 'sa.key'}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--endpoint-reconciler-type=none",
                f"--kubelet-client-certificate={self.root / 'kubelet-client' / 'client.crt'}",
                f"--kubelet-client-key={self.root / 'kubelet-client' / 'client.key'}",
                "--kubelet-preferred-address-types=InternalIP",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
            ],
        )

    def _write_kubeconfig(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        cert = self.root / "pki" / "apiserver.crt"
        while not cert.exists():
            self._check_alive(deadline)
            time.sleep(0.2)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "local", "cluster": {"server": self.server, "certificate-authority": str(cert)}}],
            "users": [{"name": "admin", "user": {"token": TOKEN}}],
            "contexts": [{"name": "local", "context": {"cluster": "local", "user": "admin"}}],
            "current-context": "local",
        }
        self.kubeconfig.write_text(json.dumps(config, indent=1))
        self.kubeconfig.chmod(0o600)

    def _check_alive(self, deadline: float) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.root / f"{name}.log").read_text(errors="replace")[-3000:]
                raise ClusterError(f"{name} exited with {proc.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise ClusterError(f"the control plane did not start in {START_TIMEOUT:.0f} s (logs in {self.root})")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while self.kubectl("get", "--raw=/readyz", check=False).returncode != 0:
            self._check_alive(deadline)
            time.sleep(0.3)

    def _start_controllers(self) -> None:
        common = [f"--kubeconfig={self.kubeconfig}", "--leader-elect=false", f"--bind-address={LOOPBACK}"]
        self._spawn(
            "kube-controller-manager",
            [
                *common,
                "--secure-port=0",
                f"--service-account-private-key-file={self.root / 'sa.key'}",
                f"--root-ca-file={self.root / 'pki' / 'apiserver.crt'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--concurrent-deployment-syncs=2",
                # The HPA raises a new Deployment to minReplicas at its first sync, which the tests wait for:
                # every 5 s here, not 15.
                "--horizontal-pod-autoscaler-sync-period=5s",
            ],
        )
        self._spawn("kube-scheduler", [*common, "--secure-port=0"])
        stages = sorted((self.toolchain / "kwok-stages").glob("*.yaml"))
        if not stages:
            raise ClusterError(f"no kwok stages in {self.toolchain / 'kwok-stages'} (run `e2e/toolchain.sh build`)")
        self._spawn(
            "kwok",
            [
                f"--kubeconfig={self.kubeconfig}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={NODE_ANNOTATION}=fake",
                f"--cidr={POD_CIDR}",
                "--node-lease-duration-seconds=40",
                "--server-address=",
                *[f"--config={stage}" for stage in stages],
            ],
        )

    def _add_node(self) -> None:
        capacity = {"cpu": "32", "memory": "128Gi", "pods": "110", "ephemeral-storage": "200Gi"}
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "kwok-node-0",
                "annotations": {NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"kubernetes.io/hostname": "kwok-node-0", "kubernetes.io/os": "linux", "type": "kwok"},
            },
            "status": {"allocatable": capacity, "capacity": capacity},
        }
        self.kubectl("apply", "-f", "-", input=json.dumps(node))

    def _start_real_node(self) -> None:
        hayhooks = image.cached()
        if hayhooks is None:
            raise ClusterError("the real node runs the locally built Hayhooks image: run `make images` first")
        pause = image.build_pause()
        if self.registry is None:
            self.registry = Registry(self.bin / "registry", self.root / "registry.log")
            self.own_registry = True
            self.registry.start(dies_with_parent=not self.detached)
        self.registry.ensure(hayhooks)
        self.node = Node(
            root=self.root / "node",
            bin=self.bin,
            kubeconfig=self.kubeconfig,
            registry=self.registry.address,
            sandbox_image=self.registry.ensure(pause),
            client_ca=self.root / "kubelet-client" / "ca.crt",
            service_cidr=SERVICE_CIDR,
            fake_pod_cidr=POD_CIDR,
            dies_with_parent=not self.detached,
        )
        try:
            self.node.start()
        except NodeError as error:
            raise ClusterError(str(error)) from error

    @property
    def hayhooks_image(self) -> str:
        """The locally built Hayhooks image, by digest, as the real node pulls it."""
        hayhooks = image.cached()
        if self.registry is None or hayhooks is None:
            raise ClusterError("no real node in this cluster: the image is served only with one")
        return self.registry.reference(hayhooks)

    def _wait_default_service_account(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while self.kubectl("get", "serviceaccount", "default", "-n", "default", check=False).returncode != 0:
            self._check_alive(deadline)
            time.sleep(0.3)

    # ---------------------------------------------------------------- use

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.bin / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
        return result

    def install_crds(self) -> None:
        """The CRDs of the kinds the components emit, as the package ships them."""
        files = sorted(CRD_DIR.glob("*.json"))
        self.apply(files)
        names = [json.loads(path.read_text())["metadata"]["name"] for path in files]
        self.kubectl("wait", "--for=condition=Established", "--timeout=60s", *[f"crd/{n}" for n in names])

    def require_crds(self) -> None:
        """A cluster of the user's own is used as it is: its CRDs must be there (installed by their operators),
        and nothing is installed over them."""
        wanted = [json.loads(path.read_text())["metadata"]["name"] for path in sorted(CRD_DIR.glob("*.json"))]
        found = set(self.kubectl("get", "crd", "-o", "jsonpath={.items[*].metadata.name}").stdout.split())
        missing = [name for name in wanted if name not in found]
        if missing:
            raise ClusterError(f"the cluster at {self.kubeconfig} lacks the CRDs {', '.join(missing)}")

    def apply(self, files: Sequence[Path]) -> None:
        for path in files:
            self.kubectl("apply", "--server-side", "--field-manager=hayhooks-e2e", "-f", str(path))

    # ---------------------------------------------------------------- stop

    def stop(self, remove: bool = True) -> None:
        """Stop every process this cluster started (newest first), then remove its folder."""
        node = self.node or (Node.stopping(self.root / "node", self.bin) if (self.root / "node").exists() else None)
        if node is not None:
            problems = node.stop()
            if problems:
                print(f"cluster: could not put back on the host: {', '.join(problems)}", file=sys.stderr)
            self.node = None
        if self.registry is not None and self.own_registry:
            self.registry.stop()
        elif self.registry is None and (self.root / "registry.pid").exists():
            Registry(self.bin / "registry", self.root / "registry.log").stop()
        pids = {name: proc.pid for name, proc in self.procs.items()}
        for pid_file in self.root.glob("*.pid"):
            with contextlib.suppress(ValueError, OSError):
                pid = int(pid_file.read_text())
                # After a crash or a reboot the number may be another program's: signal only ours.
                if Path(f"/proc/{pid}/exe").resolve().name == pid_file.stem:
                    pids.setdefault(pid_file.stem, pid)
        # Removed with its folder, the control plane has nothing to save: each process is killed at once.
        # kube-apiserver, asked to stop (SIGTERM), took the whole 10 s of grace at the end of every test session.
        # Kept (a start that failed), each gets the grace to write its last log lines.
        grace = 0.0 if remove else GRACE_SECONDS
        for name in reversed(list(pids)):
            terminate(pids[name], self.procs.get(name), grace)
        self.procs.clear()
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            for pid_file in self.root.glob("*.pid"):
                pid_file.unlink()


@contextlib.contextmanager
def running(root: Path) -> Iterator[Cluster]:
    cluster = Cluster(root)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def export_lines(cluster: Cluster) -> list[str]:
    """What `make cluster` prints for a shell to paste: its commands, with comments."""
    lines = []
    for name, value in cluster.env().items():
        # This shell's PATH would be frozen into the line: the user's shell extends its own.
        lines.append(f"export PATH={cluster.bin}:$PATH" if name == "PATH" else f"export {name}={value}")
    # The toolchain's Python language host runs this interpreter (it predates the runtime options that name a
    # project's virtualenv): the package, with the Kubernetes SDK at the toolchain provider's version.
    lines.append(f"export PULUMI_PYTHON_CMD={SDK_PYTHON}")
    if cluster.real_node:
        lines.append(f"# a real node, {NODE_NAME}, runs pods that tolerate its taint {TAINT_KEY}; the image it pulls:")
        lines.append(f"export HAYHOOKS_IMAGE={cluster.hayhooks_image}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="e2e/cluster.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("up", "down"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"state folder (default {DEFAULT_DIR})")
    parser.add_argument("--no-real-node", action="store_true", help="kwok's node only: no kubelet, no containers")
    args = parser.parse_args(argv)
    root = args.dir.resolve()
    if args.command == "down":
        if not root.exists():
            print(f"no cluster at {root}")
            return 0
        Cluster(root, toolchain=Path("/nonexistent")).stop()
        print(f"stopped the cluster at {root} and removed it")
        return 0
    if any(root.glob("*.pid")):
        print(f"error: a cluster is running at {root}: `make cluster-down` first", file=sys.stderr)
        return 2
    cluster = Cluster(root, detached=True, real_node=not args.no_real_node)
    try:
        cluster.start()
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)["serverVersion"]["gitVersion"]
    print(f"# Kubernetes {version} on {cluster.server} (state in {root}); to use it:")
    print("\n".join(export_lines(cluster)))
    print("# stop it with: make cluster-down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
