"""The production guide as pure checks over plain objects, for any stack that runs Hayhooks.

A resource is its Pulumi type token and its camelCase inputs, exactly what Pulumi's policy engine
hands a policy (`kubernetes:apps/v1:Deployment` + `{"metadata": ..., "spec": ...}`) and what the
offline render writes to `resources.json`. Values are only read through `Mapping`/`Sequence`
access, so the engine's proxies work as well as dicts: a value unknown during a preview raises
the engine's own "can't be known during preview" error, and only in the rule that needs it.

A Kubernetes workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, ...)
is checked when one of its containers runs Hayhooks: its image repository contains `hayhooks`,
or it runs the `hayhooks` command. A Docker container (`docker:index/container:Container`)
is checked when it runs the `hayhooks` command (its `image` is usually an image ID).

Settings whose server default is unsafe (CORS lists default to `["*"]`, durable mode to off) must
be set, as literal values; a setting taken from a Secret or ConfigMap reference cannot be
reviewed, so it counts as a violation of the rule that reads it. Settings whose default is safe
(tracebacks off, INFO logs) are violations only when set to the unsafe value or from a reference.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..kubernetes.edge.ingress.controllers import NGINX_PREFIX, TRAEFIK_MIDDLEWARES
from ..kubernetes.edge.routes import UPLOAD_PATHS
from ..server import STATUS_PATH
from ..settings import WILDCARD, matches_any_origin


class Rule(StrEnum):
    """Policy names: CrossGuard's policy names and the keys of a policy config file."""

    IMAGE_DIGEST = "hayhooks-image-digest"
    CORS_NO_WILDCARD = "hayhooks-cors-no-wildcard"
    CORS_CREDENTIALS = "hayhooks-cors-credentials"
    NO_TRACEBACKS = "hayhooks-no-tracebacks"
    LOG_LEVEL = "hayhooks-log-level"
    DURABLE_MODE = "hayhooks-durable-mode"
    PIPELINES_READ_ONLY = "hayhooks-pipelines-read-only"
    STATUS_PROBES = "hayhooks-status-probes"
    MEMORY_LIMIT = "hayhooks-memory-limit"
    RESTRICTED_SECURITY = "hayhooks-restricted-security"
    SERVICE_LINKS = "hayhooks-service-links"
    EDGE_AUTH = "hayhooks-edge-auth"
    NO_UPLOAD_ROUTES = "hayhooks-no-upload-routes"


DESCRIPTIONS: Mapping[Rule, str] = {
    Rule.IMAGE_DIGEST: "A Hayhooks image is pinned by digest (@sha256:...): what runs is what was reviewed.",
    Rule.CORS_NO_WILDCARD: "HAYHOOKS_CORS_ALLOW_ORIGINS and HAYHOOKS_CORS_ALLOW_METHODS are set (the server "
    "defaults both to '*') and allow no wildcard; HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX matches no stranger's origin.",
    Rule.CORS_CREDENTIALS: "HAYHOOKS_CORS_ALLOW_CREDENTIALS is never true while any origin is allowed.",
    Rule.NO_TRACEBACKS: "HAYHOOKS_SHOW_TRACEBACKS is off: tracebacks leak code and data to clients.",
    Rule.LOG_LEVEL: "The log level (HAYHOOKS_LOG_LEVEL, or the legacy LOG) is not DEBUG or TRACE, "
    "which log request payloads.",
    Rule.DURABLE_MODE: "HAYHOOKS_DURABLE_MODE is true: pipelines load once, read-only, and the code-upload "
    "routes are removed.",
    Rule.PIPELINES_READ_ONLY: "The pipelines directory (HAYHOOKS_PIPELINES_DIR or --pipelines-dir) is set and "
    "mounted read-only (or lies on a read-only root filesystem).",
    Rule.STATUS_PROBES: "Health checks ask the server's /status: a readiness probe on /status or "
    "/status/<pipeline>, a liveness probe, and no HTTP probe elsewhere (GET / answers 404).",
    Rule.MEMORY_LIMIT: "A Hayhooks container has a memory limit (pipelines can grow without bound).",
    Rule.RESTRICTED_SECURITY: "Pod Security 'restricted' plus a read-only root filesystem: non-root, no "
    "privilege escalation, seccomp RuntimeDefault, all capabilities dropped, no host namespaces or hostPath.",
    Rule.SERVICE_LINKS: "enableServiceLinks is false, or HAYHOOKS_PORT, HAYHOOKS_MCP_PORT and HAYHOOKS_A2A_PORT "
    "are set explicitly: a Service named hayhooks would otherwise inject HAYHOOKS_PORT=tcp://... and crash the server.",
    Rule.EDGE_AUTH: "Every Ingress and HTTPRoute in front of Hayhooks authenticates clients (nginx auth "
    "annotations, a Traefik auth middleware, an Envoy Gateway SecurityPolicy), and no LoadBalancer or "
    "NodePort Service exposes it directly: the server has no authentication of its own.",
    Rule.NO_UPLOAD_ROUTES: "No Ingress or HTTPRoute in front of Hayhooks routes the code-upload paths "
    f"({', '.join(UPLOAD_PATHS)}): whoever reaches them runs arbitrary Python.",
}

