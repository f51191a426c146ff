"""The checks of one Hayhooks container of a Kubernetes workload: image digest, read-only pipelines,
status probes, memory limit, Pod Security "restricted", service links.

A workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ...) is checked when
one of its containers runs Hayhooks: its image repository contains `hayhooks`, or it runs the
`hayhooks` command. Each check returns its messages; the catalog names the rule they break.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..server.facts import STATUS_PATH
from .env import PORT_ENVS, ServerEnv, pipelines_dir
from .objects import KubeObject, as_mapping, as_seq, dig, pod_template, runs_hayhooks, strings
from .privileges import ROOT_USERS, capability_problems

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}\Z")
_SECCOMP_TYPES = {"RuntimeDefault", "Localhost"}
# Volume types Pod Security "restricted" allows.
_RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


@dataclass(frozen=True)
class PodContainer:
    obj: KubeObject
    pod_spec: Mapping[str, Any]
    container: Mapping[str, Any]
    env: ServerEnv

    @property
    def subject(self) -> str:
        return f"{self.obj.subject} container {self.container.get('name') or '(unnamed)'}"

    @property
    def security(self) -> Mapping[str, Any]:
        return as_mapping(self.container.get("securityContext"))

    @property
    def pod_security(self) -> Mapping[str, Any]:
        return as_mapping(self.pod_spec.get("securityContext"))

    def effective(self, key: str) -> Any:
        """A container security setting, else the pod's."""
        value = self.security.get(key)
        return self.pod_security.get(key) if value is None else value

    @property
    def tokens(self) -> list[Any]:
        return [*as_seq(self.container.get("command")), *as_seq(self.container.get("args"))]


def hayhooks_containers(obj: KubeObject) -> Iterator[PodContainer]:
    template = pod_template(obj)
    if template is None:
        return
    _, spec = template
    for key in ("initContainers", "containers"):
        for entry in as_seq(spec.get(key)):
            container = as_mapping(entry)
            command, args = as_seq(container.get("command")), as_seq(container.get("args"))
            if runs_hayhooks(command, args, functools.partial(container.get, "image")):
                yield PodContainer(obj, spec, container, ServerEnv.from_kubernetes(container))


def check_image_digest(c: PodContainer) -> list[str]:
    image = c.container.get("image")
    if isinstance(image, str) and _DIGEST.search(image):
        return []
    return [
        f"image {image!r} is not pinned by digest; write <repository>:<tag>@sha256:<digest> "
        "(`docker buildx imagetools inspect <repository>:<tag>` prints it)"
    ]


def _covers(mount_path: str, path: str) -> bool:
    mount_path = posixpath.normpath(mount_path)
    return path == mount_path or mount_path == "/" or path.startswith(mount_path.rstrip("/") + "/")


def check_pipelines_read_only(c: PodContainer) -> list[str]:
    path, problem = pipelines_dir(c.env, c.tokens)
    if path is None:
        return [problem] if problem else []
    mounts = [
        as_mapping(m)
        for m in as_seq(c.container.get("volumeMounts"))
        if isinstance(as_mapping(m).get("mountPath"), str) and _covers(as_mapping(m)["mountPath"], path)
    ]
    if mounts:
        mount = max(mounts, key=lambda m: len(posixpath.normpath(m["mountPath"])))
        if mount.get("readOnly") is True:
            return []
        return [f"volume {mount.get('name')!r} holding the pipelines dir {path} is mounted without readOnly: true"]
    if c.security.get("readOnlyRootFilesystem") is True:
        return []
    return [f"the pipelines dir {path} is neither a read-only mount nor on a read-only root filesystem"]


def _is_status_path(path: str) -> bool:
    return path == STATUS_PATH or path.startswith(f"{STATUS_PATH}/")


def _probe_asks_status(probe: Mapping[str, Any]) -> bool:
    path = dig(probe, "httpGet", "path")
    if isinstance(path, str):
        return _is_status_path(path)
    command = strings(dig(probe, "exec", "command"))
    return any(STATUS_PATH in part for part in command)


def check_status_probes(c: PodContainer) -> list[str]:
    problems = []
    readiness = c.container.get("readinessProbe")
    if readiness is None:
        problems.append(f"no readinessProbe: add one on {STATUS_PATH} (or {STATUS_PATH}/<pipeline>)")
    elif not _probe_asks_status(as_mapping(readiness)):
        problems.append(f"the readinessProbe does not ask {STATUS_PATH} (or {STATUS_PATH}/<pipeline>)")
    if c.container.get("livenessProbe") is None:
        problems.append("no livenessProbe")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        path = dig(c.container.get(kind), "httpGet", "path")
        if isinstance(path, str) and not _is_status_path(path):
            problems.append(f"the {kind} asks {path!r}, which the server does not answer with 200; ask {STATUS_PATH}")
    return problems


def check_memory_limit(c: PodContainer) -> list[str]:
    if dig(c.container, "resources", "limits", "memory"):
        return []
    return ["no resources.limits.memory: a pod without one can starve its node"]


def check_restricted_security(c: PodContainer) -> list[str]:
    problems = []
    if c.security.get("privileged") is True:
        problems.append("securityContext.privileged is true")
    if c.security.get("allowPrivilegeEscalation") is not False:
        problems.append("securityContext.allowPrivilegeEscalation is not false")
    if c.effective("runAsNonRoot") is not True:
        problems.append("runAsNonRoot is not true (the official image runs as root)")
    user = c.effective("runAsUser")
    if user is not None and str(user) in ROOT_USERS:
        problems.append("runAsUser is 0 (root)")
    seccomp = as_mapping(c.effective("seccompProfile")).get("type")
    if seccomp not in _SECCOMP_TYPES:
        problems.append(f"seccompProfile.type is {seccomp!r}, not RuntimeDefault or Localhost")
    capabilities = as_mapping(c.security.get("capabilities"))
    problems += capability_problems(capabilities.get("drop"), capabilities.get("add"), "securityContext.capabilities")
    if c.security.get("readOnlyRootFilesystem") is not True:
        problems.append("securityContext.readOnlyRootFilesystem is not true (mount /tmp and HOME as emptyDir)")
    problems += [f"the pod sets {key}: true" for key in _HOST_NAMESPACES if c.pod_spec.get(key) is True]
    for volume in as_seq(c.pod_spec.get("volumes")):
        kinds = set(as_mapping(volume)) - {"name"}
        if kinds and not kinds & _RESTRICTED_VOLUMES:
            problems.append(f"volume {as_mapping(volume).get('name')!r} is of type {', '.join(sorted(kinds))}")
    return problems


def check_service_links(c: PodContainer) -> list[str]:
    if c.pod_spec.get("enableServiceLinks") is False:
        return []
    missing = [name for name in PORT_ENVS if not c.env.is_set(name)]
    if not missing:
        return []
    return [
        f"service links are on and {', '.join(missing)} not set: a Service named like hayhooks in the namespace "
        "makes the kubelet inject HAYHOOKS_PORT=tcp://..., and the server exits at start; set "
        "enableServiceLinks: false or set the port variables explicitly"
    ]
