"""What the pods' config must hold besides each value's own rule: pipelines that fit a ConfigMap and include the
required ones, a cache mount of its own, and in production a memory limit and room for a rollout or drain."""

from __future__ import annotations

from ...errors import Problem
from ...planning import overlaps
from ...quantity import parse_quantity
from ...scratch import size_bytes
from ...server.env import plain_env
from ...server.facts import HOME_DIR, IMAGE_DIRS, TMP_DIR
from ..proposal import Proposal
from .configmap_keys import key_collisions
from .models import CacheMedium

CONFIGMAP_BUDGET = 1_000_000  # bytes of the 1 MiB object limit left for file contents


def pipeline_problems(proposal: Proposal) -> list[Problem]:
    """The pipelines fit one ConfigMap (distinct keys, within its size) and hold every required one."""
    args, pipelines = proposal.args, proposal.pipelines
    if pipelines is None:
        return []
    problems = [
        Problem(
            "pipelinesPath",
            f"{' and '.join(paths)} would both be the ConfigMap key {key!r} ('/' becomes '--'): rename one",
        )
        for key, paths in key_collisions(pipelines.files).items()
    ]
    if pipelines.size > CONFIGMAP_BUDGET:
        problems.append(
            Problem(
                "pipelinesPath",
                f"{args.pipelines_path} holds {pipelines.size} bytes, more than a ConfigMap carries "
                f"({CONFIGMAP_BUDGET} of its 1 MiB limit); bake large pipelines into the image instead",
            )
        )
    for index, required in enumerate(args.required_pipelines):
        if required not in pipelines.names:
            problems.append(
                Problem(
                    f"requiredPipelines[{index}]",
                    f"{required!r} is not in {args.pipelines_path} (found: {', '.join(pipelines.names)})",
                )
            )
    return problems


def cache_problems(proposal: Proposal) -> list[Problem]:
    """The cache mount hides nothing and is hidden by nothing; its variables are set nowhere else; in memory it
    fits the memory limit it counts against."""
    args = proposal.args
    cache = args.cache
    if cache is None:
        return []
    problems = []
    others = [args.server.pipelines_dir, TMP_DIR, HOME_DIR, *IMAGE_DIRS]
    if args.secret_provider_class is not None:
        others.append(args.secret_provider_class.mount_path)
    for other in others:
        if overlaps(cache.mount_path, other):
            problems.append(
                Problem("cache.mountPath", f"{cache.mount_path} overlaps the container's mount or directory {other}")
            )
    taken = {**plain_env(args.server), **dict.fromkeys(args.secrets, "secret")}
    for index, name in enumerate(cache.env):
        if name in taken:
            problems.append(
                Problem(f"cache.env[{index}]", f"{name} is already set (server.extraEnv or secrets); set it once")
            )
    limit = args.resources.memory_limit
    if cache.medium is CacheMedium.MEMORY and limit is not None and size_bytes(cache.size) > parse_quantity(limit):
        problems.append(
            Problem(
                "cache.size",
                f"{cache.size} in memory is more than resources.memoryLimit ({limit}), which it counts against",
            )
        )
    return problems


def production_problems(proposal: Proposal) -> list[Problem]:
    """A memory limit, and at least two pods (one pod is an outage during a rollout or drain)."""
    args = proposal.args
    problems = []
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
    return problems
