"""HayhooksServiceArgs: everything a HayhooksService is configured with, validated and defaulted."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..model import ConfigModel
from ..names import DnsLabel, EnvName, Labels
from ..profile import Profile
from ..quantity import parse_quantity
from ..settings import ServerSettings

_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
_HOSTNAME = re.compile(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"]


class NamespaceArgs(ConfigModel):
    """Where the service lives."""

    name: DnsLabel = "hayhooks"
    """Namespace name."""
    create: bool = True
    """Create the namespace (labelled for Pod Security `restricted`), or use an existing one."""


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
        request = info.data.get(info.field_name.replace("limit", "request"))
        if value is not None and request is not None and parse_quantity(value) < parse_quantity(request):
            raise ValueError(f"limit {value} is below the request {request}")
        return value


class ProbesArgs(ConfigModel):
    """Health checks. Start-up is probed on `/status`, readiness on `/status/<pipeline>`, liveness on the TCP port."""

    startup_budget_seconds: Annotated[int, Field(ge=10, le=3600)] = 180
    """Seconds the slowest start-up (loading every pipeline) may take before the pod is restarted."""
    readiness_period_seconds: Annotated[int, Field(ge=1, le=300)] = 10
    """Seconds between readiness checks."""
    liveness_period_seconds: Annotated[int, Field(ge=1, le=300)] = 20
    """Seconds between liveness checks."""


class StoreKind(StrEnum):
    """The kind of External Secrets store to read from."""

    CLUSTER_SECRET_STORE = "ClusterSecretStore"
    SECRET_STORE = "SecretStore"


class SecretStoreArgs(ConfigModel):
    """The External Secrets Operator store that `fromStore` secrets are read from."""

    name: DnsLabel
    """Name of the (Cluster)SecretStore."""
    kind: StoreKind = StoreKind.CLUSTER_SECRET_STORE
    """`ClusterSecretStore` or `SecretStore` (the latter in the service's namespace)."""
    refresh_interval: str = "1h"
    """How often the operator re-reads the store (a Go duration, e.g. `1h`, `15m`)."""

    @field_validator("refresh_interval")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not _DURATION.match(value):
            raise ValueError(f"{value!r} is not a duration: write e.g. 1h, 15m or 30s")
        return value


class FromStore(ConfigModel):
    """A value in the secret store."""

    remote_key: str = Field(min_length=1)
    """The key (path) of the secret in the store."""
    property: str | None = None
    """The property within that secret, for stores holding JSON or key/value maps."""
    version: str | None = None
    """A specific version, where the store versions secrets."""


class FromSecret(ConfigModel):
    """A key of a Secret that already exists in the namespace."""

    name: DnsLabel
    """Secret name."""
    key: str = Field(min_length=1)
    """Key in the Secret."""


class SecretSource(ConfigModel):
    """Where one secret environment variable comes from: exactly one of the keys."""

    from_store: FromStore | None = None
    """Read by the External Secrets Operator from `secretStore`."""
    from_secret: FromSecret | None = None
    """An existing Secret."""
    from_config: str | None = None
    """A Pulumi config key set with `pulumi config set --secret <key>`; kept secret into a Secret."""

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        chosen = [k for k in ("fromStore", "fromSecret", "fromConfig") if getattr(self, _snake(k)) is not None]
        if len(chosen) != 1:
            raise ValueError(f"set exactly one of fromStore, fromSecret, fromConfig (got {chosen or 'none'})")
        return self


def _snake(camel: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", camel).lower()


class IngressController(StrEnum):
    """The ingress controller that serves the Ingress; decides annotations and auth objects."""

    NGINX = "nginx"
    TRAEFIK = "traefik"


class AuthType(StrEnum):
    """How the edge authenticates clients."""

    BASIC = "basic"
    """HTTP basic auth with a generated password (exported as a secret output)."""
    NONE = "none"
    """No authentication at the edge. Refused in production."""


class BasicAuthArgs(ConfigModel):
    """Basic auth at the edge, with a password generated by pulumi-random and kept in state."""

    username: str = Field(default="hayhooks", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    """The user name."""
    realm: str = Field(default="Hayhooks", pattern=r"^[A-Za-z0-9 ._-]{1,64}$")
    """The realm the browser shows."""
    password_length: Annotated[int, Field(ge=20, le=72)] = 32
    """Length of the generated password (bcrypt reads at most 72 bytes)."""


class IngressArgs(ConfigModel):
    """A networking.k8s.io/v1 Ingress routing only what clients need."""

    host: str
    """Public host name, e.g. `hayhooks.example.com`."""
    controller: IngressController = IngressController.NGINX
    """`nginx` (ingress-nginx annotations) or `traefik` (a Traefik Middleware)."""
    class_name: str | None = None
    """IngressClass name; defaults to the controller's name."""
    tls_secret_name: DnsLabel | None = None
    """Secret holding the certificate for `host` (e.g. made by cert-manager). Required in production."""
    auth: AuthType = AuthType.BASIC
    """Client authentication at the edge."""
    basic_auth: BasicAuthArgs = Field(default_factory=BasicAuthArgs)
    """Settings of `auth: basic`."""
    expose_docs: bool = False
    """Also route `/docs`, `/redoc` and `/openapi.json`."""
    expose_status: bool = True
    """Route `GET /status` (pipeline list) to authenticated clients."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Extra annotations, e.g. `cert-manager.io/cluster-issuer`. Snippet annotations are refused."""

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _HOSTNAME.match(value):
            raise ValueError(f"{value!r} is not a host name (lowercase, dotted, e.g. hayhooks.example.com)")
        return value

    @field_validator("annotations")
    @classmethod
    def _no_snippets(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if "snippet" in key:
                raise ValueError(f"{key}: snippet annotations run arbitrary proxy config and are refused")
        return dict(sorted(value.items()))


class EgressRule(ConfigModel):
    """Where the pods may connect to (besides DNS)."""

    cidr: str = "0.0.0.0/0"
    """Destination network."""
    except_: list[str] = Field(default_factory=lambda: list(PRIVATE_RANGES), alias="except")
    """Networks excluded from `cidr` (by default the private ranges, so only the internet is reached)."""
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = Field(default_factory=lambda: [443])
    """TCP ports."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        ipaddress.ip_network(value)
        return value

    @field_validator("except_")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item)
        return value


class NetworkPolicyArgs(ConfigModel):
    """Deny by default; allow the ingress controller in, and DNS and the given destinations out."""

    enabled: bool = True
    """Create the NetworkPolicy."""
    ingress_namespace_labels: Labels = Field(default_factory=lambda: {"kubernetes.io/metadata.name": "ingress-nginx"})
    """Labels of the namespace the ingress controller runs in."""
    ingress_pod_labels: Labels = Field(default_factory=lambda: {"app.kubernetes.io/name": "ingress-nginx"})
    """Labels of the ingress controller's pods (empty: any pod of that namespace)."""
    egress: list[EgressRule] = Field(default_factory=lambda: [EgressRule()])
    """Allowed destinations; the default reaches HTTPS on the internet (LLM APIs)."""
    allow_dns: bool = True
    """Allow DNS to kube-system."""


class AutoscalingArgs(ConfigModel):
    """A HorizontalPodAutoscaler (autoscaling/v2) on CPU; it then owns the replica count."""

    enabled: bool = False
    """Create the autoscaler."""
    min_replicas: Annotated[int, Field(ge=1)] = 2
    """Fewest pods (at least 2 in production)."""
    max_replicas: Annotated[int, Field(ge=1)] = 6
    """Most pods."""
    target_cpu_utilization: Annotated[int, Field(ge=10, le=100)] = 70
    """Average CPU use, in percent of the request, the autoscaler aims for."""

    @field_validator("max_replicas")
    @classmethod
    def _max(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min_replicas")
        if low is not None and value < low:
            raise ValueError(f"must be at least minReplicas ({low})")
        return value


class DisruptionBudgetArgs(ConfigModel):
    """A PodDisruptionBudget that keeps capacity during drains and never blocks them."""

    enabled: bool = True
    """Create the PodDisruptionBudget."""
    max_unavailable: Annotated[int, Field(ge=1)] = 1
    """Pods a voluntary disruption may take at once (at least 1, so node drains can proceed)."""


class PodSecurityArgs(ConfigModel):
    """The identity the server runs as."""

    run_as_user: Annotated[int, Field(ge=10000)] = 10001
    """UID (>= 10000; the official image runs as any UID)."""
    run_as_group: Annotated[int, Field(ge=10000)] = 10001
    """GID (>= 10000)."""
    fs_group: Annotated[int, Field(ge=10000)] = 10001
    """Group owning mounted volumes."""


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
    replicas: Annotated[int, Field(ge=1)] = 2
    """Pods, when no autoscaler owns the count (at least 2 in production)."""
    resources: ResourcesArgs = Field(default_factory=ResourcesArgs)
    """Requests and limits."""
    probes: ProbesArgs = Field(default_factory=ProbesArgs)
    """Health checks."""
    security: PodSecurityArgs = Field(default_factory=PodSecurityArgs)
    """UID/GID."""
    secret_store: SecretStoreArgs | None = None
    """The External Secrets store that `fromStore` secrets come from."""
    secrets: dict[EnvName, SecretSource] = Field(default_factory=dict)
    """Secret environment variables, by name."""
    ingress: IngressArgs | None = None
    """Public edge; unset: reachable only inside the cluster."""
    network_policy: NetworkPolicyArgs = Field(default_factory=NetworkPolicyArgs)
    """Network isolation."""
    disruption_budget: DisruptionBudgetArgs = Field(default_factory=DisruptionBudgetArgs)
    """PodDisruptionBudget."""
    autoscaling: AutoscalingArgs = Field(default_factory=AutoscalingArgs)
    """HorizontalPodAutoscaler."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on every object."""

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretSource]) -> dict[str, SecretSource]:
        for name in value:
            if name.upper().startswith("HAYHOOKS_"):
                raise ValueError(f"{name}: secrets are for pipelines; server settings are not secret")
        return dict(sorted(value.items()))
