"""The pods: what they may use, how they are probed, stopped and rolled out, where they are scheduled, what they
run as, their cache, and how many run (replicas, the autoscaler, the disruption budget)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ...model import ConfigModel
from ...quantity import parse_quantity
from ...scratch import Size
from ...server.env import UserEnvName
from ...types import Annotations, Labels, ObjectName, QualifiedName, Unit, absolute, is_label_value, unique_items


class ResourcesArgs(ConfigModel):
    """Requests and limits of the server container."""

    cpu_request: str = "250m"
    """CPU the scheduler reserves."""
    memory_request: str = "512Mi"
    """Memory the scheduler reserves."""
    memory_limit: str | None = "2Gi"
    """Memory limit (the OOM boundary). Required in production."""
    cpu_limit: str | None = None
    """CPU limit; unset by default (throttling hurts latency), set it where quotas require it."""

    @field_validator("cpu_request", "memory_request", "memory_limit", "cpu_limit")
    @classmethod
    def _quantity(cls, value: str | None) -> str | None:
        if value is not None:
            parse_quantity(value)
        return value

    @field_validator("memory_limit", "cpu_limit")
    @classmethod
    def _limit_covers_request(cls, value: str | None, info: ValidationInfo) -> str | None:
        request = info.data.get(str(info.field_name).replace("limit", "request"))
        if value is not None and request is not None and parse_quantity(value) < parse_quantity(request):
            raise ValueError(f"limit {value} is below the request {request}")
        return value


class ProbesArgs(ConfigModel):
    """Health checks. Start-up is probed on `/status`, readiness on `/status/<pipeline>`, liveness on the TCP port."""

    startup_budget_seconds: Annotated[int, Field(ge=10, le=3600), Unit.SECONDS] = 180
    """Seconds the slowest start-up (loading every pipeline) may take before the pod is restarted."""
    readiness_period_seconds: Annotated[int, Field(ge=1, le=300), Unit.SECONDS] = 10
    """Seconds between readiness checks."""
    liveness_period_seconds: Annotated[int, Field(ge=1, le=300), Unit.SECONDS] = 20
    """Seconds between liveness checks."""


class LifecycleArgs(ConfigModel):
    """How a pod stops: a pause before SIGTERM, then the server's own drain (`server.gracefulShutdownTimeout`)."""

    pre_stop_sleep_seconds: Annotated[int, Field(ge=0, le=120), Unit.SECONDS] = 5
    """Seconds a stopping pod keeps serving before SIGTERM, so endpoints and load balancers drop it first (the
    preStop `sleep` handler, which needs Kubernetes >= 1.30); `0`: no preStop hook, for older clusters."""


class RolloutArgs(ConfigModel):
    """How long `pulumi up` waits for a rollout before it fails."""

    timeout_seconds: Annotated[int, Field(ge=60, le=86400), Unit.SECONDS] | None = None
    """Seconds `pulumi up` waits for the Deployment's pods to be updated and ready, and for the Service's
    endpoints. Default: derived, as pods are replaced one at a time: `pods × (probes.startupBudgetSeconds +
    probes.readinessPeriodSeconds + 60)`, at least the provider's 600, where pods is `autoscaling.maxReplicas`
    with autoscaling, else `replicas`."""


class TolerationOperator(StrEnum):
    """How a toleration matches a taint's value."""

    EQUAL = "Equal"
    EXISTS = "Exists"


class TaintEffect(StrEnum):
    """The taint effects a toleration can name."""

    NO_SCHEDULE = "NoSchedule"
    PREFER_NO_SCHEDULE = "PreferNoSchedule"
    NO_EXECUTE = "NoExecute"


class TolerationArgs(ConfigModel):
    """A taint the pods tolerate, e.g. `{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}`."""

    key: QualifiedName | None = None
    """The taint's key; unset: every taint (with `operator: Exists`)."""
    operator: TolerationOperator = TolerationOperator.EQUAL
    """`Equal` (the taint's value is `value`) or `Exists` (any value)."""
    value: str | None = None
    """The taint's value, with `Equal`; unset with `Exists`."""
    effect: TaintEffect | None = None
    """`NoSchedule`, `PreferNoSchedule` or `NoExecute`; unset: every effect."""
    toleration_seconds: Annotated[int, Field(ge=0), Unit.SECONDS] | None = None
    """With `effect: NoExecute`: seconds a pod stays on a node after the taint appears; unset: for ever."""

    @model_validator(mode="after")
    def _consistent(self) -> TolerationArgs:
        # The API server's own rules (ValidateTolerations), so a bad toleration fails here, not at apply.
        if self.key is None and self.operator is not TolerationOperator.EXISTS:
            raise ValueError("without key, operator must be Exists (it then tolerates every taint)")
        if self.operator is TolerationOperator.EXISTS and self.value is not None:
            raise ValueError("value must be unset with operator Exists")
        if self.value is not None and not is_label_value(self.value):
            raise ValueError(f"{self.value!r} is not a valid taint value (at most 63 letters, digits, '-', '_', '.')")
        if self.toleration_seconds is not None and self.effect is not TaintEffect.NO_EXECUTE:
            raise ValueError("tolerationSeconds needs effect NoExecute")
        return self


class SpreadPolicy(StrEnum):
    """How strictly the scheduler spreads the pods over a topology (a `topologySpreadConstraints` entry)."""

    REQUIRED = "required"
    """`DoNotSchedule`: a pod waits rather than land where the spread would be uneven by more than one."""
    PREFERRED = "preferred"
    """`ScheduleAnyway`: the scheduler prefers an even spread, and places the pod anyway when it cannot."""
    OFF = "off"
    """No constraint."""