# Checked on each Hayhooks container of a Kubernetes workload.
WORKLOAD_RULES: tuple[Rule, ...] = (
    Rule.IMAGE_DIGEST,
    Rule.CORS_NO_WILDCARD,
    Rule.CORS_CREDENTIALS,
    Rule.NO_TRACEBACKS,
    Rule.LOG_LEVEL,
    Rule.DURABLE_MODE,
    Rule.PIPELINES_READ_ONLY,
    Rule.STATUS_PROBES,
    Rule.MEMORY_LIMIT,
    Rule.RESTRICTED_SECURITY,
    Rule.SERVICE_LINKS,
)
# A Docker container carries no profile, and the development profile deliberately relaxes the
# production-only rules (tracebacks, DEBUG logs, a tag without digest, no memory limit, writable
# pipelines). What holds in every profile is checked: no credentials with any origin, a health
# check on /status, and the container hardening the component always applies.
DOCKER_RULES: tuple[Rule, ...] = (Rule.CORS_CREDENTIALS, Rule.STATUS_PROBES, Rule.RESTRICTED_SECURITY)
STACK_RULES: tuple[Rule, ...] = (Rule.EDGE_AUTH, Rule.NO_UPLOAD_ROUTES)
RESOURCE_RULES: tuple[Rule, ...] = WORKLOAD_RULES

DOCKER_CONTAINER_TYPE = "docker:index/container:Container"

ORIGINS_ENV = "HAYHOOKS_CORS_ALLOW_ORIGINS"
METHODS_ENV = "HAYHOOKS_CORS_ALLOW_METHODS"
ORIGIN_REGEX_ENV = "HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX"
CREDENTIALS_ENV = "HAYHOOKS_CORS_ALLOW_CREDENTIALS"
TRACEBACKS_ENV = "HAYHOOKS_SHOW_TRACEBACKS"
LOG_LEVEL_ENV = "HAYHOOKS_LOG_LEVEL"
LEGACY_LOG_ENV = "LOG"
DURABLE_ENV = "HAYHOOKS_DURABLE_MODE"
PIPELINES_DIR_ENV = "HAYHOOKS_PIPELINES_DIR"
# Every integer port setting the kubelet's link variables (<SERVICE>_PORT=tcp://...) can hit.
PORT_ENVS = ("HAYHOOKS_PORT", "HAYHOOKS_MCP_PORT", "HAYHOOKS_A2A_PORT")

_NOISY_LEVELS = {"DEBUG", "TRACE"}
# pydantic's boolean strings, which the server's settings parse.
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}\Z")
_PIPELINES_FLAGS = ("--pipelines-dir", "-d")
_ROOT_USERS = {"0", "root"}
_SECCOMP_TYPES = {"RuntimeDefault", "Localhost"}
_ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}
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
_EXPOSING_SERVICE_TYPES = {"LoadBalancer", "NodePort"}
_GATEWAY_GROUP = "gateway.networking.k8s.io"
_TRAEFIK_GROUPS = {"traefik.io", "traefik.containo.us"}
_TRAEFIK_AUTH = ("basicAuth", "digestAuth", "forwardAuth")
_TRAEFIK_CRD_PROVIDER = "@kubernetescrd"
_ENVOY_GROUP = "gateway.envoyproxy.io"
_ENVOY_AUTH = ("apiKeyAuth", "basicAuth", "jwt", "oidc", "extAuth")
_INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
# A path under an upload route, as in /undeploy/<name>.
_UPLOAD_CHILD = "pipeline"


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it: its type token, its camelCase inputs, and for reports its name."""

    type: str
    props: Mapping[str, Any]
    name: str = ""
    urn: str | None = None


@dataclass(frozen=True)
class Violation:
    rule: Rule
    subject: str
    message: str
    urn: str | None = None

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.message}"


@dataclass(frozen=True)
class EdgeConfig:
    """What the stack rules cannot see in the stack itself (policy config of `hayhooks-edge-auth`)."""

    trusted_middlewares: frozenset[str] = field(default_factory=frozenset)
    """Traefik middleware references, as written in the router.middlewares annotation (e.g.
    `auth@file`, `sso-oauth@kubernetescrd`), that authenticate but are defined outside the stack."""
    trusted_gateways: frozenset[str] = field(default_factory=frozenset)
    """Gateways (`namespace/name`) whose every route is authenticated by a policy outside the stack."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> EdgeConfig:
        config = config or {}
        return cls(
            trusted_middlewares=frozenset(_strings(config.get("trustedMiddlewares"))),
            trusted_gateways=frozenset(_strings(config.get("trustedGateways"))),
        )


# ----- plain-data helpers (Mapping/Sequence only, so the policy engine's proxies work too) -----


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else ()


def _strings(value: Any) -> list[str]:
    return [item for item in _seq(value) if isinstance(item, str)]


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = _mapping(value).get(key)
    return value


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


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
        return _mapping(self.body.get("metadata"))

    @property
    def name(self) -> str:
        return str(self.metadata.get("name") or "")

    @property
    def namespace(self) -> str | None:
        namespace = self.metadata.get("namespace")
        return namespace if isinstance(namespace, str) and namespace else None

    @property
    def labels(self) -> Mapping[str, Any]:
        return _mapping(self.metadata.get("labels"))

    @property
    def annotations(self) -> Mapping[str, Any]:
        return _mapping(self.metadata.get("annotations"))

    @property
    def spec(self) -> Mapping[str, Any]:
        return _mapping(self.body.get("spec"))

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


def _same_namespace(a: str | None, b: str | None) -> bool:
    """An object without a namespace lands in the provider's default one, which may be the other's."""
    return a is None or b is None or a == b


def pod_template(obj: KubeObject) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """(pod labels, pod spec) of a workload, or None for other kinds."""
    if obj.kind == "Pod" and obj.group == "":
        return obj.labels, obj.spec
    path = _POD_TEMPLATE.get(obj.kind)
    if path is None:
        return None
    template = _dig(obj.body, *path)
    return _mapping(_dig(template, "metadata", "labels")), _mapping(_dig(template, "spec"))


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


