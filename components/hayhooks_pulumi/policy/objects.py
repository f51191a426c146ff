"""What the policy rules read: a resource as the policy engine hands it, a Kubernetes object, and
whether a container runs Hayhooks.

A resource is its Pulumi type token and its camelCase inputs, exactly what Pulumi's policy engine
hands a policy (`kubernetes:apps/v1:Deployment` + `{"metadata": ..., "spec": ...}`) and what the
offline render writes to `resources.json`. Values are only read through `Mapping`/`Sequence`
access (the readers below), so the engine's proxies work as well as dicts: a value unknown during
a preview raises the engine's own "can't be known during preview" error, and only in the rule
that needs it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Where each workload kind keeps its pod template.
_POD_TEMPLATE: Mapping[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it: its type token, its camelCase inputs, and for reports its name and the
    package's component that made it, if one did (`HayhooksService`, or `HayhooksService 'hayhooks'`)."""

    type: str
    props: Mapping[str, Any]
    name: str = ""
    urn: str | None = None
    component: str | None = None


# ----- plain-value readers (Mapping/Sequence only, so the policy engine's proxies work too) -----


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_seq(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else ()


def strings(value: Any) -> list[str]:
    return [item for item in as_seq(value) if isinstance(item, str)]


def dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = as_mapping(value).get(key)
    return value


# ----- Kubernetes objects -----


@dataclass(frozen=True)
class KubeObject:
    api_version: str
    kind: str
    body: Mapping[str, Any]
    urn: str | None = None

    @property
    def group(self) -> str:
        return self.api_version.split("/")[0] if "/" in self.api_version else ""

    @property
    def metadata(self) -> Mapping[str, Any]:
        return as_mapping(self.body.get("metadata"))

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def namespace(self) -> str | None:
        namespace = self.metadata.get("namespace")
        return namespace if isinstance(namespace, str) and namespace else None

    @property
    def labels(self) -> Mapping[str, Any]:
        return as_mapping(self.metadata.get("labels"))

    @property
    def annotations(self) -> Mapping[str, Any]:
        return as_mapping(self.metadata.get("annotations"))

    @property
    def spec(self) -> Mapping[str, Any]:
        return as_mapping(self.body.get("spec"))

    @property
    def subject(self) -> str:
        return f"{self.kind} {self.namespace or '(default)'}/{self.name}"


def kubernetes_object(resource: Resource) -> KubeObject | None:
    """`kubernetes:apps/v1:Deployment` -> apiVersion `apps/v1`, kind `Deployment` (`core/v1` is `v1`)."""
    parts = resource.type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    module, kind = parts[1], parts[2]
    api_version = resource.props.get("apiVersion")
    if not isinstance(api_version, str):
        api_version = "v1" if module == "core/v1" else module
    declared_kind = resource.props.get("kind")
    return KubeObject(
        api_version, declared_kind if isinstance(declared_kind, str) else kind, resource.props, resource.urn
    )


def same_namespace(a: str | None, b: str | None) -> bool:
    """An object without a namespace lands in the provider's default one, which may be the other's."""
    return a is None or b is None or a == b


def pod_template(obj: KubeObject) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """(pod labels, pod spec) of a workload, or None for other kinds."""
    if obj.kind == "Pod" and obj.group == "":
        return obj.labels, obj.spec
    path = _POD_TEMPLATE.get(obj.kind)
    if path is None:
        return None
    template = dig(obj.body, *path)
    return as_mapping(dig(template, "metadata", "labels")), as_mapping(dig(template, "spec"))


# ----- whether a container runs Hayhooks -----


def image_repository(image: str) -> str:
    """`registry:5000/org/hayhooks:v1@sha256:...` -> `registry:5000/org/hayhooks`."""
    ref = image.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    return ref[:colon] if colon > slash else ref


def _runs_hayhooks_command(command: Sequence[Any]) -> bool:
    tokens = [t for t in command if isinstance(t, str)]
    if not tokens:
        return False
    program = posixpath.basename(tokens[0])
    if program == "hayhooks":
        return True
    return program.startswith("python") and tokens[1:3] == ["-m", "hayhooks"]


def runs_hayhooks(command: Sequence[Any], args: Sequence[Any], image: Callable[[], Any] | None = None) -> bool:
    """The process is the `hayhooks` CLI, or the image repository names hayhooks. The image is read
    last, and only if needed: one built in the same update is unknown during a preview."""
    if _runs_hayhooks_command(command) or (not command and _runs_hayhooks_command(args)):
        return True
    reference = image() if image is not None else None
    return isinstance(reference, str) and "hayhooks" in image_repository(reference).lower()