class SpreadArgs(ConfigModel):
    """How the pods are spread over nodes and zones, so that losing one node (or zone) never takes them all."""

    nodes: SpreadPolicy | None = None
    """Over nodes (`kubernetes.io/hostname`, which every node has). Default: `required` in production (two pods
    never share a node while another eligible node has fewer; on a one-node cluster they still start), `preferred`
    in development. Nodes whose taints the pods do not tolerate, or that `pod.nodeSelector` excludes, do not
    count."""
    zones: SpreadPolicy | None = None
    """Over zones (`topology.kubernetes.io/zone`). Default `preferred`, which spreads where the nodes carry the
    label and is ignored where they do not; `required` keeps pods off nodes without the label."""


class PodArgs(ConfigModel):
    """Where and how the pods are scheduled, beyond what the component decides (security, probes)."""

    annotations: Annotations = Field(default_factory=dict)
    """Annotations on the pods, e.g. for a service mesh or a log collector."""
    node_selector: Labels = Field(default_factory=dict)
    """Node labels the pods require, e.g. `{kubernetes.io/arch: amd64}`."""
    tolerations: list[TolerationArgs] = Field(default_factory=list)
    """Taints the pods tolerate, e.g. of dedicated or GPU nodes."""
    image_pull_secrets: Annotated[list[ObjectName], unique_items("a Secret")] = Field(default_factory=list)
    """Secrets (type `kubernetes.io/dockerconfigjson`, in the namespace) to pull a private image with."""
    priority_class_name: ObjectName | None = None
    """A PriorityClass for the pods; unset: the cluster's default."""
    spread: SpreadArgs = Field(default_factory=SpreadArgs)
    """How the pods are spread over nodes and zones."""


class CacheMedium(StrEnum):
    """What backs the cache."""

    DISK = "disk"
    """The node's disk (the emptyDir's default medium)."""
    MEMORY = "memory"
    """RAM (tmpfs): fast, and counted against the container's memory limit."""


class CacheArgs(ConfigModel):
    """A writable emptyDir for downloaded models and other caches (e.g. Hugging Face's), per pod: kept across
    container restarts, emptied when the pod goes."""

    mount_path: Annotated[str, absolute("/var/cache/hayhooks")] = "/var/cache/hayhooks"
    """Absolute path the cache is mounted at."""
    size: Size = "10Gi"
    """Size limit (a quantity, e.g. `10Gi`); a pod that writes more is evicted."""
    medium: CacheMedium = CacheMedium.DISK
    """`disk` or `memory`."""
    env: Annotated[list[UserEnvName], unique_items("a variable")] = Field(default_factory=lambda: ["HF_HOME"])
    """Environment variables set to `mountPath`, e.g. `HF_HOME`, `SENTENCE_TRANSFORMERS_HOME`."""

    @property
    def variables(self) -> dict[str, str]:
        """Each variable of `env` set to `mountPath`."""
        return dict.fromkeys(self.env, self.mount_path)


class PodSecurityArgs(ConfigModel):
    """The identity the server runs as."""

    run_as_user: Annotated[int, Field(ge=10000)] = 10001
    """UID (>= 10000; the official image runs as any UID)."""
    run_as_group: Annotated[int, Field(ge=10000)] = 10001
    """GID (>= 10000)."""
    fs_group: Annotated[int, Field(ge=10000)] = 10001
    """Group owning mounted volumes."""


class AutoscalingArgs(ConfigModel):
    """A HorizontalPodAutoscaler (autoscaling/v2) on CPU; it then owns the replica count."""

    enabled: bool = False
    """Create the autoscaler."""
    min_replicas: Annotated[int, Field(ge=1), Unit.PODS] = 2
    """Fewest pods (at least 2 in production)."""
    max_replicas: Annotated[int, Field(ge=1), Unit.PODS] = 6
    """Most pods."""
    target_cpu_utilization: Annotated[int, Field(ge=10, le=100), Unit.PERCENT] = 70
    """Average CPU use, in percent of the request, the autoscaler aims for."""

    @field_validator("max_replicas")
    @classmethod
    def _max(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_replicas")
        if low is not None and value < low:
            raise ValueError(f"must be at least minReplicas ({low})")
        return value


class DisruptionBudgetArgs(ConfigModel):
    """A PodDisruptionBudget that keeps capacity during drains and never blocks them: it must leave a drain at
    least one pod to evict, and keep at least one pod running (in production; see `maxUnavailable`)."""

    enabled: bool = True
    """Create the PodDisruptionBudget."""
    max_unavailable: Annotated[int, Field(ge=1), Unit.PODS] = 1
    """Pods a voluntary disruption may take at once (at least 1, so node drains can proceed); in production fewer
    than the fewest pods that run (`replicas`, or `autoscaling.minReplicas`), so a drain never evicts them all."""
    min_available: Annotated[int, Field(ge=1), Unit.PODS] | None = None
    """Instead of `maxUnavailable`: pods a voluntary disruption must leave running; fewer than the fewest pods that
    run (`replicas`, or `autoscaling.minReplicas`), or a drain could never evict one and would never finish."""

    @model_validator(mode="after")
    def _one_bound(self) -> DisruptionBudgetArgs:
        if self.min_available is not None and "max_unavailable" in self.model_fields_set:
            raise ValueError("set maxUnavailable or minAvailable, not both (a PodDisruptionBudget takes one)")
        return self