# ----- the server's environment -----


@dataclass(frozen=True)
class ServerEnv:
    """A container's environment as far as a review can see it."""

    literals: Mapping[str, str]
    references: frozenset[str] = frozenset()
    """Names whose value comes from a Secret, ConfigMap or field reference."""
    env_from: bool = False
    """Whole Secrets or ConfigMaps are imported too (envFrom): any name may also be set there."""

    @classmethod
    def from_kubernetes(cls, container: Mapping[str, Any]) -> ServerEnv:
        literals: dict[str, str] = {}
        references: set[str] = set()
        for entry in _seq(container.get("env")):
            name = _mapping(entry).get("name")
            if not isinstance(name, str):
                continue
            # A later entry of the same name wins, as in the kubelet.
            literals.pop(name, None)
            references.discard(name)
            if _mapping(entry).get("valueFrom") is not None:
                references.add(name)
            else:
                value = _mapping(entry).get("value")
                literals[name] = "" if value is None else str(value)
        return cls(literals, frozenset(references), bool(_seq(container.get("envFrom"))))

    @classmethod
    def from_docker(cls, envs: Sequence[Any]) -> ServerEnv:
        literals: dict[str, str] = {}
        for entry in envs:
            if isinstance(entry, str) and "=" in entry:
                name, value = entry.split("=", 1)
                literals[name] = value
        return cls(literals)

    def is_set(self, name: str) -> bool:
        return name in self.literals or name in self.references

    def unreviewable(self, name: str) -> str:
        return (
            f"{name} comes from a Secret/ConfigMap reference, so neither a review nor this policy can see it; "
            "set it as a literal value"
        )


def _json_list(env: ServerEnv, name: str) -> tuple[list[str] | None, str | None]:
    """(the list, None) or (None, why it cannot be checked)."""
    if name in env.references:
        return None, env.unreviewable(name)
    if name not in env.literals:
        hint = " (an envFrom source cannot be reviewed)" if env.env_from else ""
        return (
            None,
            f'{name} is not set, and the server\'s default is ["*"]{hint}; set it, e.g. {name}=\'["https://app.example.com"]\'',
        )
    text = env.literals[name]
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return (
            None,
            f"{name}={text!r} is not a JSON array of strings (the server exits at start); "
            'write e.g. \'["GET", "POST"]\'',
        )
    return value, None


def _any_origin(env: ServerEnv) -> tuple[bool, str | None]:
    """(whether any origin may call, the reason): unset origins, '*', or a regex a stranger's origin matches."""
    origins, problem = _json_list(env, ORIGINS_ENV)
    if origins is None:
        return True, problem
    if WILDCARD in origins:
        return True, f"{ORIGINS_ENV} allows '*'"
    if ORIGIN_REGEX_ENV in env.references:
        return True, env.unreviewable(ORIGIN_REGEX_ENV)
    regex = env.literals.get(ORIGIN_REGEX_ENV)
    if regex is not None:
        try:
            if matches_any_origin(regex):
                return True, f"{ORIGIN_REGEX_ENV}={regex!r} matches any origin"
        except re.error:
            return True, f"{ORIGIN_REGEX_ENV}={regex!r} is not a valid regular expression"
    return False, None


def _check_cors_wildcard(env: ServerEnv) -> list[str]:
    problems = []
    for name in (ORIGINS_ENV, METHODS_ENV):
        values, problem = _json_list(env, name)
        if problem:
            problems.append(problem)
        elif values is not None and WILDCARD in values:
            problems.append(f"{name} allows '*': list what is allowed instead")
    if not problems:
        wildcard, reason = _any_origin(env)
        if wildcard and reason:
            problems.append(f"{reason}: anchor it to your domain, e.g. https://[a-z0-9-]+\\.example\\.com")
    return problems


def _check_cors_credentials(env: ServerEnv) -> list[str]:
    if CREDENTIALS_ENV in env.references:
        wildcard, reason = _any_origin(env)
        return [f"{env.unreviewable(CREDENTIALS_ENV)} ({reason})"] if wildcard else []
    if not _truthy(env.literals.get(CREDENTIALS_ENV)):
        return []
    wildcard, reason = _any_origin(env)
    if not wildcard:
        return []
    return [
        f"{CREDENTIALS_ENV} is true while any origin is allowed ({reason}): any site could call the API with "
        "the user's cookies; list the origins or turn credentials off"
    ]


def _check_tracebacks(env: ServerEnv) -> list[str]:
    if TRACEBACKS_ENV in env.references:
        return [env.unreviewable(TRACEBACKS_ENV)]
    if _truthy(env.literals.get(TRACEBACKS_ENV)):
        return [f"{TRACEBACKS_ENV}={env.literals[TRACEBACKS_ENV]!r}: tracebacks leak code and data; set it to false"]
    return []


def _check_log_level(env: ServerEnv) -> list[str]:
    # The server reads HAYHOOKS_LOG_LEVEL, and LOG when that is unset or empty.
    for name in (LOG_LEVEL_ENV, LEGACY_LOG_ENV):
        if name in env.references:
            return [env.unreviewable(name)]
        value = env.literals.get(name)
        if value:
            if value.strip().upper() in _NOISY_LEVELS:
                return [f"{name}={value!r} logs request payloads; use INFO or higher"]
            return []
    return []


