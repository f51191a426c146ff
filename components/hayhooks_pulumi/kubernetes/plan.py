"""The facts every builder shares, computed once from validated args: names, labels, env, ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..image import ImageRef
from ..pipelines import PipelineSet
from ..planning import (
    APP_NAME,
    Problems,
    check_bind_address,
    check_image,
    check_name,
    check_pipelines,
    recommended_labels,
    validate_args,
)
from ..profile import Profile
from ..settings import server_env
from .args import HayhooksServiceArgs
from .rules import service_problems

CONTAINER_NAME = "hayhooks"
PORT_NAME = "http"
SERVICE_PORT = 80
HOME_DIR = "/home/hayhooks"
TMP_DIR = "/tmp"
PRESTOP_SECONDS = 5
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

    @property
    def labels(self) -> dict[str, str]:
        """The recommended app.kubernetes.io labels plus the caller's, on every object."""
        return recommended_labels(self.name, self.image, self.args.labels)

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
    args = validate_args(HayhooksServiceArgs, args)
    problems = Problems()
    check_name(problems, name)
    image = check_image(problems, args.image, image_given, args.profile)
    pipelines = check_pipelines(problems, args.pipelines_path)
    check_bind_address(problems, args.server.host, "the Service and the probes", "the NetworkPolicy")
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
    for env_name, source in args.secrets.items():
        if source.from_config is not None and env_name not in given:
            problems.add(
                f"secrets.{env_name}.fromConfig",
                f"no value given; set it with `pulumi config set --secret {source.from_config} <value>`",
            )
        if source.from_store is not None and args.secret_store is None:
            problems.add(
                "secretStore", f"required by secrets.{env_name}.fromStore: name the (Cluster)SecretStore to read from"
            )
    if args.profile is Profile.PRODUCTION:
        problems.extend(service_problems(args))
    problems.raise_if_any()
    assert pipelines is not None
    env = server_env(_effective_server(args))
    return ServicePlan(name=name, args=args, namespace=args.namespace.name, pipelines=pipelines, image=image, env=env)


def _effective_server(args: HayhooksServiceArgs):
    """Behind an ingress that alone can reach the pods, trust its forwarded headers."""
    server = args.server
    if server.forwarded_allow_ips is None and args.ingress is not None and args.network_policy.enabled:
        server = server.model_copy(update={"forwarded_allow_ips": "*"})
    return server
