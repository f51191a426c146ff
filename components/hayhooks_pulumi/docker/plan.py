"""The facts every Docker builder shares, computed once from validated args (names, labels, env, workers), and
every feature's checks, run before anything registers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem
from ..image import ImageRef
from ..pipelines import PipelineSet
from ..planning import (
    Problems,
    check_bind_address,
    check_image,
    check_name,
    check_pipelines,
    check_pipelines_dir,
    check_release,
    check_secret_names,
    recommended_labels,
    validate_args,
    without_profile_rules,
)
from ..profile import Profile
from ..server.checks import server_problems
from ..server.env import plain_env
from ..server.logs import log_color_problems, with_log_colors
from ..server.version import ServerVersion
from .args import HayhooksContainerArgs
from .envfile import env_file_production_problems, env_file_variables
from .publish import publish_production_problems, published_url
from .secrets import config_secrets, secrets_production_problems
from .workload import resources_production_problems, workers, workload_problems

# What the production profile refuses on Docker beyond the shared server rules, feature by feature.
PRODUCTION_CHECKS = (
    resources_production_problems,
    env_file_production_problems,
    publish_production_problems,
    secrets_production_problems,
)


def container_problems(args: HayhooksContainerArgs) -> list[Problem]:
    """What the config may not combine, then in production the shared server rules and each feature's own."""
    problems = workload_problems(args)
    if args.profile is Profile.PRODUCTION:
        problems += server_problems(args.server)
        for check in PRODUCTION_CHECKS:
            problems += check(args)
    return problems


@dataclass(frozen=True)
class ContainerPlan:
    """Derived once; builders read it and never recompute."""

    name: str
    args: HayhooksContainerArgs
    image: ImageRef | None
    pipelines: PipelineSet
    pipelines_host_path: str
    env: dict[str, str]
    """The plain (non-secret) environment, exactly as the server parses it."""
    config_secrets: tuple[str, ...]
    """Names of the secret variables whose values are given from Pulumi config."""
    labels: dict[str, str]
    """The recommended labels plus the caller's, on the container (computed once per plan)."""
    stable_labels: dict[str, str]
    """The same without the image version, for resources whose labels force their replacement (the network, the
    pipelines' volume and copy): nothing that changes with a release may be among them."""
    env_file: dict[str, str] = field(default_factory=dict, repr=False)
    """Variables read from `envFile`; their values are secret."""
    server_version: ServerVersion | None = None
    """The Hayhooks release the container runs and the settings table it was checked against."""
    warnings: tuple[str, ...] = ()
    """What the checks let pass but the deployer should read (a release newer than the package knows)."""

    @property
    def container_name(self) -> str:
        return self.name

    @property
    def network_name(self) -> str:
        return f"{self.name}-network"

    @property
    def alias(self) -> str:
        """The name other containers on the network reach the server by."""
        return self.name

    @property
    def port(self) -> int:
        return self.args.server.port

    @property
    def workers(self) -> int:
        """The number of server processes."""
        return workers(self.args)

    @property
    def url(self) -> str | None:
        """Where the server answers on the host, or None when no port is published."""
        return published_url(self.args.publish)


def plan_container(
    name: str,
    args: HayhooksContainerArgs | Mapping,
    *,
    image: object = None,
    secret_values: Mapping[str, object] | None = None,
    cwd: str | Path | None = None,
) -> ContainerPlan:
    """Validate everything that can be validated on plain values; raise one ConfigError listing all problems.
    Relative paths (`pipelinesPath`, `envFile`) are resolved against `cwd` (default: the working directory)."""
    problems = Problems()
    check_name(problems, name)
    valid = validate_args(HayhooksContainerArgs, args, problems)
    if valid is None:  # every check below needs the model
        problems.raise_if_any()
    assert valid is not None
    args = valid
    base = Path(cwd) if cwd is not None else Path.cwd()
    args = without_profile_rules(args, problems)
    image_ref = check_image(problems, args.image, image, args.profile)
    release, notes = check_release(problems, image_ref, image, args.server, args.secrets)
    host_path = (base / args.pipelines_path).resolve()
    pipelines = check_pipelines(problems, str(host_path), durable=args.server.durable_mode)

    check_bind_address(problems, args.server.host, "the published port and the network alias", "publish.hostIp")
    check_pipelines_dir(problems, args.server.pipelines_dir)

    server = with_log_colors(args.server, args.profile)
    problems.extend(log_color_problems(server))
    plain = plain_env(server, release.table if release is not None else None)
    check_secret_names(problems, args.secrets, plain)
    secret_names, missing = config_secrets(args, plain, secret_values or {})
    problems.extend(missing)
    env_file, env_file_problems = env_file_variables(args, base, [*plain, *args.secrets])
    problems.extend(env_file_problems)

    problems.extend(container_problems(args))
    problems.raise_if_any()
    assert pipelines is not None
    return ContainerPlan(
        name=name,
        args=args,
        image=image_ref,
        pipelines=pipelines,
        pipelines_host_path=str(host_path),
        env=plain,
        config_secrets=secret_names,
        labels=recommended_labels(name, image_ref, args.labels),
        # Without an image the recommended labels leave out `app.kubernetes.io/version`.
        stable_labels=recommended_labels(name, None, args.labels),
        env_file=env_file,
        server_version=release,
        warnings=tuple(notes),
    )
