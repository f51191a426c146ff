"""The facts every builder shares, computed once from validated args: names, labels, env, ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..image import ImageRef
from ..pipelines import PipelineSet
from ..planning import (
    APP_NAME,
    HOME_DIR,
    IMAGE_DIRS,
    TMP_DIR,
    Problems,
    check_bind_address,
    check_image,
    check_name,
    check_pipelines,
    check_pipelines_dir,
    check_secret_names,
    missing_secret,
    overlaps,
    plain_env,
    recommended_labels,
    validate_args,
    without_profile_rules,
)
from ..profile import Profile
from ..quantity import parse_quantity
from ..scratch import size_bytes
from .args import HayhooksServiceArgs
from .edge.gateway.cors import cors_problems
from .edge.gateway.models import GatewayArgs
from .edge.gateway.oidc import OIDC_CLIENT_SECRET_VALUE, OIDC_SECRET_KEY, gateway_extra_paths, oidc_redirect_url
from .edge.ingress.annotations import annotation_problems, authenticates
from .edge.ingress.cors import ingress_cors_problems
from .edge.ingress.models import AuthType, IngressArgs
from .edge.routes import MAX_ROUTE_MATCHES, UPLOAD_PATHS, client_paths
from .network.egress import settings_egress
from .network.models import EgressRule
from .rules import service_problems
from .secrets.models import SecretSource
from .workload.configmap_keys import key_collisions
from .workload.models import CacheMedium

CONFIGMAP_BUDGET = 1_000_000  # bytes of the 1 MiB object limit left for file contents


@dataclass(frozen=True)
class ServicePlan:
    """Derived once; builders read it and never recompute."""

    name: str
    args: HayhooksServiceArgs
    namespace: str
    pipelines: PipelineSet
    image: ImageRef | None
    env: dict[str, str]
    """The plain (non-secret) environment exactly as the pods get it: the container's env and the `env` output."""
    labels: dict[str, str]
    """The recommended app.kubernetes.io labels plus the caller's, on every object (computed once per plan)."""
    egress: tuple[EgressRule, ...] = field(default=())
    """Every egress rule besides DNS: `networkPolicy.egress`, then what the settings need (the durable Redis)."""

    @property
    def selector(self) -> dict[str, str]:
        """Stable across upgrades: only name and instance."""
        return {"app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": self.name}

    @property
    def service_name(self) -> str:
        # Starts with "http-" so the kubelet's link variables (HTTP_<NAME>_PORT=tcp://...)
        # can never land on HAYHOOKS_* and crash the server.
        return f"http-{self.name}"

    @property
    def edge(self) -> IngressArgs | GatewayArgs | None:
        """The public edge, whichever kind: the Ingress or the Gateway API route."""
        return self.args.ingress or self.args.gateway

    @property
    def route_namespace(self) -> str:
        """Where the HTTPRoute and its SecurityPolicy live: the service's namespace unless the gateway names one."""
        gateway = self.args.gateway
        return (gateway.route_namespace if gateway else None) or self.namespace

    @property
    def oidc_client_secret_name(self) -> str | None:
        """The Secret Envoy Gateway reads the OIDC client secret from: the user's own (`fromSecret`), else ours."""
        oidc = self.args.gateway.auth.oidc if self.args.gateway else None
        if oidc is None:
            return None
        source = oidc.client_secret.from_secret
        return source.name if source is not None else self.child("oidc-client")

    @property
    def port(self) -> int:
        return self.args.server.port

    @property
    def internal_url(self) -> str:
        return f"http://{self.service_name}.{self.namespace}.svc.cluster.local"

    def child(self, suffix: str) -> str:
        """Kubernetes name of a child object."""
        return f"{self.name}-{suffix}"


