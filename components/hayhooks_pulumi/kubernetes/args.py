"""HayhooksServiceArgs: everything a HayhooksService is configured with, validated and defaulted; each key's
model is its feature's (`namespace`, `workload`, `secrets`, `network`, `edge.ingress`, `edge.gateway`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from ..model import ConfigModel
from ..profile import Profile
from ..scratch import ScratchArgs
from ..server.env import SecretEnvName
from ..server.models import ServerSettings
from ..types import (
    Labels,
    Unit,
    sorted_keys,
)
from .edge.gateway.models import GatewayArgs
from .edge.ingress.models import IngressArgs
from .namespace.models import NamespaceArgs
from .network.models import NetworkPolicyArgs
from .secrets.models import SecretProviderClassArgs, SecretSource, SecretStoreArgs
from .workload.models import (
    AutoscalingArgs,
    CacheArgs,
    DisruptionBudgetArgs,
    LifecycleArgs,
    PodArgs,
    PodSecurityArgs,
    ProbesArgs,
    ResourcesArgs,
    RolloutArgs,
)


class HayhooksServiceArgs(ConfigModel):
    """Configuration of a HayhooksService (stack config key `hayhooks:service`)."""

    profile: Profile = Profile.PRODUCTION
    """`production` refuses what the production guide forbids; `development` allows local conveniences."""
    image: str | None = None
    """Image reference, e.g. `deepset/hayhooks:v2.1.0@sha256:<digest>`; may instead be passed as an Output."""
    namespace: NamespaceArgs = Field(default_factory=NamespaceArgs)
    """Namespace to create or use."""
    pipelines_path: str = "pipelines"
    """Local directory of pipelines, shipped in a ConfigMap and mounted read-only."""
    required_pipelines: list[str] = Field(default_factory=list)
    """Pipelines a pod must have loaded to be ready (`/status/<name>`); empty: `/status`."""
    server: ServerSettings = Field(default_factory=ServerSettings)
    """Server settings (env vars)."""
    replicas: Annotated[int, Field(ge=1), Unit.PODS] = 2
    """Pods, when no autoscaler owns the count (at least 2 in production). Refused beside `autoscaling.enabled`,
    where `autoscaling.minReplicas` is the fewest pods."""
    resources: ResourcesArgs = Field(default_factory=ResourcesArgs)
    """Requests and limits."""
    probes: ProbesArgs = Field(default_factory=ProbesArgs)
    """Health checks."""
    lifecycle: LifecycleArgs = Field(default_factory=LifecycleArgs)
    """Shutdown."""
    rollout: RolloutArgs = Field(default_factory=RolloutArgs)
    """How long `pulumi up` waits for a rollout."""
    security: PodSecurityArgs = Field(default_factory=PodSecurityArgs)
    """UID/GID."""
    scratch: ScratchArgs = Field(default_factory=ScratchArgs)
    """Sizes of the writable `/tmp` and `HOME`."""
    cache: CacheArgs | None = None
    """A writable cache volume (models, downloads) with variables pointing at it; unset: none."""
    pod: PodArgs = Field(default_factory=PodArgs)
    """Pod annotations, node selection, tolerations, image pull secrets, priority."""
    secret_store: SecretStoreArgs | None = None
    """The External Secrets store that `fromStore` secrets come from."""
    secret_provider_class: SecretProviderClassArgs | None = None
    """The Secrets Store CSI driver class that `fromCsi` secrets come from."""
    secrets: dict[SecretEnvName, SecretSource] = Field(default_factory=dict)
    """Secret environment variables, by name: the pipelines', and the server's `HAYHOOKS_TRACING_TOKEN` and
    `HAYHOOKS_DURABLE_REDIS_URL` (with a password)."""
    ingress: IngressArgs | None = None
    """Public edge through an Ingress controller; unset (and no `gateway`): reachable only inside the cluster."""
    gateway: GatewayArgs | None = None
    """Public edge through a Gateway API Gateway (Envoy Gateway for `auth`); the alternative to `ingress`."""
    network_policy: NetworkPolicyArgs = Field(default_factory=NetworkPolicyArgs)
    """Network isolation."""
    disruption_budget: DisruptionBudgetArgs = Field(default_factory=DisruptionBudgetArgs)
    """PodDisruptionBudget."""
    autoscaling: AutoscalingArgs = Field(default_factory=AutoscalingArgs)
    """HorizontalPodAutoscaler."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on every object."""
    check_crds: bool = True
    """Read the CRD of each custom resource kind the service uses, in `pulumi preview` as in `up`, before
    anything is changed: a missing CRD, or one not serving the version the component writes, fails there,
    naming the operator and version that serve it (without it, a preview passes and `up` fails). Needs `get`
    on `customresourcedefinitions`; `false` for a deployer that may not read them."""

    @field_validator("gateway")
    @classmethod
    def _one_edge(cls, value: GatewayArgs | None, info: ValidationInfo) -> GatewayArgs | None:
        if value is not None and info.data.get("ingress") is not None:
            raise ValueError("choose one public edge: `ingress` or `gateway`, not both")
        return value

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretSource]) -> dict[str, SecretSource]:
        return sorted_keys(value)