def _check_durable(env: ServerEnv) -> list[str]:
    if DURABLE_ENV in env.references:
        return [env.unreviewable(DURABLE_ENV)]
    if _truthy(env.literals.get(DURABLE_ENV)):
        return []
    value = env.literals.get(DURABLE_ENV)
    state = "is not set (the server's default is false)" if value is None else f"is {value!r}"
    return [
        f"{DURABLE_ENV} {state}: without durable mode the server rewrites YAML pipelines in its pipelines dir and "
        f"serves the code-upload routes ({', '.join(UPLOAD_PATHS)}); set it to true"
    ]


def _flag_value(tokens: Sequence[Any], flags: Sequence[str]) -> str | None:
    """The value of the last `--flag value` or `--flag=value` among the tokens."""
    found = None
    items = [t for t in tokens if isinstance(t, str)]
    for index, token in enumerate(items):
        for flag in flags:
            if token == flag and index + 1 < len(items):
                found = items[index + 1]
            elif token.startswith(f"{flag}="):
                found = token.split("=", 1)[1]
    return found


def _pipelines_dir(env: ServerEnv, tokens: Sequence[Any]) -> tuple[str | None, str | None]:
    flag = _flag_value(tokens, _PIPELINES_FLAGS)
    if flag:
        return posixpath.normpath(flag), None
    if PIPELINES_DIR_ENV in env.references:
        return None, env.unreviewable(PIPELINES_DIR_ENV)
    value = env.literals.get(PIPELINES_DIR_ENV)
    if not value:
        return None, (
            f"{PIPELINES_DIR_ENV} is not set, so the server loads pipelines from ./pipelines of its working "
            "directory; set it to the read-only mount"
        )
    return posixpath.normpath(value), None


def _covers(mount_path: str, path: str) -> bool:
    mount_path = posixpath.normpath(mount_path)
    return path == mount_path or mount_path == "/" or path.startswith(mount_path.rstrip("/") + "/")


# ----- one Hayhooks container of a Kubernetes workload -----


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
        return _mapping(self.container.get("securityContext"))

    @property
    def pod_security(self) -> Mapping[str, Any]:
        return _mapping(self.pod_spec.get("securityContext"))

    def effective(self, key: str) -> Any:
        """A container security setting, else the pod's."""
        value = self.security.get(key)
        return self.pod_security.get(key) if value is None else value

    @property
    def tokens(self) -> list[Any]:
        return [*_seq(self.container.get("command")), *_seq(self.container.get("args"))]


def hayhooks_containers(obj: KubeObject) -> Iterator[PodContainer]:
    template = pod_template(obj)
    if template is None:
        return
    _, spec = template
    for key in ("initContainers", "containers"):
        for container in _seq(spec.get(key)):
            container = _mapping(container)
            command, args = _seq(container.get("command")), _seq(container.get("args"))
            if runs_hayhooks(command, args, lambda c=container: c.get("image")):
                yield PodContainer(obj, spec, container, ServerEnv.from_kubernetes(container))


def _k8s_image_digest(c: PodContainer) -> list[str]:
    image = c.container.get("image")
    if isinstance(image, str) and _DIGEST.search(image):
        return []
    return [
        f"image {image!r} is not pinned by digest; write <repository>:<tag>@sha256:<digest> "
        "(`docker buildx imagetools inspect <repository>:<tag>` prints it)"
    ]


def _k8s_pipelines_read_only(c: PodContainer) -> list[str]:
    path, problem = _pipelines_dir(c.env, c.tokens)
    if path is None:
        return [problem] if problem else []
    mounts = [
        _mapping(m)
        for m in _seq(c.container.get("volumeMounts"))
        if isinstance(_mapping(m).get("mountPath"), str) and _covers(_mapping(m)["mountPath"], path)
    ]
    if mounts:
        mount = max(mounts, key=lambda m: len(posixpath.normpath(m["mountPath"])))
        if mount.get("readOnly") is True:
            return []
        return [f"volume {mount.get('name')!r} holding the pipelines dir {path} is mounted without readOnly: true"]
    if c.security.get("readOnlyRootFilesystem") is True:
        return []
    return [f"the pipelines dir {path} is neither a read-only mount nor on a read-only root filesystem"]


def _probe_asks_status(probe: Mapping[str, Any]) -> bool:
    path = _dig(probe, "httpGet", "path")
    if isinstance(path, str):
        return _is_status_path(path)
    command = _strings(_dig(probe, "exec", "command"))
    return any(STATUS_PATH in part for part in command)


def _is_status_path(path: str) -> bool:
    return path == STATUS_PATH or path.startswith(f"{STATUS_PATH}/")


def _k8s_status_probes(c: PodContainer) -> list[str]:
    problems = []
    readiness = c.container.get("readinessProbe")
    if readiness is None:
        problems.append(f"no readinessProbe: add one on {STATUS_PATH} (or {STATUS_PATH}/<pipeline>)")
    elif not _probe_asks_status(_mapping(readiness)):
        problems.append(f"the readinessProbe does not ask {STATUS_PATH} (or {STATUS_PATH}/<pipeline>)")
    if c.container.get("livenessProbe") is None:
        problems.append("no livenessProbe")
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        path = _dig(c.container.get(kind), "httpGet", "path")
        if isinstance(path, str) and not _is_status_path(path):
            problems.append(f"the {kind} asks {path!r}, which the server does not answer with 200; ask {STATUS_PATH}")
    return problems


def _k8s_memory_limit(c: PodContainer) -> list[str]:
    if _dig(c.container, "resources", "limits", "memory"):
        return []
    return ["no resources.limits.memory: a pod without one can starve its node"]


