"""HayhooksServiceArgs: everything a HayhooksService is configured with, validated and defaulted."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from ..model import ConfigModel, OneOfModel
from ..profile import Profile
from ..scratch import ScratchArgs
from ..settings import SecretEnvName, ServerSettings
from ..types import (
    DnsLabel,
    FileName,
    GoDuration,
    HeaderName,
    HeaderNames,
    HttpsUrl,
    Labels,
    Network,
    Networks,
    ProxyUrl,
    WildcardHostName,
    WildcardHostNames,
    absolute,
    dns_label,
    is_subdomain,
    network,
    networks,
    sorted_keys,
    strictly_inside,
    unique,
)
from .namespace.models import NamespaceArgs
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

# What the default egress `except` leaves out of the internet, by IP version: private, link-local and unique-local
# networks. 169.254.0.0/16 stays in: it holds the cloud metadata endpoint (169.254.169.254, instance credentials);
# a link-local DNS cache (NodeLocal DNSCache, 169.254.20.10) is let through by `networkPolicy.dns.cidrs` instead.
PRIVATE_RANGES = {
    4: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
    6: ["fc00::/7", "fe80::/10"],
}
# The internet by IP version, before those exceptions: the default egress, and a public host's derived rule.
PUBLIC_NETWORKS = ("0.0.0.0/0", "::/0")


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
    refresh_interval: GoDuration = "1h"
    """How often the operator re-reads the store (a Go duration, e.g. `1h`, `15m`)."""
    ready_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = 300
    """Seconds `pulumi up` waits for the operator to sync each ExternalSecret (its `Ready` condition) before it
    fails, instead of going on to pods that cannot find their Secret."""


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


class FromCsi(ConfigModel):
    """A file the Secrets Store CSI driver mounts from `secretProviderClass`."""

    object_name: FileName
    """The object's file name as the provider writes it (its `objectName`, or `objectAlias` where set)."""
    sync: bool = True
    """Sync the object into a Secret, so the variable holds its value (the driver creates that Secret while a pod
    mounts the volume); `false`: the variable holds the file's path and the value exists only in the mounted file."""


# The key of `secret_values` that holds the value of a `fromConfig` OIDC client secret (env secrets use their name).
OIDC_CLIENT_SECRET_VALUE = "gateway.auth.oidc.clientSecret"


class SecretSource(OneOfModel):
    """Where one secret value comes from: exactly one of the keys."""

    from_store: FromStore | None = None
    """Read by the External Secrets Operator from `secretStore`."""
    from_secret: FromSecret | None = None
    """An existing Secret."""
    from_config: str | None = None
    """A Pulumi config key set with `pulumi config set --secret <key>`; kept secret into a Secret."""
    from_csi: FromCsi | None = None
    """Mounted by the Secrets Store CSI driver from `secretProviderClass`."""


class SecretProviderClassArgs(ConfigModel):
    """A Secrets Store CSI driver SecretProviderClass, mounted read-only into every pod; `fromCsi` secrets name
    its objects."""

    provider: DnsLabel
    """The CSI provider installed beside the driver, e.g. `vault`, `azure`, `aws`, `gcp`."""
    parameters: Annotated[dict[str, str], AfterValidator(sorted_keys)] = Field(default_factory=dict)
    """The provider's parameters, verbatim (e.g. for `vault`: `vaultAddress`, `roleName`, `objects`)."""
    mount_path: Annotated[str, absolute("/mnt/secrets-store")] = "/mnt/secrets-store"
    """Absolute path the objects are mounted at, read-only."""
    node_publish_secret_name: DnsLabel | None = None
    """A Secret with the credentials the provider uses to read the store, where it needs one (e.g. Azure without
    workload identity); unset: the provider authenticates as the pod's service account."""


class IngressController(StrEnum):
    """The ingress controller that serves the Ingress; decides annotations and auth objects."""

    NGINX = "nginx"
    TRAEFIK = "traefik"


class AuthType(StrEnum):
    """How the edge authenticates clients."""

    BASIC = "basic"
    """HTTP basic auth with a generated password (exported as a secret output)."""
    EXTERNAL = "external"
    """An existing authentication service (e.g. oauth2-proxy) the controller asks before each request."""
    NONE = "none"
    """No authentication at the edge. Refused in production."""


