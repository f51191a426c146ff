"""What the production profile refuses, each with the config key to change."""

from __future__ import annotations

from ..errors import Problem
from ..rules import server_problems
from .args import AuthType, HayhooksServiceArgs

__all__ = ["server_problems", "service_problems"]


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
