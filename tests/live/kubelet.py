"""What the kubelet would make of the rendered Deployment, on this machine, without Kubernetes.

Everything comes from the rendered manifests: the container's env (with `$(VAR)` expansion,
`secretKeyRef` stand-ins, and the service-link variables the kubelet injects unless the pod sets
`enableServiceLinks: false`), its volumes laid out under a scratch root the way the kubelet lays
them out (ConfigMap volumes through `..data` symlinks, read-only; emptyDirs writable), its user and
groups, its own command and args, and its probes. The only rewrites are the ones a pod on a
laptop needs: mount paths move under the scratch root, `--host`/`--port` become loopback and a
free port, and the image's `PATH` is this repository's virtualenv.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MASTER_SERVICE_IP = "10.96.0.1"  # the `kubernetes` Service in `default`: injected into every pod
SERVICE_IP_PREFIX = "10.0.0."  # stand-in ClusterIPs of the rendered Services: 10.0.0.1, 10.0.0.2, ...
POD_IP = "127.0.0.1"
# Stand-ins for the image: the official image puts its venv first on PATH and runs from a root-owned dir.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


class EmulationError(Exception):
    """The rendered pod uses something this emulation does not model: fail loudly, never guess."""


# ---------------------------------------------------------------------------------------------------------------
# The render


@dataclass
class Render:
    root: Path
    objects: list[dict[str, Any]]

    @classmethod
    def load(cls, root: Path) -> Render:
        objects = []
        for path in sorted((root / "manifests").glob("*.yaml")):
            objects.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
        if not objects:
            raise EmulationError(f"no manifests under {root / 'manifests'}")
        return cls(root, objects)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [o for o in self.of_kind(kind) if name is None or o["metadata"]["name"] == name]
        if len(found) != 1:
            raise EmulationError(f"expected one {kind}{f' {name!r}' if name else ''} in the render, found {len(found)}")
        return found[0]

    def in_namespace(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        return [o for o in self.of_kind(kind) if o["metadata"].get("namespace", "default") == namespace]


# ---------------------------------------------------------------------------------------------------------------
# Environment


def _env_key(name: str) -> str:
    return name.upper().replace("-", "_")


def service_link_env(services: Iterable[dict[str, Any]], first_ip: int = 1) -> dict[str, str]:
    """The variables the kubelet derives from Services (pkg/kubelet/envvars: FromServices)."""
    env: dict[str, str] = {}
    for index, service in enumerate(services):
        spec = service.get("spec", {})
        if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None" or not spec.get("ports"):
            continue
        ip = spec.get("clusterIP") or f"{SERVICE_IP_PREFIX}{first_ip + index}"
        env.update(_links(_env_key(service["metadata"]["name"]), ip, spec["ports"]))
    return env


def _links(prefix: str, ip: str, ports: list[dict[str, Any]]) -> dict[str, str]:
    env = {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(ports[0]["port"])}
    for port in ports:
        if port.get("name"):
            env[f"{prefix}_SERVICE_PORT_{_env_key(port['name'])}"] = str(port["port"])
    first = ports[0]
    env[f"{prefix}_PORT"] = f"{first.get('protocol', 'TCP').lower()}://{ip}:{first['port']}"
    for port in ports:
        proto = port.get("protocol", "TCP")
        base = f"{prefix}_PORT_{port['port']}_{proto.upper()}"
        env[base] = f"{proto.lower()}://{ip}:{port['port']}"
        env[f"{base}_PROTO"] = proto.lower()
        env[f"{base}_PORT"] = str(port["port"])
        env[f"{base}_ADDR"] = ip
    return env


MASTER_SERVICE_ENV = _links("KUBERNETES", MASTER_SERVICE_IP, [{"name": "https", "port": 443, "protocol": "TCP"}])

_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: defined names are replaced, `$$` escapes, unknown refs stay as written."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env[name] if name in env else match.group(0)

    return _REF.sub(substitute, value)


def secret_stand_in(secret: str, key: str) -> str:
    return f"test-stand-in-{secret}-{key}"


# ---------------------------------------------------------------------------------------------------------------
# The pod


@dataclass
class Pod:
    """One container of the rendered Deployment, ready to start on this machine."""

    deployment: dict[str, Any]
    container: dict[str, Any]
    root: Path
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    uid: int
    gid: int
    groups: list[int]
    ports: dict[int, int]  # containerPort -> loopback port
    named_ports: dict[str, int]  # port name -> containerPort
    mounts: dict[str, Path] = field(default_factory=dict)  # mountPath -> directory under root
    service_links: bool = False

    @property
    def pod_spec(self) -> dict[str, Any]:
        return self.deployment["spec"]["template"]["spec"]

    def host_port(self, port: int | str) -> int:
        container_port = self.named_ports[port] if isinstance(port, str) else int(port)
        if container_port not in self.ports:
            raise EmulationError(f"port {port!r} is not a containerPort of {self.container['name']}")
        return self.ports[container_port]

    @property
    def http_port(self) -> int:
        """The loopback port of the container's first declared port."""
        return self.ports[self.container["ports"][0]["containerPort"]]

    def popen_kwargs(self) -> dict[str, Any]:
        return {"env": self.env, "cwd": self.cwd, "user": self.uid, "group": self.gid, "extra_groups": self.groups}


