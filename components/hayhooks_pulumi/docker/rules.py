"""What a container config may not combine, and what the production profile refuses on Docker."""

from __future__ import annotations

from ..errors import Problem
from ..profile import Profile
from ..server.checks import server_problems
from .args import HayhooksContainerArgs, PublishAuth, WorkloadType


def workload_problems(args: HayhooksContainerArgs) -> list[Problem]:
    """`cpu` runs several worker processes, which durable mode (and a missing CPU limit) rules out."""
    if args.workload_type is not WorkloadType.CPU:
        return []
    problems = []
    if args.server.durable_mode:
        problems.append(
            Problem(
                "workloadType",
                "'cpu' runs `hayhooks run --workers <2 x cpus + 1>`, and durable mode serves one process per "
                "server (the server exits with more). Choose one: keep server.durableMode true with workloadType "
                "'io' and scale by running more containers (required in production), or set server.durableMode "
                "false (development only) to use several workers on one host",
            )
        )
    if args.resources.cpus is None:
        problems.append(
            Problem("resources.cpus", "required with workloadType 'cpu': the number of workers is 2 x cpus + 1")
        )
    return problems


def production_problems(args: HayhooksContainerArgs) -> list[Problem]:
    """The shared server rules, plus what Docker adds: a memory limit, no env file, no open unauthenticated port."""
    problems = server_problems(args.server)
    if args.resources.memory is None:
        problems.append(
            Problem("resources.memory", "required in production (a container without one can starve its host)")
        )
    if args.env_file is not None:
        problems.append(
            Problem(
                "envFile",
                "refused in production: an env file is for local testing only; pass secrets with `secrets` "
                "(`pulumi config set --secret`), which keeps them encrypted in state",
            )
        )
    publish = args.publish
    if publish is not None and not publish.loopback and publish.auth is PublishAuth.NONE:
        problems.append(
            Problem(
                "publish.hostIp",
                f"{publish.host_ip} publishes the server beyond this host, and the server has no authentication "
                "of its own, so production refuses it with publish.auth 'none'. Publish on 127.0.0.1 behind an "
                "authenticating reverse proxy, or set publish: null and let the proxy reach the server on its "
                "network, or set publish.auth 'external' if something in front of the port authenticates clients",
            )
        )
    return problems


def container_problems(args: HayhooksContainerArgs) -> list[Problem]:
    problems = workload_problems(args)
    if args.profile is Profile.PRODUCTION:
        problems.extend(production_problems(args))
    return problems