def _capability_problems(drop: Sequence[Any], add: Sequence[Any], where: str) -> list[str]:
    problems = []
    if "ALL" not in _strings(drop):
        problems.append(f"{where} does not drop ALL capabilities")
    extra = sorted(set(_strings(add)) - _ALLOWED_CAPABILITIES)
    if extra:
        problems.append(f"{where} adds capabilities {', '.join(extra)}")
    return problems


def _k8s_restricted_security(c: PodContainer) -> list[str]:
    problems = []
    if c.security.get("privileged") is True:
        problems.append("securityContext.privileged is true")
    if c.security.get("allowPrivilegeEscalation") is not False:
        problems.append("securityContext.allowPrivilegeEscalation is not false")
    if c.effective("runAsNonRoot") is not True:
        problems.append("runAsNonRoot is not true (the official image runs as root)")
    user = c.effective("runAsUser")
    if user is not None and str(user) in _ROOT_USERS:
        problems.append("runAsUser is 0 (root)")
    seccomp = _mapping(c.effective("seccompProfile")).get("type")
    if seccomp not in _SECCOMP_TYPES:
        problems.append(f"seccompProfile.type is {seccomp!r}, not RuntimeDefault or Localhost")
    capabilities = _mapping(c.security.get("capabilities"))
    problems += _capability_problems(capabilities.get("drop"), capabilities.get("add"), "securityContext.capabilities")
    if c.security.get("readOnlyRootFilesystem") is not True:
        problems.append("securityContext.readOnlyRootFilesystem is not true (mount /tmp and HOME as emptyDir)")
    problems += [f"the pod sets {key}: true" for key in _HOST_NAMESPACES if c.pod_spec.get(key) is True]
    for volume in _seq(c.pod_spec.get("volumes")):
        kinds = set(_mapping(volume)) - {"name"}
        if kinds and not kinds & _RESTRICTED_VOLUMES:
            problems.append(f"volume {_mapping(volume).get('name')!r} is of type {', '.join(sorted(kinds))}")
    return problems


def _k8s_service_links(c: PodContainer) -> list[str]:
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


_WORKLOAD_CHECKS: Mapping[Rule, Callable[[PodContainer], list[str]]] = {
    Rule.IMAGE_DIGEST: _k8s_image_digest,
    Rule.CORS_NO_WILDCARD: lambda c: _check_cors_wildcard(c.env),
    Rule.CORS_CREDENTIALS: lambda c: _check_cors_credentials(c.env),
    Rule.NO_TRACEBACKS: lambda c: _check_tracebacks(c.env),
    Rule.LOG_LEVEL: lambda c: _check_log_level(c.env),
    Rule.DURABLE_MODE: lambda c: _check_durable(c.env),
    Rule.PIPELINES_READ_ONLY: _k8s_pipelines_read_only,
    Rule.STATUS_PROBES: _k8s_status_probes,
    Rule.MEMORY_LIMIT: _k8s_memory_limit,
    Rule.RESTRICTED_SECURITY: _k8s_restricted_security,
    Rule.SERVICE_LINKS: _k8s_service_links,
}


# ----- a Docker container -----


@dataclass(frozen=True)
class DockerContainer:
    props: Mapping[str, Any]
    env: ServerEnv
    subject: str


def _docker_status_probes(c: DockerContainer) -> list[str]:
    tests = _strings(_dig(c.props, "healthcheck", "tests"))
    if not tests or tests[0] == "NONE":
        return [f"no health check: add one that asks {STATUS_PATH} (with the image's Python: it has no curl)"]
    if not any(STATUS_PATH in part for part in tests):
        return [f"the health check does not ask {STATUS_PATH}"]
    return []


def _docker_restricted_security(c: DockerContainer) -> list[str]:
    props = c.props
    problems = []
    if props.get("privileged") is True:
        problems.append("privileged is true")
    user = props.get("user")
    if not isinstance(user, str) or not user or user.split(":")[0] in _ROOT_USERS:
        problems.append(f"user is {user!r}: run as a non-root uid:gid (the official image runs as root)")
    options = _strings(props.get("securityOpts"))
    if not {"no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"} & set(options):
        problems.append("securityOpts lacks no-new-privileges:true")
    capabilities = _mapping(props.get("capabilities"))
    problems += _capability_problems(capabilities.get("drops"), capabilities.get("adds"), "capabilities")
    if props.get("readOnly") is not True:
        problems.append("readOnly (root filesystem) is not true (give /tmp and HOME a tmpfs)")
    problems += [f"{key} is host" for key in ("networkMode", "pidMode", "ipcMode") if props.get(key) == "host"]
    return problems


_DOCKER_CHECKS: Mapping[Rule, Callable[[DockerContainer], list[str]]] = {
    Rule.CORS_CREDENTIALS: lambda c: _check_cors_credentials(c.env),
    Rule.STATUS_PROBES: _docker_status_probes,
    Rule.RESTRICTED_SECURITY: _docker_restricted_security,
}


def docker_container(resource: Resource) -> DockerContainer | None:
    if resource.type != DOCKER_CONTAINER_TYPE:
        return None
    props = resource.props
    if not runs_hayhooks(_seq(props.get("command")), ()):
        return None
    name = props.get("name") or resource.name or "(unnamed)"
    return DockerContainer(props, ServerEnv.from_docker(_seq(props.get("envs"))), f"docker container {name}")