def materialise(
    render: Render,
    root: Path,
    bin_dir: Path,
    free_port: Any,
    deployment_name: str | None = None,
) -> Pod:
    """Lay out the pod of the rendered Deployment under `root` (which must exist and be empty)."""
    deployment = render.one("Deployment", deployment_name)
    namespace = deployment["metadata"].get("namespace", "default")
    spec = deployment["spec"]["template"]["spec"]
    if len(spec["containers"]) != 1 or spec.get("initContainers"):
        raise EmulationError("the emulation runs exactly one container and no init containers")
    container = spec["containers"][0]
    pod_sc = spec.get("securityContext", {})
    sc = {**pod_sc, **container.get("securityContext", {})}
    if "runAsUser" not in sc:
        raise EmulationError("no runAsUser: the container would run as the image's user (root in the official image)")
    uid = int(sc["runAsUser"])
    gid = int(sc.get("runAsGroup", uid))
    groups = sorted({int(g) for g in [pod_sc.get("fsGroup"), *pod_sc.get("supplementalGroups", [])] if g is not None})
    fs_group = pod_sc.get("fsGroup")

    root.mkdir(exist_ok=True)
    os.chmod(root, 0o755)
    mounts = _volumes(render, namespace, spec, container, root, fs_group)

    # Env: container env in order (each value may refer to earlier ones and to the service env), then the
    # service-link variables that the container did not define itself.
    service_links = spec.get("enableServiceLinks", True)
    services = render.in_namespace("Service", namespace) if service_links else []
    service_env = {**service_link_env(services), **MASTER_SERVICE_ENV}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(_env_from(render, namespace, source))
    for var in container.get("env", []):
        env[var["name"]] = _env_value(render, namespace, deployment, var, {**service_env, **env})
    for key, value in service_env.items():
        env.setdefault(key, value)

    # What the image would bring: its venv first on PATH; HOME and TMPDIR inside the pod's filesystem.
    # The image's PATH is set after relocation: the checkout (and so this venv) may itself sit under a
    # path the pod mounts over, such as /tmp, and the image's venv is never under a pod volume.
    env = {key: _relocate(value, mounts) for key, value in env.items()}
    env.setdefault("PATH", f"{bin_dir}:{SYSTEM_PATH}")
    env.setdefault("HOME", str(_read_only_dir(root / "root")))
    tmp = mounts.get("/tmp")
    env["TMPDIR"] = str(tmp if tmp is not None else _read_only_dir(root / "tmp"))

    named_ports = {p["name"]: p["containerPort"] for p in container.get("ports", []) if p.get("name")}
    ports = {p["containerPort"]: free_port() for p in container.get("ports", [])}
    if not ports:
        raise EmulationError("the container declares no ports")
    argv = [expand(a, env) for a in [*container.get("command", []), *container.get("args", [])]]
    if not container.get("command"):
        raise EmulationError("no command: the emulation does not know the image's entrypoint")
    argv = [_relocate(a, mounts) for a in _loopback_args(argv, ports, env)]
    argv[0] = _which(argv[0], env["PATH"])

    working_dir = container.get("workingDir")
    cwd = Path(_relocate(working_dir, mounts)) if working_dir else root
    return Pod(
        deployment=deployment,
        container=container,
        root=root,
        argv=argv,
        env=env,
        cwd=cwd,
        uid=uid,
        gid=gid,
        groups=groups,
        ports=ports,
        named_ports=named_ports,
        mounts=mounts,
        service_links=bool(service_links),
    )


def _env_from(render: Render, namespace: str, source: dict[str, Any]) -> dict[str, str]:
    prefix = source.get("prefix", "")
    if "configMapRef" in source:
        data = render.one("ConfigMap", source["configMapRef"]["name"])
        if data["metadata"].get("namespace", "default") != namespace:
            raise EmulationError("envFrom ConfigMap in another namespace")
        return {prefix + k: v for k, v in data.get("data", {}).items()}
    if "secretRef" in source:
        raise EmulationError("envFrom secretRef: the emulation has no stand-ins for a whole Secret")
    raise EmulationError(f"unknown envFrom source {source}")