def plan_service(
    name: str,
    args: HayhooksServiceArgs | Mapping,
    *,
    image_given: bool = False,
    secret_values: Mapping[str, object] | None = None,
) -> ServicePlan:
    """Validate everything that can be validated on plain values; raise one ConfigError listing all problems."""
    problems = Problems()
    check_name(problems, name)
    valid = validate_args(HayhooksServiceArgs, args, problems)
    if valid is None:  # every check below needs the model
        problems.raise_if_any()
    assert valid is not None
    args = without_profile_rules(valid, problems)
    image = check_image(problems, args.image, image_given, args.profile)
    pipelines = check_pipelines(problems, args.pipelines_path, durable=args.server.durable_mode)
    check_bind_address(problems, args.server.host, "the Service and the probes", "the NetworkPolicy")
    check_pipelines_dir(problems, args.server.pipelines_dir)
    if pipelines is not None:
        for key, paths in key_collisions(pipelines.files).items():
            problems.add(
                "pipelinesPath",
                f"{' and '.join(paths)} would both be the ConfigMap key {key!r} ('/' becomes '--'): rename one",
            )
    if pipelines is not None and pipelines.size > CONFIGMAP_BUDGET:
        problems.add(
            "pipelinesPath",
            f"{args.pipelines_path} holds {pipelines.size} bytes, more than a ConfigMap carries "
            f"({CONFIGMAP_BUDGET} of its 1 MiB limit); bake large pipelines into the image instead",
        )
    if pipelines is not None:
        for index, required in enumerate(args.required_pipelines):
            if required not in pipelines.names:
                problems.add(
                    f"requiredPipelines[{index}]",
                    f"{required!r} is not in {args.pipelines_path} (found: {', '.join(pipelines.names)})",
                )
    given = dict(secret_values or {})
    check_secret_names(problems, args.secrets, plain_env(args.server))
    for env_name, source in args.secrets.items():
        _check_source(problems, args, source, f"secrets.{env_name}", env_name, env_name in given)
    if args.ingress is not None and args.ingress.auth is AuthType.EXTERNAL and args.ingress.external_auth is None:
        problems.add("ingress.externalAuth", "required with auth: external (at least its address)")
    if args.ingress is not None:
        problems.extend(annotation_problems(args))
    if args.gateway is not None:
        _check_gateway(problems, args, args.gateway, pipelines, OIDC_CLIENT_SECRET_VALUE in given)
    if args.secret_provider_class is not None:
        _check_mount_path(problems, args)
    if args.cache is not None:
        _check_cache(problems, args)
    derived_egress, egress_problems = settings_egress(args)
    problems.extend(egress_problems)
    if args.profile is Profile.PRODUCTION:
        problems.extend(service_problems(args))
    if args.ingress is not None:
        # One reason per key: where production refuses a CORS setting, the Ingress's need to mirror it can wait.
        reported = {problem.path for problem in problems.items}
        mirror = ingress_cors_problems(args.server.cors, args.ingress.controller, authenticates(args.ingress))
        problems.extend([problem for problem in mirror if problem.path not in reported])
    problems.raise_if_any()
    assert pipelines is not None
    env = plain_env(_effective_server(args), args.cache.variables if args.cache is not None else None)
    return ServicePlan(
        name=name,
        args=args,
        namespace=args.namespace.name,
        pipelines=pipelines,
        image=image,
        env=env,
        labels=recommended_labels(name, image, args.labels),
        egress=(*args.network_policy.egress, *derived_egress),
    )


def _check_source(
    problems: Problems, args: HayhooksServiceArgs, source: SecretSource, path: str, value_key: str, given: bool
) -> None:
    """What one secret source needs besides itself: its value (`secret_values[value_key]`), its store, its CSI
    class."""
    if source.from_config is not None and not given:
        problems.add(f"{path}.fromConfig", missing_secret(value_key, source.from_config))
    if source.from_store is not None and args.secret_store is None:
        problems.add("secretStore", f"required by {path}.fromStore: name the (Cluster)SecretStore to read from")
    if source.from_csi is not None and args.secret_provider_class is None:
        problems.add(
            "secretProviderClass",
            f"required by {path}.fromCsi: name the CSI provider (and its parameters) that mounts the object",
        )