def resource_violations(resource: Resource, rules: Collection[Rule] = RESOURCE_RULES) -> list[Violation]:
    """What one resource breaks of the given rules; empty for anything that does not run Hayhooks."""
    violations = []
    container = docker_container(resource)
    if container is not None:
        for rule in rules:
            check = _DOCKER_CHECKS.get(rule)
            if check is not None:
                violations += [Violation(rule, container.subject, m, resource.urn) for m in check(container)]
        return violations
    obj = kubernetes_object(resource)
    if obj is None:
        return []
    for pod_container in hayhooks_containers(obj):
        for rule in rules:
            check = _WORKLOAD_CHECKS.get(rule)
            if check is not None:
                violations += [Violation(rule, pod_container.subject, m, resource.urn) for m in check(pod_container)]
    return violations


def hayhooks_subjects(resources: Iterable[Resource]) -> list[str]:
    """What the workload rules look at: each Docker container and Kubernetes workload running Hayhooks."""
    subjects = []
    for resource in resources:
        container = docker_container(resource)
        obj = kubernetes_object(resource) if container is None else None
        if container is not None:
            subjects.append(container.subject)
        elif obj is not None and any(True for _ in hayhooks_containers(obj)):
            subjects.append(obj.subject)
    return subjects


# ----- the edge: what routes to Hayhooks, and whether it authenticates and keeps the upload paths out -----


@dataclass(frozen=True)
class Stack:
    """The Kubernetes objects of a stack, indexed for the edge rules."""

    objects: list[KubeObject]
    config: EdgeConfig

    def of_kind(self, kind: str, groups: Collection[str] | None = None) -> Iterator[KubeObject]:
        for obj in self.objects:
            if obj.kind == kind and (groups is None or obj.group in groups):
                yield obj

    def hayhooks_pods(self) -> list[tuple[str | None, Mapping[str, Any]]]:
        """(namespace, pod labels) of every workload with a Hayhooks container."""
        pods = []
        for obj in self.objects:
            template = pod_template(obj)
            if template is not None and any(True for _ in hayhooks_containers(obj)):
                pods.append((obj.namespace, template[0]))
        return pods

    def hayhooks_services(self) -> list[KubeObject]:
        """Services whose selector picks the pods of a Hayhooks workload."""
        pods = self.hayhooks_pods()
        services = []
        for service in self.of_kind("Service", {""}):
            selector = _mapping(service.spec.get("selector"))
            if selector and any(
                _same_namespace(service.namespace, namespace) and all(labels.get(k) == v for k, v in selector.items())
                for namespace, labels in pods
            ):
                services.append(service)
        return services

    def middleware(self, namespace: str | None, name: str) -> KubeObject | None:
        for middleware in self.of_kind("Middleware", _TRAEFIK_GROUPS):
            if middleware.name == name and _same_namespace(middleware.namespace, namespace):
                return middleware
        return None


def _points_at(services: list[KubeObject], namespace: str | None, name: Any) -> bool:
    return any(s.name == name and _same_namespace(s.namespace, namespace) for s in services)


def _middleware_authenticates(stack: Stack, middleware: KubeObject, seen: frozenset[str] = frozenset()) -> bool:
    spec = middleware.spec
    if any(spec.get(key) is not None for key in _TRAEFIK_AUTH):
        return True
    key = f"{middleware.namespace}/{middleware.name}"
    for link in _seq(_dig(spec, "chain", "middlewares")):
        link = _mapping(link)
        namespace = link.get("namespace") or middleware.namespace
        target = stack.middleware(namespace, str(link.get("name") or ""))
        if target is not None and key not in seen and _middleware_authenticates(stack, target, seen | {key}):
            return True
    return False


def _traefik_reference_authenticates(stack: Stack, reference: str) -> bool:
    if reference in stack.config.trusted_middlewares:
        return True
    if not reference.endswith(_TRAEFIK_CRD_PROVIDER):
        return False
    key = reference[: -len(_TRAEFIK_CRD_PROVIDER)]
    return any(
        f"{m.namespace}-{m.name}" == key and _middleware_authenticates(stack, m)
        for m in stack.of_kind("Middleware", _TRAEFIK_GROUPS)
    )


def _ingress_controller(ingress: KubeObject) -> str:
    name = ingress.spec.get("ingressClassName") or ingress.annotations.get(_INGRESS_CLASS_ANNOTATION) or ""
    name = str(name).lower()
    return "traefik" if "traefik" in name else "nginx" if "nginx" in name else ""


def _nginx_satisfies_any(ingress: KubeObject) -> bool:
    """`satisfy: any` lets a request through that passes either check: with `whitelist-source-range` covering the
    client (e.g. 0.0.0.0/0), no credentials are asked at all."""
    return str(ingress.annotations.get(f"{NGINX_PREFIX}/satisfy") or "").strip().lower() == "any"


def _nginx_authenticates(ingress: KubeObject) -> bool:
    def annotation(key: str) -> str:
        return str(ingress.annotations.get(f"{NGINX_PREFIX}/{key}") or "").strip()

    if _nginx_satisfies_any(ingress):
        return False
    if annotation("auth-url"):
        return True
    if annotation("auth-type") in ("basic", "digest") and annotation("auth-secret"):
        return True
    return annotation("auth-tls-verify-client") == "on" and bool(annotation("auth-tls-secret"))


def _traefik_authenticates(stack: Stack, ingress: KubeObject) -> bool:
    value = str(ingress.annotations.get(TRAEFIK_MIDDLEWARES) or "")
    references = [part.strip() for part in value.split(",") if part.strip()]
    return any(_traefik_reference_authenticates(stack, ref) for ref in references)


