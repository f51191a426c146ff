"""The facts every Docker builder shares, computed once from validated args: names, labels, env, workers."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..image import ImageRef
from ..pipelines import PipelineSet
from ..planning import (
    Problems,
    check_bind_address,
    check_image,
    check_name,
    check_pipelines,
    check_pipelines_dir,
    check_secret_names,
    missing_secret,
    recommended_labels,
    validate_args,
    without_profile_rules,
)
from ..profile import Profile
from ..server.env import plain_env
from .args import HayhooksContainerArgs, WorkloadType
from .envfile import read_env_file
from .rules import container_problems


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
        """One for I/O-bound pipelines; 2 x CPU limit + 1 for CPU-bound ones (the production guide's rule)."""
        if self.args.workload_type is WorkloadType.CPU and self.args.resources.cpus is not None:
            return int(2 * self.args.resources.cpus) + 1
        return 1

    @property
    def url(self) -> str | None:
        """Where the server answers on the host, or None when no port is published."""
        publish = self.args.publish
        if publish is None:
            return None
        address = ipaddress.ip_address(publish.host_ip)
        if address.is_unspecified:
            address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
        host = f"[{address}]" if address.version == 6 else str(address)
        return f"http://{host}:{publish.host_port}"


def plan_container(
    name: str,
    args: HayhooksContainerArgs | Mapping,
    *,
    image_given: bool = False,
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
    image = check_image(problems, args.image, image_given, args.profile)
    host_path = (base / args.pipelines_path).resolve()
    pipelines = check_pipelines(problems, str(host_path), durable=args.server.durable_mode)

    check_bind_address(problems, args.server.host, "the published port and the network alias", "publish.hostIp")
    check_pipelines_dir(problems, args.server.pipelines_dir)

    plain = plain_env(args.server)
    check_secret_names(problems, args.secrets, plain)
    given = dict(secret_values or {})
    config_secrets = []
    for env_name, source in args.secrets.items():
        if env_name in plain:
            continue
        if env_name in given:
            config_secrets.append(env_name)
        elif not source.optional:
            problems.add(
                f"secrets.{env_name}.fromConfig",
                f"{missing_secret(env_name, source.from_config)} (or mark the secret `optional: true`)",
            )

    env_file: dict[str, str] = {}
    if args.env_file is not None and args.profile is not Profile.PRODUCTION:
        with problems.collect():
            env_file = read_env_file(base / args.env_file)
        for env_name in env_file:
            if env_name in plain or env_name in args.secrets:
                problems.add("envFile", f"{env_name} is also set by this config; set each variable once")

    problems.extend(container_problems(args))
    problems.raise_if_any()
    assert pipelines is not None
    return ContainerPlan(
        name=name,
        args=args,
        image=image,
        pipelines=pipelines,
        pipelines_host_path=str(host_path),
        env=plain,
        config_secrets=tuple(config_secrets),
        labels=recommended_labels(name, image, args.labels),
        # Without an image the recommended labels leave out `app.kubernetes.io/version`.
        stable_labels=recommended_labels(name, None, args.labels),
        env_file=env_file,
    )