def _check_gateway(
    problems: Problems, args: HayhooksServiceArgs, gateway: GatewayArgs, pipelines: PipelineSet | None, given: bool
) -> None:
    oidc = gateway.auth.oidc
    if oidc is not None:
        path = "gateway.auth.oidc"
        source = oidc.client_secret
        _check_source(problems, args, source, f"{path}.clientSecret", OIDC_CLIENT_SECRET_VALUE, given)
        if source.from_secret is not None and source.from_secret.key != OIDC_SECRET_KEY:
            problems.add(
                f"{path}.clientSecret.fromSecret.key",
                f"must be {OIDC_SECRET_KEY!r}: Envoy Gateway reads the client secret from that key only",
            )
        if source.from_csi is not None and not source.from_csi.sync:
            problems.add(
                f"{path}.clientSecret.fromCsi.sync",
                "must be true: Envoy Gateway reads the client secret from a Secret, not from a pod's files",
            )
        if oidc_redirect_url(gateway) is None:
            problems.add(
                f"{path}.redirectUrl",
                "required when gateway.hostnames names no concrete host: the callback URL registered at the provider",
            )
    if pipelines is not None:
        served = client_paths(pipelines.names, expose_status=gateway.expose_status, expose_docs=gateway.expose_docs)
        for extra in gateway_extra_paths(gateway):
            if extra in served or extra.startswith(UPLOAD_PATHS):
                problems.add(
                    "gateway.auth.oidc",
                    f"{extra} is a path of the server; choose another redirectUrl path or logoutPath for OIDC",
                )
        total = len(served) + len(gateway_extra_paths(gateway))
        if total > MAX_ROUTE_MATCHES:
            problems.add(
                "pipelinesPath",
                f"{total} paths to route, more than an HTTPRoute holds ({MAX_ROUTE_MATCHES}); split the pipelines "
                "over several services",
            )
    if gateway.cors:
        problems.extend(cors_problems(args.server.cors))


def _check_mount_path(problems: Problems, args: HayhooksServiceArgs) -> None:
    """The CSI mount must not hide, or be hidden by, another mount of the container."""
    assert args.secret_provider_class is not None
    mount = args.secret_provider_class.mount_path
    for other in (args.server.pipelines_dir, TMP_DIR, HOME_DIR):
        if overlaps(mount, other):
            problems.add("secretProviderClass.mountPath", f"{mount} overlaps the container's mount at {other}")


def _check_cache(problems: Problems, args: HayhooksServiceArgs) -> None:
    """The cache mount hides nothing and is hidden by nothing; its variables are set nowhere else; in memory it
    fits the memory limit it counts against."""
    cache = args.cache
    assert cache is not None
    others = [args.server.pipelines_dir, TMP_DIR, HOME_DIR, *IMAGE_DIRS]
    if args.secret_provider_class is not None:
        others.append(args.secret_provider_class.mount_path)
    for other in others:
        if overlaps(cache.mount_path, other):
            problems.add("cache.mountPath", f"{cache.mount_path} overlaps the container's mount or directory {other}")
    taken = {**plain_env(args.server), **dict.fromkeys(args.secrets, "secret")}
    for index, name in enumerate(cache.env):
        if name in taken:
            problems.add(f"cache.env[{index}]", f"{name} is already set (server.extraEnv or secrets); set it once")
    limit = args.resources.memory_limit
    if cache.medium is CacheMedium.MEMORY and limit is not None and size_bytes(cache.size) > parse_quantity(limit):
        problems.add(
            "cache.size",
            f"{cache.size} in memory is more than resources.memoryLimit ({limit}), which it counts against",
        )


def _effective_server(args: HayhooksServiceArgs):
    """Behind an edge that alone can reach the pods, trust its forwarded headers."""
    server = args.server
    edge = args.ingress or args.gateway
    policy = args.network_policy
    if server.forwarded_allow_ips is None and edge is not None and policy.enabled and not policy.allow_from:
        server = server.model_copy(update={"forwarded_allow_ips": "*"})
    return server