def _ingress_authenticates(stack: Stack, ingress: KubeObject) -> bool:
    """Only the controller that serves the Ingress reads its annotations; an unknown class may be either."""
    controller = _ingress_controller(ingress)
    if controller == "nginx":
        return _nginx_authenticates(ingress)
    if controller == "traefik":
        return _traefik_authenticates(stack, ingress)
    return _nginx_authenticates(ingress) or _traefik_authenticates(stack, ingress)


def _upload_paths_routed(routes: Callable[[str], bool], literal: str | None) -> list[str]:
    """The upload paths a match takes: one that takes the path or a path under it (/undeploy/<name>),
    or whose literal path lies under it."""
    return [
        path
        for path in UPLOAD_PATHS
        if routes(path)
        or routes(f"{path}/{_UPLOAD_CHILD}")
        or (literal is not None and (literal == path or literal.startswith(f"{path}/")))
    ]


def _element_prefix(prefix: str, path: str) -> bool:
    """Kubernetes `Prefix` and Gateway `PathPrefix`: matched element by element, so /deploy is not /deploy_files."""
    prefix = prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(f"{prefix}/")


def _regex_routes(pattern: str, path: str, search: bool) -> bool:
    try:
        found = re.search(pattern, path, re.IGNORECASE) if search else re.fullmatch(pattern, path)
    except re.error:
        return True  # cannot be checked: count it as routed
    return found is not None


def _ingress_path_uploads(path: str, path_type: str, regex: bool) -> list[str]:
    if path_type == "Exact":
        return _upload_paths_routed(lambda sample: sample == path, path)
    if regex:
        # ingress-nginx's use-regex: a case-insensitive regex location, matched anywhere in the path.
        return _upload_paths_routed(lambda sample: _regex_routes(path, sample, search=True), None)
    if path_type == "Prefix":
        return _upload_paths_routed(lambda sample: _element_prefix(path, sample), path)
    # ImplementationSpecific: a plain string prefix for nginx and Traefik.
    return _upload_paths_routed(lambda sample: sample.startswith(path), path)


def _ingress_routes(ingress: KubeObject, services: list[KubeObject]) -> list[tuple[str, str]]:
    """(path, pathType) of every path whose backend is a Hayhooks Service; the default backend is ('/', Prefix)."""
    routes = []
    default = _dig(ingress.spec, "defaultBackend", "service", "name")
    if default is not None and _points_at(services, ingress.namespace, default):
        routes.append(("/", "Prefix"))
    for rule in _seq(ingress.spec.get("rules")):
        for path in _seq(_dig(rule, "http", "paths")):
            name = _dig(path, "backend", "service", "name")
            if _points_at(services, ingress.namespace, name):
                path = _mapping(path)
                routes.append((str(path.get("path") or "/"), str(path.get("pathType") or "ImplementationSpecific")))
    return routes


def _ingress_violations(stack: Stack, services: list[KubeObject], rules: Collection[Rule]) -> list[Violation]:
    violations = []
    for ingress in stack.of_kind("Ingress", {"networking.k8s.io", "extensions"}):
        routes = _ingress_routes(ingress, services)
        if not routes:
            continue
        if Rule.EDGE_AUTH in rules and not _ingress_authenticates(stack, ingress):
            message = (
                "routes to Hayhooks without authentication: add nginx auth annotations (auth-type + "
                "auth-secret, or auth-url) or a Traefik basicAuth/forwardAuth middleware "
                f"({TRAEFIK_MIDDLEWARES}), for the controller that serves it"
            )
            if _nginx_satisfies_any(ingress) and _ingress_controller(ingress) != "traefik":
                message = (
                    f"routes to Hayhooks with {NGINX_PREFIX}/satisfy: any, which lets a request through that "
                    "passes either authentication or the address check (whitelist-source-range): remove it"
                )
            violations.append(Violation(Rule.EDGE_AUTH, ingress.subject, message, ingress.urn))
        if Rule.NO_UPLOAD_ROUTES in rules:
            regex = str(ingress.annotations.get(f"{NGINX_PREFIX}/use-regex") or "").lower() == "true"
            for path, path_type in routes:
                hits = _ingress_path_uploads(path, path_type, regex)
                if hits:
                    violations.append(
                        Violation(
                            Rule.NO_UPLOAD_ROUTES,
                            ingress.subject,
                            f"path {path!r} ({path_type}) routes {', '.join(hits)} to Hayhooks: route only the "
                            "client paths, each Exact (e.g. /<pipeline>/run, /v1/chat/completions, /status)",
                            ingress.urn,
                        )
                    )
    return violations


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    if not all(labels.get(k) == v for k, v in _mapping(selector.get("matchLabels")).items()):
        return False
    for expression in _seq(selector.get("matchExpressions")):
        expression = _mapping(expression)
        key, operator, values = expression.get("key"), expression.get("operator"), _strings(expression.get("values"))
        present = key in labels
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and labels.get(key) in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


def _security_policy_authenticates(policy: KubeObject) -> bool:
    spec = policy.spec
    for key in _ENVOY_AUTH:
        method = spec.get(key)
        if method is None:
            continue
        # An optional JWT lets requests without a token through; fail-open lets them through when auth is down.
        if key == "jwt" and (_mapping(method).get("optional") is True or _mapping(method).get("failOpen") is True):
            continue
        if key == "extAuth" and _mapping(method).get("failOpen") is True:
            continue
        return True
    return False


def _policy_targets(policy: KubeObject) -> list[Mapping[str, Any]]:
    spec = policy.spec
    return [_mapping(t) for t in (*_seq(spec.get("targetRefs")), spec.get("targetRef")) if t is not None]