class BasicAuthUser(ConfigModel):
    """Basic auth with one user whose password pulumi-random generates and keeps in state."""

    username: str = Field(default="hayhooks", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    """The user name."""
    password_length: Annotated[int, Field(ge=20, le=72)] = 32
    """Length of the generated password (bcrypt reads at most 72 bytes)."""


class BasicAuthArgs(BasicAuthUser):
    """Basic auth at the edge, with a password generated by pulumi-random and kept in state."""

    realm: str = Field(default="Hayhooks", pattern=r"^[A-Za-z0-9 ._-]{1,64}$")
    """The realm the browser shows."""


class ExternalAuthArgs(ConfigModel):
    """An authentication service the controller asks before each request (ingress-nginx `auth-url`, Traefik
    `forwardAuth`), e.g. an existing oauth2-proxy: a 2xx answer lets the request through."""

    address: ProxyUrl
    """URL the request's headers are sent to, e.g. `http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth`."""
    signin_url: ProxyUrl | None = None
    """Where a browser is sent on 401 (ingress-nginx `auth-signin`, Traefik `authSigninURL`), e.g.
    `https://auth.example.com/oauth2/start?rd=$scheme://$host$escaped_request_uri` (the variables are nginx's)."""
    response_headers: HeaderNames = Field(default_factory=list)
    """Headers of the auth service's answer passed on to the server as trusted identity, e.g.
    `X-Auth-Request-User`, `X-Auth-Request-Email`."""


class IngressArgs(ConfigModel):
    """A networking.k8s.io/v1 Ingress routing only what clients need."""

    host: WildcardHostName
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
    external_auth: ExternalAuthArgs | None = None
    """Settings of `auth: external` (required with it)."""
    expose_docs: bool = False
    """Also route `/docs`, `/redoc` and `/openapi.json`."""
    expose_status: bool = True
    """Route `GET /status` (pipeline list) to authenticated clients."""
    wait_for_address: bool = True
    """`pulumi up` waits until the ingress controller publishes an address in the Ingress status (and the
    Service has endpoints). ingress-nginx publishes one; Traefik only when its Ingress provider has an
    `ingressEndpoint` set; a controller behind a LoadBalancer Service that stays pending never does. `false`
    marks the Ingress `pulumi.com/skipAwait`: `up` goes on once the API server has it (routing works all the
    same)."""
    read_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 300
    """Seconds ingress-nginx waits for the server between two reads of an answer (`proxy-read-timeout`), long
    enough for streamed answers. Traefik sets its timeouts on the entry point, not per Ingress."""
    annotations: dict[str, str] = Field(default_factory=dict)
    """Extra annotations, e.g. `cert-manager.io/cluster-issuer`. Refused: snippets; an annotation the component
    sets itself (it would replace the component's value: change the option that sets it); in production, any
    ingress-nginx `auth-*` and `satisfy` annotation and Traefik's `router.middlewares` (authentication is
    `auth`'s)."""

    @field_validator("annotations")
    @classmethod
    def _no_snippets(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if "snippet" in key:
                raise ValueError(f"{key}: snippet annotations run arbitrary proxy config and are refused")
        return dict(sorted(value.items()))

    @field_validator("external_auth")
    @classmethod
    def _external_auth(cls, value: ExternalAuthArgs | None, info: ValidationInfo) -> ExternalAuthArgs | None:
        # Its absence with `auth: external` is the plan's to report (a default is never validated here).
        auth = info.data.get("auth")
        if auth is not AuthType.EXTERNAL and value is not None:
            raise ValueError(f"set only with auth: external (auth is {auth.value if auth else 'invalid'})")
        return value


def _client_ids(values: list[str]) -> list[str]:
    for value in values:
        dns_label(value)
    return unique(values, "a client")


class ParentRefArgs(ConfigModel):
    """A Gateway (and optionally one of its listeners) the route attaches to."""

    name: str
    """Name of the Gateway."""
    namespace: DnsLabel | None = None
    """Namespace of the Gateway; unset: the route's own. Its listener must admit routes from the route's
    namespace (`allowedRoutes`)."""
    section_name: str | None = None
    """Name of the listener, e.g. `https`. Required in production, so the route never also attaches to a
    plain-HTTP listener of the same Gateway, where credentials would cross the network in clear text."""

    @field_validator("name", "section_name")
    @classmethod
    def _subdomain(cls, value: str | None) -> str | None:
        if value is not None and not is_subdomain(value):
            raise ValueError(f"{value!r} is not a valid name (lowercase letters, digits, '-' and '.')")
        return value


class ApiKeyAuthArgs(ConfigModel):
    """API keys, one generated by pulumi-random per named client, kept in an Opaque Secret and exported as the
    secret output `apiKeys`. Envoy removes the key before the request reaches the server."""

    clients: Annotated[list[str], AfterValidator(_client_ids), Field(min_length=1)]
    """Client names, one key each (DNS labels), e.g. `frontend`, `batch-jobs`."""
    header: HeaderName = "x-api-key"
    """The request header that carries the key."""
    key_length: Annotated[int, Field(ge=32, le=128)] = 48
    """Characters per generated key (letters and digits)."""
    forward_client_id_header: HeaderName | None = None
    """A header Envoy sets to the matched client's name for the server, e.g. `x-client-id`; unset: none."""


class JwtArgs(ConfigModel):
    """JSON Web Tokens of an identity provider, checked against the keys it publishes."""

    issuer: str = Field(min_length=1)
    """The `iss` claim a token must carry, e.g. `https://login.example.com/realms/ai`."""
    audiences: list[str] = Field(default_factory=list)
    """`aud` values of which a token must carry one. At least one in production: otherwise every token the
    issuer signs, for any application, is accepted."""
    jwks_uri: HttpsUrl
    """HTTPS URL of the issuer's JSON Web Key Set, e.g. `https://login.example.com/realms/ai/protocol/openid-connect/certs`."""


class OidcArgs(ConfigModel):
    """OpenID Connect login for browsers: Envoy sends a browser without a session to the provider and keeps the
    session in a cookie. For programs, prefer `jwt` or `apiKey`."""

    issuer: HttpsUrl
    """The provider's issuer URL; Envoy reads its endpoints from `<issuer>/.well-known/openid-configuration`."""
    client_id: str = Field(min_length=1)
    """The client ID registered at the provider."""
    client_secret: SecretSource
    """Where the client secret comes from, like any secret (`fromSecret` must use the key `client-secret`, the
    one Envoy Gateway reads)."""
    redirect_url: ProxyUrl | None = None
    """The callback URL registered at the provider; unset: `https://<first hostname>/oauth2/callback`. Its path is
    routed to Envoy, which answers it (https in production)."""
    logout_path: str = Field(default="/logout", pattern=r"^/[A-Za-z0-9._~/-]*$")
    """Path that ends the session; routed to Envoy, which answers it."""
    scopes: list[str] = Field(default_factory=list)
    """Scopes requested besides `openid`, e.g. `email`, `profile`."""


class GatewayAuthArgs(OneOfModel):
    """Client authentication at the gateway, by an Envoy Gateway SecurityPolicy on the route: exactly one of
    the keys."""

    api_key: ApiKeyAuthArgs | None = None
    """API keys in a request header, one per named client."""
    basic: BasicAuthUser | None = None
    """HTTP basic auth with a generated password (`{SHA}` hash: the only form Envoy reads)."""
    jwt: JwtArgs | None = None
    """Bearer tokens (JWT) of an identity provider."""
    oidc: OidcArgs | None = None
    """OpenID Connect login for browsers."""
    none: bool = False
    """`true`: no authentication at the gateway. Refused in production."""


class GatewayArgs(ConfigModel):
    """A Gateway API HTTPRoute (gateway.networking.k8s.io/v1) on an existing Gateway, routing only what clients
    need, with client authentication by an Envoy Gateway SecurityPolicy."""

    parent_refs: Annotated[list[ParentRefArgs], Field(min_length=1)]
    """The Gateway listeners to attach to."""
    hostnames: WildcardHostNames = Field(default_factory=list, max_length=16)
    """Host names the route answers, e.g. `hayhooks.example.com`; empty: the listener's."""
    auth: GatewayAuthArgs
    """Client authentication (exactly one method)."""
    cors: bool = False
    """Answer CORS at the gateway with the standard CORS filter, mirroring `server.cors`: browsers' preflight
    requests carry no credentials, and are then answered before authentication."""
    route_namespace: DnsLabel | None = None
    """Namespace of the route and its policy, for Gateways that admit routes only from their own; unset: the
    service's. Another namespace gets ReferenceGrants in the service's for the Service and the Secrets."""
    request_timeout: str = Field(default="300s", pattern=r"^([0-9]{1,5}(h|m|s|ms)){1,4}$")
    """Time a request may take, long enough for streamed answers (a Gateway API duration, e.g. `300s`, `5m`)."""
    expose_docs: bool = False
    """Also route `/docs`, `/redoc` and `/openapi.json`."""
    expose_status: bool = True
    """Route `GET /status` (pipeline list) to authenticated clients."""
    accepted_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = 300
    """Seconds `pulumi up` waits for the Gateway to accept the HTTPRoute (its `Accepted` condition) before it
    fails."""


class Protocol(StrEnum):
    """A NetworkPolicy port's protocol."""

    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


Port = Annotated[int, Field(ge=1, le=65535)]


class EgressRule(ConfigModel):
    """Where the pods may connect to (besides DNS): a network (`cidr`), or the pods of a namespace (`namespace`)."""

    cidr: Network = PUBLIC_NETWORKS[0]
    """Destination network (IPv4 or IPv6); not with `namespace`."""
    except_: list[str] | None = Field(default=None, alias="except", validate_default=True)
    """Networks excluded from `cidr`, each inside it; unset: the private, link-local and unique-local ones inside
    it (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `169.254.0.0/16` with its cloud metadata endpoint;
    `fc00::/7`, `fe80::/10`), so `0.0.0.0/0` and `::/0` reach only the internet; `[]`: none."""
    namespace: DnsLabel | None = None
    """A namespace of the cluster instead of `cidr`: its pods are the destination, e.g. `data` for a Redis Service
    `redis.data.svc` (a NetworkPolicy sees the pods behind a Service, so `ports` are the pods' ports)."""
    pod_labels: Labels = Field(default_factory=dict)
    """With `namespace`: labels of the destination pods, e.g. `{app.kubernetes.io/name: redis}`; empty: every pod
    of it."""
    ports: list[Port] = Field(default_factory=lambda: [443])
    """Destination ports."""
    protocol: Protocol = Protocol.TCP
    """Protocol of `ports` (`TCP`, `UDP` or `SCTP`); one rule per protocol."""

    @field_validator("except_")
    @classmethod
    def _except(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        cidr = info.data.get("cidr")
        if cidr is None:
            return value  # the cidr's own error is reported
        outer = network(cidr)
        if value is None:
            ranges = (ipaddress.ip_network(r) for r in PRIVATE_RANGES[outer.version])
            return [str(r) for r in ranges if strictly_inside(r, outer)]
        for item in networks(value):
            # The API server requires each `except` to be a strict subset of `cidr`.
            if not strictly_inside(network(item), outer):
                raise ValueError(f"{item!r} is not a network strictly inside cidr {cidr}")
        return value

    @model_validator(mode="after")
    def _one_destination(self) -> EgressRule:
        if self.namespace is not None:
            given = [key for key, name in (("cidr", "cidr"), ("except", "except_")) if name in self.model_fields_set]
            if given:
                raise ValueError(f"set namespace or cidr (with except), not both: {' and '.join(given)} with namespace")
        elif "pod_labels" in self.model_fields_set:
            raise ValueError("podLabels selects pods in namespace; set namespace too")
        return self


def _default_egress() -> list[EgressRule]:
    return [EgressRule(cidr=network) for network in PUBLIC_NETWORKS]


class NamespacePods(ConfigModel):
    """Pods of one namespace of the cluster, e.g. `{namespace: batch, podLabels: {app: report-builder}}`."""

    namespace: DnsLabel
    """The namespace's name (matched by its `kubernetes.io/metadata.name` label)."""
    pod_labels: Labels = Field(default_factory=dict)
    """Labels of the pods in it; empty: every pod of it."""


def _unique_peers(values: list[NamespacePods]) -> list[NamespacePods]:
    return unique(values, "the same pods", key=lambda value: (value.namespace, tuple(value.pod_labels.items())))


class PortSpec(ConfigModel):
    """A port and its protocol."""

    port: Port
    """Port number."""
    protocol: Protocol = Protocol.TCP
    """`TCP`, `UDP` or `SCTP`."""


DNS_NAMESPACE = {"kubernetes.io/metadata.name": "kube-system"}
DNS_PODS = {"k8s-app": "kube-dns"}


class DnsArgs(ConfigModel):
    """Where the pods' DNS resolver is, for the egress rule `allowDns` writes. The default is kube-dns/CoreDNS in
    kube-system; e.g. OpenShift: `namespaceLabels: {kubernetes.io/metadata.name: openshift-dns}`,
    `podLabels: {dns.operator.openshift.io/daemonset-dns: default}`, ports 5353; NodeLocal DNSCache: add
    `cidrs: [169.254.20.10/32, <kube-dns Service IP>/32]` (its pods use the host's network, which no selector
    matches)."""

    namespace_labels: Labels | None = Field(default_factory=lambda: dict(DNS_NAMESPACE))
    """Labels of the resolver's namespace; `null`: no pod resolver, only `cidrs`."""
    pod_labels: Labels = Field(default_factory=lambda: dict(DNS_PODS))
    """Labels of the resolver's pods in that namespace (empty: any pod of it)."""
    cidrs: Networks = Field(default_factory=list)
    """Resolver addresses outside any pod (host-network caches), e.g. `169.254.20.10/32`."""
    ports: Annotated[list[PortSpec], Field(min_length=1)] = Field(
        default_factory=lambda: [PortSpec(port=53, protocol=Protocol.UDP), PortSpec(port=53, protocol=Protocol.TCP)]
    )
    """Ports the resolver answers on, each with its protocol; default: 53 over UDP and over TCP."""

    @model_validator(mode="after")
    def _somewhere(self) -> DnsArgs:
        if self.namespace_labels is None:
            if not self.cidrs:
                # An egress rule without destinations would allow these ports to anywhere.
                raise ValueError("with namespaceLabels null, name the resolver's addresses in cidrs")
            if "pod_labels" in self.model_fields_set:
                raise ValueError("podLabels selects pods in namespaceLabels' namespaces; set namespaceLabels too")
        return self


class NetworkPolicyArgs(ConfigModel):
    """Deny by default; allow the edge's proxies (and `allowFrom`) in, and DNS and the given destinations out."""

    enabled: bool = True
    """Create the NetworkPolicy."""
    ingress_namespace_labels: Labels | None = None
    """Labels of the namespace the edge's proxies run in; unset: by the edge, the namespace `ingress-nginx`,
    `traefik` or `envoy-gateway-system`."""
    ingress_pod_labels: Labels | None = None
    """Labels of the edge's proxy pods (empty: any pod of that namespace); unset: by the edge,
    `app.kubernetes.io/name` `ingress-nginx` or `traefik`, or the Envoy proxies of each Gateway in `parentRefs`."""
    allow_from: Annotated[list[NamespacePods], AfterValidator(_unique_peers)] = Field(default_factory=list)
    """Callers in other namespaces the pods admit, besides the edge's proxies (or, without an edge, the pods of the
    service's own namespace), e.g. `[{namespace: batch, podLabels: {app: report-builder}}]`. They reach the pods
    directly, past any edge authentication."""
    egress: list[EgressRule] = Field(default_factory=_default_egress)
    """Allowed destinations; the default reaches HTTPS on the internet (LLM APIs), over IPv4 and IPv6. The durable
    store's Redis (`server.durableRedisUrl`) is added to them where its host tells where it is; where it does not
    (a short name, a URL in `secrets`), a list set here is taken as saying where Redis is."""
    allow_dns: bool = True
    """Allow DNS to the resolver `dns` describes."""
    dns: DnsArgs = Field(default_factory=DnsArgs)
    """Where the resolver is (kube-dns in kube-system by default)."""


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
