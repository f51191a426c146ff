"""A real node for the local cluster: containerd and runc (Debian's), the kubelet and kube-proxy (from the
toolchain, the control plane's release), and the CNI plugins (Debian's) on a pod network inside this machine.
Its pods run real containers from images pulled by digest from the local registry (e2e/registry.py).

It is registered as `hayhooks-node`, tainted `hayhooks.dev/real-node=true:NoSchedule`, so pods land on it only
when they ask (a toleration and `nodeSelector: {kubernetes.io/hostname: hayhooks-node}`); the rest go to
kwok's node. Everything listens on 127.0.0.1, in the pods' network namespaces, or on the pods' gateway address on
their bridge (the kubelet's API, which takes only the API server's client certificate: a node may not register a
loopback address); containerd's socket is in the state folder. Pods get 10.244.1.0/24 on the bridge
`hhcni0` (no masquerade); Services' ClusterIPs (kube-proxy in iptables mode) are routed to that bridge, and
kwok's fake pod range is unreachable, so no test packet ever leaves through the machine's own interface.

What it changes on the host is recorded before it starts and put back when it stops, even after a failure
(`HostState`): sysctls the kubelet and kube-proxy set, iptables and nftables rules and tables, the folders
the kubelet and CNI create outside its own (/var/lib/kubelet, /var/log/pods, /var/log/containers,
/var/lib/cni, /run/netns), mounts, network namespaces, the bridge and routes, and the cgroups of the pods.
Facts found on this kind of machine, each needed: cgroup v1 (`failCgroupV1: false`); no `CAP_SYS_RESOURCE`
for root (containerd's `restrict_oom_score_adj = true`, or every sandbox fails on `oom_score_adj`); no
registry to pull `pause` from (a locally built one, e2e/pause.c). Standard library only; needs root.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifetime import launched

NODE_NAME = "hayhooks-node"
TAINT_KEY = "hayhooks.dev/real-node"
POD_CIDR = "10.244.1.0/24"
GATEWAY = "10.244.1.1"
BRIDGE = "hhcni0"
CNI_BIN = Path("/usr/lib/cni")
START_TIMEOUT = 120.0
# What the kubelet, kube-proxy and CNI may change; put back on stop.
WATCHED_SYSCTLS = (
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    "net.ipv4.ip_forward",
    "net.ipv4.conf.all.forwarding",
    "net.ipv4.conf.all.route_localnet",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_tcp_timeout_close_wait",
)
# Folders outside the node's own that the kubelet, containerd and CNI create whatever their settings say.
STRAY_FOLDERS = (
    Path("/var/lib/kubelet"),
    Path("/var/log/pods"),
    Path("/var/log/containers"),
    Path("/var/lib/cni"),
    Path("/run/netns"),
    Path("/etc/cni"),
    Path("/opt/cni"),
)
CGROUP_ROOT = Path("/sys/fs/cgroup")
POD_CGROUP = "kubepods"


class NodeError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sysctl_path(name: str) -> Path:
    return Path("/proc/sys") / name.replace(".", "/")


def _quiet(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


@dataclass
class HostState:
    """What the node may change on the host, as it was before: put back by `restore`."""

    sysctls: dict[str, str] = field(default_factory=dict)
    iptables: dict[str, str] = field(default_factory=dict)
    nft_tables: set[str] = field(default_factory=set)
    folders: set[Path] = field(default_factory=set)
    mounts: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)

    def save(self, path: Path) -> None:
        data = {k: sorted(map(str, v)) if isinstance(v, set) else v for k, v in self.__dict__.items()}
        path.write_text(json.dumps(data, indent=1))

    @classmethod
    def load(cls, path: Path) -> HostState:
        data = json.loads(path.read_text())
        return cls(
            sysctls=data["sysctls"],
            iptables=data["iptables"],
            nft_tables=set(data["nft_tables"]),
            folders={Path(p) for p in data["folders"]},
            mounts=set(data["mounts"]),
            links=set(data["links"]),
        )

    @classmethod
    def capture(cls) -> HostState:
        state = cls()
        for name in WATCHED_SYSCTLS:
            with contextlib.suppress(OSError):
                state.sysctls[name] = _sysctl_path(name).read_text().strip()
        for family in ("iptables", "ip6tables"):
            saved = _quiet(f"{family}-save")
            if saved.returncode == 0:
                state.iptables[family] = saved.stdout
        state.nft_tables = _nft_tables()
        state.folders = {p for p in STRAY_FOLDERS if p.exists()}
        state.mounts = _mounts()
        state.links = _links()
        return state

    def restore(self) -> list[str]:
        """Put everything back; returns what could not be (empty when the host is as it was)."""
        problems: list[str] = []
        for mount in sorted(_mounts() - self.mounts, key=len, reverse=True):
            if _quiet("umount", "-l", mount).returncode != 0:
                problems.append(f"mount {mount}")
        for link in _links() - self.links:
            if _quiet("ip", "link", "delete", link).returncode != 0:
                problems.append(f"link {link}")
        for family, saved in self.iptables.items():
            # Each table in the dump gets its saved rules back (a table the node created is removed below).
            restored = subprocess.run([f"{family}-restore"], input=saved, text=True, capture_output=True, check=False)
            if restored.returncode != 0:
                problems.append(f"{family} rules: {restored.stderr.strip()}")
        for table in _nft_tables() - self.nft_tables:
            family, name = table.split(" ", 1)
            if _quiet("nft", "delete", "table", family, name).returncode != 0:
                problems.append(f"nft table {table}")
        for name, value in self.sysctls.items():
            path = _sysctl_path(name)
            with contextlib.suppress(OSError):
                if path.read_text().strip() != value:
                    path.write_text(value)
                    if path.read_text().strip() != value:
                        problems.append(f"sysctl {name}")
        for folder in STRAY_FOLDERS:
            if folder.exists() and folder not in self.folders:
                shutil.rmtree(folder, ignore_errors=True)
                if folder.exists():
                    problems.append(f"folder {folder}")
        return problems


def _mounts() -> set[str]:
    return {line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()}


def _links() -> set[str]:
    return {line.split(":")[1].strip().split("@")[0] for line in _quiet("ip", "-o", "link").stdout.splitlines()}


def _nft_tables() -> set[str]:
    listed = _quiet("nft", "list", "tables")
    if listed.returncode != 0:
        return set()
    return {line.removeprefix("table ").strip() for line in listed.stdout.splitlines() if line.startswith("table ")}


@dataclass
class Node:
    """containerd, the kubelet and kube-proxy of one node, in `root`; `stop` undoes all of it."""

    root: Path
    bin: Path
    kubeconfig: Path
    registry: str
    sandbox_image: str
    service_cidr: str
    fake_pod_cidr: str
    client_ca: Path = Path()
    dies_with_parent: bool = False
    host: HostState | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    @classmethod
    def stopping(cls, root: Path, bin: Path) -> Node:
        """The node another run of this program started in `root` (`make cluster`), to stop it."""
        saved = json.loads((root / "node.json").read_text()) if (root / "node.json").is_file() else {}
        return cls(root, bin, Path(), "", "", saved.get("service_cidr", ""), saved.get("fake_pod_cidr", ""))

    @property
    def containerd_socket(self) -> Path:
        return self.root / "containerd" / "containerd.sock"

    # ------------------------------------------------------------------------------------------ start

    def start(self) -> None:
        missing = [p for p in ("containerd", "runc") if shutil.which(p) is None]
        missing += [
            f"{CNI_BIN}/{p}" for p in ("bridge", "host-local", "loopback", "portmap") if not (CNI_BIN / p).exists()
        ]
        missing += [str(self.bin / p) for p in ("kubelet", "kube-proxy") if not (self.bin / p).is_file()]
        if missing:
            raise NodeError(
                f"the real node needs {', '.join(missing)} (apt-get install containerd runc "
                "containernetworking-plugins; make toolchain for the kubelet and kube-proxy)"
            )
        if os.geteuid() != 0:
            raise NodeError("the real node needs root (containers, mounts, network namespaces)")
        self.host = HostState.capture()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            # Kept beside the node, so that a `stop` from another process (`make cluster-down`) puts it back too.
            self.host.save(self.root / "host-state.json")
            saved = {"service_cidr": self.service_cidr, "fake_pod_cidr": self.fake_pod_cidr}
            (self.root / "node.json").write_text(json.dumps(saved))
            ports = ("kubelet", "kubelet-healthz", "proxy-healthz", "proxy-metrics")
            self.ports = {name: _free_port() for name in ports}
            self._network()
            self._start_containerd()
            self._start_kubelet()
            self._start_kube_proxy()
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _spawn(self, name: str, command: list[str]) -> None:
        with (self.root / f"{name}.log").open("ab") as log:
            self.procs[name] = subprocess.Popen(
                launched(command, dies_with_parent=self.dies_with_parent),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        (self.root / f"{name}.pid").write_text(str(self.procs[name].pid))

    def _check_alive(self, deadline: float, what: str) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                tail = (self.root / f"{name}.log").read_text(errors="replace")[-3000:]
                raise NodeError(f"{name} exited with {proc.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise NodeError(f"{what} not within {START_TIMEOUT:.0f} s (logs in {self.root})")

    def _network(self) -> None:
        """The pods' bridge, made before CNI would, and the routes that keep test traffic on this machine."""
        for command in (
            ["ip", "link", "add", BRIDGE, "type", "bridge"],
            ["ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE],
            ["ip", "link", "set", BRIDGE, "up"],
            ["ip", "route", "add", self.service_cidr, "dev", BRIDGE],
            ["ip", "route", "add", "unreachable", self.fake_pod_cidr],
        ):
            result = _quiet(*command)
            if result.returncode != 0:
                raise NodeError(f"{' '.join(command)}: {result.stderr.strip()}")
        conf = self.root / "cni" / "net.d"
        conf.mkdir(parents=True, exist_ok=True)
        network = {
            "cniVersion": "1.0.0",
            "name": "hayhooks-pods",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_CIDR, "gateway": GATEWAY}]],
                        "dataDir": str(self.root / "cni" / "ipam"),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }
        (conf / "10-hayhooks.conflist").write_text(json.dumps(network, indent=1))

    def _start_containerd(self) -> None:
        base = self.root / "containerd"
        certs = base / "certs.d" / self.registry
        certs.mkdir(parents=True, exist_ok=True)
        # The local registry speaks plain HTTP on loopback.
        url = f"http://{self.registry}"
        (certs / "hosts.toml").write_text(f'server = "{url}"\n[host."{url}"]\n  capabilities = ["pull", "resolve"]\n')
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        config = f"""version = 2
root = "{base / "root"}"
state = "{base / "state"}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{self.containerd_socket}"
[ttrpc]
  address = "{base / "ttrpc.sock"}"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{base / "opt"}"
[{cri}]
  sandbox_image = "{self.sandbox_image}"
  # This machine's root lacks CAP_SYS_RESOURCE: without it every sandbox fails on oom_score_adj.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  disable_apparmor = true
  [{cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [{cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [{cri}.containerd.runtimes.runc.options]
        Root = "{base / "runc"}"
        SystemdCgroup = false
  [{cri}.cni]
    bin_dir = "{CNI_BIN}"
    conf_dir = "{self.root / "cni" / "net.d"}"
  [{cri}.registry]
    config_path = "{base / "certs.d"}"
"""
        (base / "config.toml").write_text(config)
        self._spawn("containerd", [shutil.which("containerd") or "containerd", f"--config={base / 'config.toml'}"])
        deadline = time.monotonic() + START_TIMEOUT
        while not self.containerd_socket.exists():
            self._check_alive(deadline, "containerd's socket")
            time.sleep(0.2)

    def _start_kubelet(self) -> None:
        kubelet = self.root / "kubelet"
        (kubelet / "pki").mkdir(parents=True, exist_ok=True)
        (self.root / "resolv.conf").write_text("")  # no DNS server here: pods get none
        config = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            # The node's address: the pods' gateway, an address of this machine only (a kubelet may not register
            # a loopback one). Only the API server gets in: its client certificate, from the cluster's own CA.
            "address": GATEWAY,
            "port": self.ports["kubelet"],
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": self.ports["kubelet-healthz"],
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": False},
                "x509": {"clientCAFile": str(self.client_ca)},
            },
            "authorization": {"mode": "AlwaysAllow"},
            "cgroupDriver": "cgroupfs",
            "failCgroupV1": False,
            "failSwapOn": False,
            "containerRuntimeEndpoint": f"unix://{self.containerd_socket}",
            "resolvConf": str(self.root / "resolv.conf"),
            "clusterDomain": "cluster.local",
            "podCIDR": POD_CIDR,
            "maxPods": 30,
            "registerWithTaints": [{"key": TAINT_KEY, "value": "true", "effect": "NoSchedule"}],
            "serializeImagePulls": False,
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "protectKernelDefaults": False,
            "rotateCertificates": False,
            "serverTLSBootstrap": False,
            "enableServer": True,
            "logging": {"format": "text"},
            "localStorageCapacityIsolation": True,
        }
        (kubelet / "config.json").write_text(json.dumps(config, indent=1))
        self._spawn(
            "kubelet",
            [
                str(self.bin / "kubelet"),
                f"--config={kubelet / 'config.json'}",
                f"--kubeconfig={self.kubeconfig}",
                f"--root-dir={kubelet / 'root'}",
                f"--cert-dir={kubelet / 'pki'}",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={GATEWAY}",
                "--v=1",
            ],
        )

    def _start_kube_proxy(self) -> None:
        config = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": str(self.kubeconfig)},
            "mode": "iptables",
            "clusterCIDR": POD_CIDR,
            "hostnameOverride": NODE_NAME,
            "bindAddress": "127.0.0.1",
            "healthzBindAddress": f"127.0.0.1:{self.ports['proxy-healthz']}",
            "metricsBindAddress": f"127.0.0.1:{self.ports['proxy-metrics']}",
            # Zero: leave the conntrack sysctls as they are (setting them needs CAP_SYS_RESOURCE here).
            "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
            "iptables": {"localhostNodePorts": False},
            "nodePortAddresses": [f"{GATEWAY}/32"],
        }
        path = self.root / "kube-proxy.json"
        path.write_text(json.dumps(config, indent=1))
        self._spawn("kube-proxy", [str(self.bin / "kube-proxy"), f"--config={path}", "--v=1"])

    def _kubectl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        jsonpath = '{.status.conditions[?(@.type=="Ready")].status}'
        while self._kubectl("get", "node", NODE_NAME, "-o", f"jsonpath={jsonpath}").stdout != "True":
            self._check_alive(deadline, f"node {NODE_NAME} Ready")
            time.sleep(0.5)

    # ------------------------------------------------------------------------------------------ stop

    def stop(self) -> list[str]:
        """Stop the pods' processes, kube-proxy, the kubelet and containerd; put the host back as it was.
        Returns what could not be put back (empty when all was)."""
        if self.host is None and (self.root / "host-state.json").is_file():
            self.host = HostState.load(self.root / "host-state.json")
        _kill_cgroup(POD_CGROUP)
        for name in ("kube-proxy", "kubelet"):
            _terminate(self.procs.pop(name, None) or _from_pid_file(self.root, name))
        shims = _shims(self.root)
        _terminate(self.procs.pop("containerd", None) or _from_pid_file(self.root, "containerd"))
        for pid in shims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _kill_cgroup(POD_CGROUP)
        if (self.bin / "kube-proxy").is_file():
            _quiet(str(self.bin / "kube-proxy"), "--cleanup")
        for route in ([self.service_cidr], ["unreachable", self.fake_pod_cidr]):
            if route[-1]:
                _quiet("ip", "route", "del", *route)
        problems = self.host.restore() if self.host is not None else []
        _remove_cgroup(POD_CGROUP)
        _unmount_below(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
        return problems


@dataclass
class _Started:
    """A process this node started in another run of this program (`make cluster`), known by its pid file."""

    pid: int

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        return None

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.1)


