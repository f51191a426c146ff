"""The plan of a service: every check that plain values allow, run before anything registers, and then the facts
every builder shares, computed once from the validated args (names, labels, env, egress)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import Problem
from ..image import ImageRef
from ..pipelines import PipelineSet
from ..planning import (
    APP_NAME,
    Problems,
    check_bind_address,
    check_image,
    check_name,
    check_pipelines,
    check_pipelines_dir,
    check_release,
    recommended_labels,
    validate_args,
    without_profile_rules,
)
from ..profile import Profile
from ..server.checks import server_problems
from ..server.env import plain_env
from ..server.logs import log_color_problems, with_log_colors
from ..server.models import ServerSettings
from ..server.version import ServerVersion
from .args import HayhooksServiceArgs
from .edge.gateway import checks as gateway
from .edge.gateway.models import GatewayArgs
from .edge.ingress import checks as ingress
from .edge.ingress.models import IngressArgs
from .namespace.keyword import with_keyword_namespace
from .network.egress import settings_egress
from .network.models import EgressRule
from .proposal import Check, Proposal
from .secrets import checks as secrets
from .workload import checks as workload

if TYPE_CHECKING:
    import pulumi


def _server_problems(proposal: Proposal) -> list[Problem]:
    return server_problems(proposal.args.server)


# Every profile's checks, feature by feature, in the order their problems are reported.
CHECKS: tuple[Check, ...] = (
    workload.pipeline_problems,
    workload.scaling_problems,
    secrets.secret_problems,
    ingress.ingress_problems,
    gateway.gateway_problems,
    secrets.mount_problems,
    workload.cache_problems,
)
# What the production profile refuses besides, each with the config key to change.
PRODUCTION_CHECKS: tuple[Check, ...] = (
    _server_problems,
    workload.production_problems,
    secrets.production_problems,
    ingress.production_problems,
    gateway.production_problems,
)


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
    namespace_ref: pulumi.Input[str] | None = None
    """The namespace as the `namespace=` keyword's Output gives it, checked against `namespace`; the objects carry
    it in their metadata, and so depend on what creates the namespace."""
    server_version: ServerVersion | None = None
    """The Hayhooks release the pods run and the settings table it was checked against."""
    warnings: tuple[str, ...] = ()
    """What the checks let pass but the deployer should read (a release newer than the package knows)."""

    @property
    def namespace_input(self) -> pulumi.Input[str]:
        """The namespace as the objects' metadata name it."""
        return self.namespace if self.namespace_ref is None else self.namespace_ref

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
    image: object = None,
    namespace: object = None,
    secret_values: Mapping[str, object] | None = None,
) -> ServicePlan:
    """Validate everything that can be validated on plain values; raise one ConfigError listing all problems.
    `image` and `namespace`: the component's keywords of those names (a string or an Output), or None."""
    problems = Problems()
    check_name(problems, name)
    valid = validate_args(HayhooksServiceArgs, args, problems)
    if valid is None:  # every check below needs the model
        problems.raise_if_any()
    assert valid is not None
    args = without_profile_rules(valid, problems)
    if namespace is not None:
        args = with_keyword_namespace(args, namespace, problems)
    image_ref = check_image(problems, args.image, image, args.profile)
    release, notes = check_release(problems, image_ref, image, args.server, args.secrets)
    pipelines = check_pipelines(problems, args.pipelines_path, durable=args.server.durable_mode)
    check_bind_address(problems, args.server.host, "the Service and the probes", "the NetworkPolicy")
    check_pipelines_dir(problems, args.server.pipelines_dir)
    proposal = Proposal(args, pipelines, frozenset(secret_values or {}))
    for check in CHECKS:
        problems.extend(check(proposal))
    problems.extend(log_color_problems(with_log_colors(args.server, args.profile)))
    # The egress the settings need: its rules join the plan, its problems the others.
    derived_egress, egress_problems = settings_egress(args)
    problems.extend(egress_problems)
    if args.profile is Profile.PRODUCTION:
        for check in PRODUCTION_CHECKS:
            problems.extend(check(proposal))
    # One reason per key: where production refuses a CORS setting, the Ingress's need to mirror it can wait.
    reported = {problem.path for problem in problems.items}
    problems.extend([problem for problem in ingress.cors_problems(proposal) if problem.path not in reported])
    problems.raise_if_any()
    assert pipelines is not None
    assert release is not None
    env = plain_env(_effective_server(args), release.table, args.cache.variables if args.cache is not None else None)
    return ServicePlan(
        name=name,
        args=args,
        namespace=args.namespace.name,
        pipelines=pipelines,
        image=image_ref,
        env=env,
        labels=recommended_labels(name, image_ref, args.labels),
        egress=(*args.network_policy.egress, *derived_egress),
        server_version=release,
        warnings=tuple(notes),
    )


def _effective_server(args: HayhooksServiceArgs) -> ServerSettings:
    """The profile's log colours; behind an edge that alone can reach the pods, trust its forwarded headers."""
    server = with_log_colors(args.server, args.profile)
    edge = args.ingress or args.gateway
    policy = args.network_policy
    if server.forwarded_allow_ips is None and edge is not None and policy.enabled and not policy.allow_from:
        server = server.model_copy(update={"forwarded_allow_ips": "*"})
    return server
