"""What the production profile refuses, each with the config key to change."""

from __future__ import annotations

from ..errors import Problem
from ..settings import WILDCARD, LogLevel, ServerSettings
from .args import AuthType, HayhooksServiceArgs

_NOISY_LEVELS = {LogLevel.DEBUG, LogLevel.TRACE}


def server_problems(server: ServerSettings, prefix: str = "server") -> list[Problem]:
    """Production rules on server settings, shared by every target."""
    problems = []
    cors = server.cors
    if WILDCARD in cors.allow_origins:
        problems.append(
            Problem(f"{prefix}.cors.allowOrigins", "'*' is refused in production: list the origins of your front-ends")
        )
    if WILDCARD in cors.allow_methods:
        problems.append(
            Problem(f"{prefix}.cors.allowMethods", "'*' is refused in production: list the methods (e.g. GET, POST)")
        )
    if server.show_tracebacks:
        problems.append(
            Problem(f"{prefix}.showTracebacks", "must be false in production (tracebacks leak code and data)")
        )
    if server.log_level in _NOISY_LEVELS:
        problems.append(
            Problem(
                f"{prefix}.logLevel",
                f"{server.log_level.value} is refused in production (it logs request payloads); use INFO or higher",
            )
        )
    if not server.durable_mode:
        problems.append(
            Problem(
                f"{prefix}.durableMode",
                "must be true in production: without it the server rewrites YAML pipelines in a writable "
                "pipelines dir and serves the code-upload routes (/deploy_files, /deploy-yaml, /undeploy)",
            )
        )
    return problems


def service_problems(args: HayhooksServiceArgs) -> list[Problem]:
    """Production rules of a Kubernetes service."""
    problems = server_problems(args.server)
    if args.resources.memory_limit is None:
        problems.append(
            Problem("resources.memoryLimit", "required in production (a pod without one can starve its node)")
        )
    if args.autoscaling.enabled:
        if args.autoscaling.min_replicas < 2:
            problems.append(
                Problem(
                    "autoscaling.minReplicas",
                    "must be at least 2 in production (one pod is an outage during a rollout or drain)",
                )
            )
    elif args.replicas < 2:
        problems.append(
            Problem("replicas", "must be at least 2 in production (one pod is an outage during a rollout or drain)")
        )
    if args.ingress is not None:
        if args.ingress.auth is AuthType.NONE:
            problems.append(
                Problem(
                    "ingress.auth", "'none' is refused in production: a public edge needs authentication (e.g. basic)"
                )
            )
        if args.ingress.tls_secret_name is None:
            problems.append(
                Problem(
                    "ingress.tlsSecretName",
                    "required in production: the server has no TLS of its own, it ends at the ingress",
                )
            )
    return problems