def _from_pid_file(root: Path, name: str) -> _Started | None:
    """Only a process that is still the program named (after a reboot the number may be another's)."""
    with contextlib.suppress(ValueError, OSError):
        pid = int((root / f"{name}.pid").read_text())
        if Path(f"/proc/{pid}/exe").resolve().name == name:
            return _Started(pid)
    return None


def _terminate(proc: subprocess.Popen[bytes] | _Started | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _shims(root: Path) -> list[int]:
    """The containerd shims of this node's containerd (each in a session of its own, so not in its group)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and str(root).encode() in b" ".join(argv):
                found.append(int(entry.name))
    return found


def _cgroup_dirs(name: str) -> list[Path]:
    """Every folder of the cgroup `name` in every hierarchy, deepest first."""
    dirs: list[Path] = []
    for hierarchy in CGROUP_ROOT.iterdir():
        top = hierarchy / name
        if top.is_dir():
            dirs += [Path(folder) for folder, _, _ in os.walk(top)]
    return sorted(dirs, key=lambda p: len(p.parts), reverse=True)


def _kill_cgroup(name: str) -> None:
    for folder in _cgroup_dirs(name):
        with contextlib.suppress(OSError):
            for pid in (folder / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


def _remove_cgroup(name: str) -> None:
    deadline = time.monotonic() + 10
    for folder in _cgroup_dirs(name):
        while folder.exists():
            try:
                folder.rmdir()
            except OSError:
                if time.monotonic() > deadline:
                    break
                _kill_cgroup(name)
                time.sleep(0.2)


def _unmount_below(root: Path) -> None:
    for mount in sorted((m for m in _mounts() if m.startswith(f"{root}/") or m == str(root)), key=len, reverse=True):
        _quiet("umount", "-l", mount)


def node_selection() -> dict[str, Any]:
    """What a stack's `pod` settings need to run on this node: its name and a toleration of its taint."""
    return {
        "nodeSelector": {"kubernetes.io/hostname": NODE_NAME},
        "tolerations": [{"key": TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}],
    }