def _env_value(
    render: Render, namespace: str, deployment: dict[str, Any], var: dict[str, Any], env: Mapping[str, str]
) -> str:
    if "value" in var:
        return expand(str(var["value"]), env)
    source = var.get("valueFrom")
    if source is None:
        return ""
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return secret_stand_in(ref["name"], ref["key"])
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        config_map = render.one("ConfigMap", ref["name"])
        if config_map["metadata"].get("namespace", "default") != namespace:
            raise EmulationError(f"ConfigMap {ref['name']} is not in namespace {namespace}")
        return config_map["data"][ref["key"]]
    if "fieldRef" in source:
        path = source["fieldRef"]["fieldPath"]
        fields = {
            "metadata.namespace": namespace,
            "metadata.name": f"{deployment['metadata']['name']}-0",
            "status.podIP": POD_IP,
            "status.hostIP": POD_IP,
            "spec.nodeName": "node-0",
            "spec.serviceAccountName": deployment["spec"]["template"]["spec"].get("serviceAccountName", "default"),
        }
        if path not in fields:
            raise EmulationError(f"fieldRef {path} is not emulated")
        return fields[path]
    raise EmulationError(f"env {var['name']}: unsupported valueFrom {source}")


def _relocate(value: str, mounts: Mapping[str, Path]) -> str:
    """A container path under a mount point, moved to where that volume lives under the scratch root."""
    if not value.startswith("/"):
        return value
    for mount_path in sorted(mounts, key=len, reverse=True):
        if value == mount_path or value.startswith(mount_path.rstrip("/") + "/"):
            return str(mounts[mount_path]) + value[len(mount_path.rstrip("/")) :]
    return value


_HOST_FLAGS = ("--host", "-h")
_PORT_FLAGS = ("--port", "-p")


def _loopback_args(argv: list[str], ports: Mapping[int, int], env: dict[str, str]) -> list[str]:
    """`--host X` -> 127.0.0.1 and `--port N` -> N's loopback port; without them, the same through the env."""
    out: list[str] = []
    seen_host = seen_port = False
    items = iter(argv)
    for arg in items:
        flag, eq, inline = arg.partition("=")
        if flag in _HOST_FLAGS or flag in _PORT_FLAGS:
            value = inline if eq else next(items, None)
            if value is None:
                raise EmulationError(f"{flag} without a value")
            if flag in _HOST_FLAGS:
                value, seen_host = POD_IP, True
            else:
                if int(value) not in ports:
                    raise EmulationError(f"{flag} {value} is not a declared containerPort")
                value, seen_port = str(ports[int(value)]), True
            out += [f"{flag}={value}"] if eq else [flag, value]
        else:
            out.append(arg)
    if not seen_host:
        env["HAYHOOKS_HOST"] = POD_IP
    if not seen_port:
        if "HAYHOOKS_PORT" not in env or not env["HAYHOOKS_PORT"].isdigit() or int(env["HAYHOOKS_PORT"]) not in ports:
            raise EmulationError("neither --port nor a numeric HAYHOOKS_PORT naming a containerPort")
        env["HAYHOOKS_PORT"] = str(ports[int(env["HAYHOOKS_PORT"])])
    return out


def _which(program: str, path: str) -> str:
    found = shutil.which(program, path=path)
    if found is None:
        raise EmulationError(f"{program!r} is not on the container's PATH ({path})")
    return found


# ---------------------------------------------------------------------------------------------------------------
# Volumes


def _read_only_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o555)
    return path


def _make_parents(root: Path, path: Path) -> None:
    """Directories of the image's filesystem: root-owned, not writable by the container's user."""
    current = root
    for part in path.relative_to(root).parts[:-1]:
        current = current / part
        current.mkdir(exist_ok=True)
        os.chmod(current, 0o755)


def _volumes(
    render: Render,
    namespace: str,
    spec: dict[str, Any],
    container: dict[str, Any],
    root: Path,
    fs_group: int | None,
) -> dict[str, Path]:
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts: dict[str, Path] = {}
    for mount in container.get("volumeMounts", []):
        if mount.get("subPath") or mount.get("subPathExpr"):
            raise EmulationError(f"volumeMount {mount['name']}: subPath is not emulated")
        volume = volumes.get(mount["name"])
        if volume is None:
            raise EmulationError(f"volumeMount {mount['name']} names no volume of the pod")
        target = root / mount["mountPath"].lstrip("/")
        _make_parents(root, target)
        if "emptyDir" in volume:
            target.mkdir()
            # The kubelet makes an emptyDir world-writable; with fsGroup it belongs to that group.
            os.chown(target, 0, fs_group if fs_group is not None else 0)
            os.chmod(target, 0o777 if fs_group is None else 0o2777)
            if mount.get("readOnly"):
                os.chmod(target, 0o555)
        elif "configMap" in volume:
            _config_map_volume(render, namespace, volume["configMap"], target, fs_group)
        else:
            kinds = sorted(set(volume) - {"name"})
            raise EmulationError(f"volume {mount['name']}: type {kinds} is not emulated")
        mounts[mount["mountPath"]] = target
    return mounts