def _route_gateways(route: KubeObject) -> list[tuple[str | None, str]]:
    gateways = []
    for parent in _seq(route.spec.get("parentRefs")):
        parent = _mapping(parent)
        if parent.get("kind", "Gateway") == "Gateway" and parent.get("group", _GATEWAY_GROUP) == _GATEWAY_GROUP:
            gateways.append((parent.get("namespace") or route.namespace, str(parent.get("name") or "")))
    return gateways


def _rule_covered(stack: Stack, route: KubeObject, rule: Mapping[str, Any]) -> bool:
    """Whether requests matched by this HTTPRoute rule must authenticate first."""
    section = rule.get("name")
    for policy in stack.of_kind("SecurityPolicy", {_ENVOY_GROUP}):
        if not _security_policy_authenticates(policy):
            continue
        # A policy targets objects of its own namespace: the route's, or the Gateway's for all its routes.
        local = _same_namespace(policy.namespace, route.namespace)
        for target in _policy_targets(policy):
            kind, name = target.get("kind"), target.get("name")
            if target.get("group", _GATEWAY_GROUP) != _GATEWAY_GROUP:
                continue
            if kind == "HTTPRoute" and local and name == route.name and target.get("sectionName") in (None, section):
                return True
            if kind == "Gateway" and any(
                gw_name == name and _same_namespace(gw_ns, policy.namespace)
                for gw_ns, gw_name in _route_gateways(route)
            ):
                return True
        for selector in _seq(policy.spec.get("targetSelectors")):
            selector = _mapping(selector)
            if local and selector.get("kind") == "HTTPRoute" and _selector_matches(selector, route.labels):
                return True
    if any(f"{ns}/{name}" in stack.config.trusted_gateways for ns, name in _route_gateways(route)):
        return True
    # Traefik serves HTTPRoutes too, with its middlewares as ExtensionRef filters.
    for rule_filter in _seq(rule.get("filters")):
        ref = _mapping(_mapping(rule_filter).get("extensionRef"))
        if ref.get("kind") == "Middleware" and ref.get("group") in _TRAEFIK_GROUPS:
            middleware = stack.middleware(route.namespace, str(ref.get("name") or ""))
            if middleware is not None and _middleware_authenticates(stack, middleware):
                return True
    return False


def _route_match_uploads(match: Mapping[str, Any]) -> list[str]:
    """A match without a path takes every path (PathPrefix /)."""
    path = _mapping(match.get("path"))
    kind, value = path.get("type", "PathPrefix"), str(path.get("value") or "/")
    if kind == "Exact":
        return _upload_paths_routed(lambda sample: sample == value, value)
    if kind == "RegularExpression":
        return _upload_paths_routed(lambda sample: _regex_routes(value, sample, search=False), None)
    return _upload_paths_routed(lambda sample: _element_prefix(value, sample), value)


def _route_violations(stack: Stack, services: list[KubeObject], rules: Collection[Rule]) -> list[Violation]:
    violations = []
    for route in stack.of_kind("HTTPRoute", {_GATEWAY_GROUP}):
        for index, rule in enumerate(_mapping(r) for r in _seq(route.spec.get("rules"))):
            if not any(
                _mapping(ref).get("kind", "Service") == "Service"
                and _mapping(ref).get("group", "") == ""
                and _points_at(services, _mapping(ref).get("namespace") or route.namespace, _mapping(ref).get("name"))
                for ref in _seq(rule.get("backendRefs"))
            ):
                continue
            label = f"rule {rule.get('name') or index}"
            if Rule.EDGE_AUTH in rules and not _rule_covered(stack, route, rule):
                violations.append(
                    Violation(
                        Rule.EDGE_AUTH,
                        route.subject,
                        f"{label} routes to Hayhooks without authentication: target the route with an Envoy "
                        "Gateway SecurityPolicy (apiKeyAuth, basicAuth, jwt, oidc or extAuth) or add an "
                        "authenticating Traefik middleware as an ExtensionRef filter",
                        route.urn,
                    )
                )
            if Rule.NO_UPLOAD_ROUTES in rules:
                matches = [_mapping(m) for m in _seq(rule.get("matches"))] or [{}]
                routed = {path for match in matches for path in _route_match_uploads(match)}
                hits = [path for path in UPLOAD_PATHS if path in routed]
                if hits:
                    violations.append(
                        Violation(
                            Rule.NO_UPLOAD_ROUTES,
                            route.subject,
                            f"{label} routes {', '.join(hits)} to Hayhooks: match only the client paths, each "
                            "Exact (a rule without matches routes every path)",
                            route.urn,
                        )
                    )
    return violations


def _service_violations(services: list[KubeObject]) -> list[Violation]:
    return [
        Violation(
            Rule.EDGE_AUTH,
            service.subject,
            f"type {service.spec.get('type')} exposes Hayhooks without authentication; use ClusterIP behind an "
            "authenticating Ingress or HTTPRoute",
            service.urn,
        )
        for service in services
        if service.spec.get("type") in _EXPOSING_SERVICE_TYPES
    ]


def stack_violations(
    resources: Iterable[Resource], config: EdgeConfig | None = None, rules: Collection[Rule] = STACK_RULES
) -> list[Violation]:
    """What routes to Hayhooks without authentication, or routes its code-upload paths."""
    objects = [obj for obj in (kubernetes_object(r) for r in resources) if obj is not None]
    stack = Stack(objects, config or EdgeConfig())
    services = stack.hayhooks_services()
    if not services:
        return []
    violations = _service_violations(services) if Rule.EDGE_AUTH in rules else []
    return violations + _ingress_violations(stack, services, rules) + _route_violations(stack, services, rules)
