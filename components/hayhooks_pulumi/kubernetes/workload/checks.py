"""What the pods' config must hold besides each value's own rule: pipelines that fit a ConfigMap and include the
required ones, a cache mount of its own, one owner of the pod count, a disruption budget a drain can finish, a
durable store every pod shares, and in production a memory limit the server starts in and room for a rollout or
drain."""

from __future__ import annotations

from ...errors import Problem
from ...planning import overlaps
from ...quantity import parse_quantity
from ...scratch import MIB, size_bytes
from ...server.checks import name_case_problems
from ...server.env import plain_env
from ...server.facts import HOME_DIR, IMAGE_DIRS, MEASURED_SERVER_MIB, MIN_MEMORY_LIMIT_MIB, TMP_DIR
from ...server.models import DurableStore
from ..args import HayhooksServiceArgs
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


def fewest_pods(args: HayhooksServiceArgs) -> tuple[int, str]:
    """The fewest pods that run, and the key that sets it: `autoscaling.minReplicas` with an autoscaler."""
    if args.autoscaling.enabled:
        return args.autoscaling.min_replicas, "autoscaling.minReplicas"
    return args.replicas, "replicas"


def most_pods(args: HayhooksServiceArgs) -> int:
    return args.autoscaling.max_replicas if args.autoscaling.enabled else args.replicas


def scaling_problems(proposal: Proposal) -> list[Problem]:
    """One owner of the pod count; a disruption budget that lets a drain finish; one durable store for all pods."""
    args = proposal.args
    problems = []
    if args.autoscaling.enabled and "replicas" in args.model_fields_set:
        problems.append(
            Problem(
                "replicas",
                "set while autoscaling.enabled is true, where the autoscaler owns the count and the Deployment "
                f"leaves replicas out; leave it unset and set autoscaling.minReplicas instead (now "
                f"{args.autoscaling.min_replicas}) for the fewest pods",
            )
        )
    budget = args.disruption_budget
    pods, key = fewest_pods(args)
    if budget.enabled and budget.min_available is not None and budget.min_available >= pods:
        problems.append(
            Problem(
                "disruptionBudget.minAvailable",
                f"{budget.min_available} leaves a drain no pod to evict when {pods} run ({key}), so it never "
                f"finishes; set it below {pods}, or use maxUnavailable",
            )
        )
    store = args.server.durable_store
    if store is DurableStore.MEMORY and most_pods(args) > 1:
        problems.append(
            Problem(
                "server.durableStore",
                f"'memory' keeps each pod's durable executions in that pod alone: with up to {most_pods(args)} pods "
                "a client that starts a run on one pod and follows it on another finds nothing, and a restart "
                "loses the runs durable mode promises to keep; use 'redis' (server.durableRedisUrl), shared by "
                "every pod, or run one pod (development)",
            )
        )
    return problems


def production_problems(proposal: Proposal) -> list[Problem]:
    """A memory limit the server starts in, at least two pods (one pod is an outage during a rollout or drain),
    and a disruption budget that never lets a drain take them all."""
    args = proposal.args
    problems = []
    limit = args.resources.memory_limit
    if limit is None:
        problems.append(
            Problem("resources.memoryLimit", "required in production (a pod without one can starve its node)")
        )
    elif parse_quantity(limit) < MIN_MEMORY_LIMIT_MIB * MIB:
        problems.append(
            Problem(
                "resources.memoryLimit",
                f"{limit} is below {MIN_MEMORY_LIMIT_MIB}Mi, the least production accepts: the server alone holds "
                f"about {MEASURED_SERVER_MIB} MiB once started with small pipelines, so the pod would be OOM-killed "
                "at start; give it what your pipelines need (the default is 2Gi)",
            )
        )
    if args.cache is not None:
        problems += name_case_problems({f"cache.env[{index}]": name for index, name in enumerate(args.cache.env)})
    budget = args.disruption_budget
    pods, key = fewest_pods(args)
    if budget.enabled and budget.min_available is None and budget.max_unavailable >= pods >= 2:
        problems.append(
            Problem(
                "disruptionBudget.maxUnavailable",
                f"{budget.max_unavailable} lets a drain evict every pod when {pods} run ({key}): the service is "
                f"down until they start elsewhere; set it below {pods} (1 keeps the most running)",
            )
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