def _config_map_volume(
    render: Render, namespace: str, source: dict[str, Any], target: Path, fs_group: int | None
) -> None:
    """The kubelet's atomic writer: files in `..<timestamp>/`, `..data` -> it, each top-level entry -> `..data/`."""
    found = [c for c in render.in_namespace("ConfigMap", namespace) if c["metadata"]["name"] == source["name"]]
    if not found:
        if source.get("optional"):
            target.mkdir()
            return
        raise EmulationError(f"ConfigMap {source['name']} is not in the render (the pod would not start)")
    config_map = found[0]
    data: dict[str, bytes] = {k: v.encode() for k, v in config_map.get("data", {}).items()}
    data.update({k: base64.b64decode(v) for k, v in config_map.get("binaryData", {}).items()})
    default_mode = source.get("defaultMode", 0o644)
    if "items" in source:
        files = []
        for item in source["items"]:
            if item["key"] not in data:
                if source.get("optional"):
                    continue
                raise EmulationError(f"ConfigMap {source['name']} has no key {item['key']!r}")
            files.append((item["path"], data[item["key"]], item.get("mode", default_mode)))
    else:
        files = [(key, value, default_mode) for key, value in data.items()]

    target.mkdir()
    stamp = target / "..2026_01_01_00_00_00.000000000"
    stamp.mkdir()
    for rel, content, mode in files:
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise EmulationError(f"ConfigMap item path {rel!r} escapes the volume")
        path = stamp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.chown(path, 0, fs_group if fs_group is not None else 0)
        os.chmod(path, mode)
    os.symlink(stamp.name, target / "..data")
    for top in sorted({Path(rel).parts[0] for rel, _, _ in files}):
        os.symlink(f"..data/{top}", target / top)
    # Read-only: nothing in the volume is writable by the container's (non-root) user.
    for directory, _, _ in os.walk(stamp):
        os.chmod(directory, 0o555)
    os.chmod(target, 0o555)


def tree_is_read_only(path: Path) -> bool:
    """True when no directory or regular file under `path` has a write bit (symlinks are not followed)."""
    for directory, dirs, files in os.walk(path):
        for name in [directory, *(os.path.join(directory, f) for f in files + dirs)]:
            mode = os.lstat(name).st_mode
            if not stat.S_ISLNK(mode) and mode & 0o222:
                return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Probes


@dataclass
class ProbeResult:
    ok: bool
    detail: str


def run_probe(pod: Pod, probe: dict[str, Any]) -> ProbeResult:
    """One attempt of a probe as the kubelet runs it (`timeoutSeconds` bounds it; default 1 s)."""
    timeout = probe.get("timeoutSeconds", 1)
    if "httpGet" in probe:
        get = probe["httpGet"]
        host = get.get("host", POD_IP)
        url = f"{get.get('scheme', 'HTTP').lower()}://{host}:{pod.host_port(get['port'])}{get.get('path', '/')}"
        request = urllib.request.Request(url, headers={h["name"]: h["value"] for h in get.get("httpHeaders", [])})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            return ProbeResult(False, f"GET {url}: {error}")
        # The kubelet counts 200..399 as success.
        return ProbeResult(200 <= status < 400, f"GET {url} -> {status}")
    if "tcpSocket" in probe:
        port = pod.host_port(probe["tcpSocket"]["port"])
        try:
            with socket.create_connection((probe["tcpSocket"].get("host", POD_IP), port), timeout=timeout):
                return ProbeResult(True, f"connected to {port}")
        except OSError as error:
            return ProbeResult(False, f"connect {port}: {error}")
    if "exec" in probe:
        command = [_substitute_ports(arg, pod.ports) for arg in probe["exec"]["command"]]
        command[0] = _which(command[0], pod.env["PATH"])
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, check=False, **pod.popen_kwargs()
            )
        except subprocess.TimeoutExpired:
            return ProbeResult(False, f"exec timed out after {timeout}s: {command}")
        return ProbeResult(done.returncode == 0, f"exec exit {done.returncode}: {done.stderr.strip()[-500:]}")
    if "grpc" in probe:
        raise EmulationError("grpc probes are not emulated")
    raise EmulationError(f"probe without a handler: {json.dumps(probe)}")


def _substitute_ports(arg: str, ports: Mapping[int, int]) -> str:
    """`:1416` in an exec probe's command -> `:<loopback port>` (a pod's port is the container's own)."""
    for container_port, host_port in ports.items():
        arg = re.sub(rf":{container_port}(?!\d)", f":{host_port}", arg)
    return arg
