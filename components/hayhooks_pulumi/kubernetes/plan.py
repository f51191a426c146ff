"""The facts every builder shares, computed once from validated args: names, labels, env, ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from ..errors import ConfigError, Problem, from_validation_error
from ..image import ImageRef, parse_image
from ..names import dns_label
from ..pipelines import PipelineSet, load_pipelines
from ..profile import Profile
from ..settings import server_env
from .args import HayhooksServiceArgs
from .rules import service_problems

APP_NAME = "hayhooks"
CONTAINER_NAME = "hayhooks"
PORT_NAME = "http"
SERVICE_PORT = 80
HOME_DIR = "/home/hayhooks"
TMP_DIR = "/tmp"
PRESTOP_SECONDS = 5
CONFIGMAP_BUDGET = 1_000_000  # bytes of the 1 MiB object limit left for file contents
MAX_NAME = 40  # leaves room for the longest suffix within 63 characters


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
        labels = {
            **self.args.labels,
            "app.kubernetes.io/name": APP_NAME,
            "app.kubernetes.io/instance": self.name,
            "app.kubernetes.io/component": "server",
            "app.kubernetes.io/part-of": APP_NAME,
            "app.kubernetes.io/managed-by": "pulumi",
        }
        if self.image is not None:
            labels["app.kubernetes.io/version"] = self.image.version
        return labels

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
    if not isinstance(args, HayhooksServiceArgs):
        try:
            args = HayhooksServiceArgs.model_validate(args)
        except ValidationError as error:
            raise from_validation_error(error) from None
    problems: list[Problem] = []
    try:
        dns_label(name)
        if len(name) > MAX_NAME:
            raise ValueError(f"at most {MAX_NAME} characters, so child names stay within 63")
    except ValueError as error:
        problems.append(Problem("name", f"component name: {error}"))
    image = None
    if args.image is None and not image_given:
        problems.append(
            Problem("image", "required: an image reference such as deepset/hayhooks:v2.1.0@sha256:<digest>")
        )
    elif args.image is not None:
        try:
            image = parse_image(args.image, args.profile)
        except ConfigError as error:
            problems.extend(error.problems)
    pipelines = None
    try:
        pipelines = load_pipelines(args.pipelines_path)
    except ConfigError as error:
        problems.extend(error.problems)
    if pipelines is not None and pipelines.size > CONFIGMAP_BUDGET:
        problems.append(
            Problem(
                "pipelinesPath",
                (
                    f"{args.pipelines_path} holds {pipelines.size} bytes, more than a ConfigMap carries "
                    f"({CONFIGMAP_BUDGET} of its 1 MiB limit); bake large pipelines into the image instead"
                ),
            )
        )
    if pipelines is not None:
        for index, required in enumerate(args.required_pipelines):
            if required not in pipelines.names:
                problems.append(
                    Problem(
                        f"requiredPipelines[{index}]",
                        f"{required!r} is not in {args.pipelines_path} (found: {', '.join(pipelines.names)})",
                    )
                )
    given = dict(secret_values or {})
    for env_name, source in args.secrets.items():
        if source.from_config is not None and env_name not in given:
            problems.append(
                Problem(
                    f"secrets.{env_name}.fromConfig",
                    f"no value given; set it with `pulumi config set --secret {source.from_config} <value>`",
                )
            )
        if source.from_store is not None and args.secret_store is None:
            problems.append(
                Problem(
                    "secretStore",
                    f"required by secrets.{env_name}.fromStore: name the (Cluster)SecretStore to read from",
                )
            )
    if args.autoscaling.enabled and args.autoscaling.min_replicas > args.autoscaling.max_replicas:
        problems.append(Problem("autoscaling.maxReplicas", "must be at least minReplicas"))
    if args.profile is Profile.PRODUCTION:
        problems.extend(service_problems(args))
    if problems:
        raise ConfigError(problems)
    assert pipelines is not None
    env = server_env(_effective_server(args))
    return ServicePlan(name=name, args=args, namespace=args.namespace.name, pipelines=pipelines, image=image, env=env)


def _effective_server(args: HayhooksServiceArgs):
    """Behind an ingress that alone can reach the pods, trust its forwarded headers."""
    server = args.server
    if server.forwarded_allow_ips is None and args.ingress is not None and args.network_policy.enabled:
        server = server.model_copy(update={"forwarded_allow_ips": "*"})
    return server
