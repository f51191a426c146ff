"""The Deployment: one worker per pod, restricted security, probes on /status, graceful rollouts."""

from __future__ import annotations

import math

import pulumi
import pulumi_kubernetes as k8s

from ...planning import SHUTDOWN_MARGIN
from ...profile import Profile
from ...scratch import MIB, size_bytes
from ...server.facts import HOME_DIR, STATUS_PATH, TMP_DIR, run_command, status_url
from ..metadata import object_meta, selector
from ..plan import ServicePlan
from ..secrets.csi import csi_mount, csi_volume, uses_csi
from ..secrets.env import secret_env
from .configmap import configmap_items
from .models import CacheMedium, SpreadPolicy
from .service import PORT_NAME

CONTAINER_NAME = "hayhooks"
STARTUP_PERIOD = 5
# Seconds the exec readiness probe waits for /status; the probe allows 2 more for the interpreter.
READINESS_REQUEST_TIMEOUT = 3
PIPELINES_VOLUME = "pipelines"
CACHE_VOLUME = "cache"
ZONE_KEY = "topology.kubernetes.io/zone"
HOST_KEY = "kubernetes.io/hostname"
REPLICAS_PATH = "spec.replicas"
# What the container writes outside its emptyDirs (its root filesystem is read-only): its logs, of which the
# kubelet's default rotation keeps at most 5 files of 10Mi.
LOG_ALLOWANCE_BYTES = 64 * MIB
WHEN_UNSATISFIABLE = {SpreadPolicy.REQUIRED: "DoNotSchedule", SpreadPolicy.PREFERRED: "ScheduleAnyway"}


def server_command(plan: ServicePlan) -> tuple[list[str], list[str]]:
    """`hayhooks run` as command and args, with a single worker (scale with replicas)."""
    server = plan.args.server
    executable, *args = run_command(server.host, server.port, 1)
    return [executable], args


def readiness_paths(plan: ServicePlan) -> list[str]:
    """`/status/<name>` answers 404 until that pipeline has loaded: the per-pipeline readiness signal."""
    return [f"{STATUS_PATH}/{name}" for name in plan.args.required_pipelines] or [STATUS_PATH]


def readiness_script(port: int, required: list[str]) -> str:
    """One `GET /status` (it lists the loaded pipelines as `"pipelines": [...]`), exit 1 naming any required
    one missing: one request, however many pipelines, so the probe's timeout never scales with their number."""
    return (
        "import json, sys, urllib.request\n"
        f"with urllib.request.urlopen({status_url(port)!r}, timeout={READINESS_REQUEST_TIMEOUT}) as r:\n"
        "    loaded = set(json.load(r)['pipelines'])\n"
        f"missing = [name for name in {required!r} if name not in loaded]\n"
        "sys.exit('required pipelines not loaded: ' + ', '.join(missing) if missing else 0)\n"
    )


def readiness_probe(plan: ServicePlan) -> k8s.core.v1.ProbeArgs:
    period = plan.args.probes.readiness_period_seconds
    paths = readiness_paths(plan)
    if len(paths) == 1:
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path=paths[0], port=PORT_NAME),
            period_seconds=period,
            timeout_seconds=3,
            failure_threshold=3,
            success_threshold=1,
        )
    # Several required pipelines: one probe can name one path, so ask /status once with the image's
    # Python (the official image has no curl).
    script = readiness_script(plan.port, list(plan.args.required_pipelines))
    return k8s.core.v1.ProbeArgs(
        exec_=k8s.core.v1.ExecActionArgs(command=["python", "-c", script]),
        period_seconds=period,
        timeout_seconds=READINESS_REQUEST_TIMEOUT + 2,
        failure_threshold=3,
        success_threshold=1,
    )


def startup_probe(plan: ServicePlan) -> k8s.core.v1.ProbeArgs:
    """The port opens only after every pipeline loads, so the start-up budget is a probe, not a delay."""
    budget = plan.args.probes.startup_budget_seconds
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=STATUS_PATH, port=PORT_NAME),
        period_seconds=STARTUP_PERIOD,
        timeout_seconds=3,
        failure_threshold=math.ceil(budget / STARTUP_PERIOD),
    )


def liveness_probe(plan: ServicePlan) -> k8s.core.v1.ProbeArgs:
    """TCP, unlike readiness: a slow pipeline must make a pod unready, not restart it."""
    return k8s.core.v1.ProbeArgs(
        tcp_socket=k8s.core.v1.TCPSocketActionArgs(port=PORT_NAME),
        period_seconds=plan.args.probes.liveness_period_seconds,
        timeout_seconds=3,
        failure_threshold=3,
    )


def termination_grace_seconds(plan: ServicePlan) -> int:
    """Above the server's own drain timeout plus the preStop pause."""
    pause = plan.args.lifecycle.pre_stop_sleep_seconds
    return plan.args.server.graceful_shutdown_timeout + pause + SHUTDOWN_MARGIN


def lifecycle(plan: ServicePlan) -> k8s.core.v1.LifecycleArgs | None:
    """Lets the endpoint be removed from load balancers before the server stops accepting. The `sleep` handler
    needs Kubernetes >= 1.30 (older API servers drop the field and refuse the handler-less hook); 0 leaves it out."""
    seconds = plan.args.lifecycle.pre_stop_sleep_seconds
    if seconds == 0:
        return None
    return k8s.core.v1.LifecycleArgs(
        pre_stop=k8s.core.v1.LifecycleHandlerArgs(sleep=k8s.core.v1.SleepActionArgs(seconds=seconds))
    )


def container_env(plan: ServicePlan, config_secret: pulumi.Input[str] | None) -> list[k8s.core.v1.EnvVarArgs]:
    return [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in plan.env.items()] + secret_env(plan, config_secret)


def ephemeral_storage(plan: ServicePlan) -> str:
    """What the pod may write to the node's disk: its disk-backed emptyDirs (`/tmp`, `HOME`, a `disk` cache) at
    their size limits, and its logs. Requested and the limit alike, so the scheduler places the pod where that
    much is free and the kubelet evicts this pod, not its neighbours, when it writes more."""
    scratch, cache = plan.args.scratch, plan.args.cache
    total = size_bytes(scratch.tmp_size) + size_bytes(scratch.home_size) + LOG_ALLOWANCE_BYTES
    if cache is not None and cache.medium is CacheMedium.DISK:
        total += size_bytes(cache.size)
    return f"{total // MIB}Mi" if total % MIB == 0 else str(total)


def resources(plan: ServicePlan) -> k8s.core.v1.ResourceRequirementsArgs:
    spec = plan.args.resources
    storage = ephemeral_storage(plan)
    limits = {k: v for k, v in (("cpu", spec.cpu_limit), ("memory", spec.memory_limit)) if v is not None}
    return k8s.core.v1.ResourceRequirementsArgs(
        requests={"cpu": spec.cpu_request, "memory": spec.memory_request, "ephemeral-storage": storage},
        limits={**limits, "ephemeral-storage": storage},
    )


def container(
    plan: ServicePlan, image: pulumi.Input[str], config_secret: pulumi.Input[str] | None
) -> k8s.core.v1.ContainerArgs:
    command, args = server_command(plan)
    security = plan.args.security
    return k8s.core.v1.ContainerArgs(
        name=CONTAINER_NAME,
        image=image,
        image_pull_policy="IfNotPresent",
        command=command,
        args=args,
        ports=[k8s.core.v1.ContainerPortArgs(name=PORT_NAME, container_port=plan.port, protocol="TCP")],
        env=container_env(plan, config_secret),
        resources=resources(plan),
        startup_probe=startup_probe(plan),
        readiness_probe=readiness_probe(plan),
        liveness_probe=liveness_probe(plan),
        lifecycle=lifecycle(plan),
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            run_as_user=security.run_as_user,
            run_as_group=security.run_as_group,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        volume_mounts=volume_mounts(plan),
    )


def volume_mounts(plan: ServicePlan) -> list[k8s.core.v1.VolumeMountArgs]:
    mounts = [
        k8s.core.v1.VolumeMountArgs(name=PIPELINES_VOLUME, mount_path=plan.args.server.pipelines_dir, read_only=True),
        k8s.core.v1.VolumeMountArgs(name="tmp", mount_path=TMP_DIR),
        k8s.core.v1.VolumeMountArgs(name="home", mount_path=HOME_DIR),
    ]
    if plan.args.cache is not None:
        mounts.append(k8s.core.v1.VolumeMountArgs(name=CACHE_VOLUME, mount_path=plan.args.cache.mount_path))
    if uses_csi(plan):
        mounts.append(csi_mount(plan))
    return mounts


def cache_volume(plan: ServicePlan) -> k8s.core.v1.VolumeArgs:
    cache = plan.args.cache
    assert cache is not None
    medium = "Memory" if cache.medium is CacheMedium.MEMORY else None
    return k8s.core.v1.VolumeArgs(
        name=CACHE_VOLUME, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=cache.size, medium=medium)
    )


def volumes(plan: ServicePlan, configmap_name: pulumi.Input[str]) -> list[k8s.core.v1.VolumeArgs]:
    scratch = plan.args.scratch
    return [
        k8s.core.v1.VolumeArgs(
            name=PIPELINES_VOLUME,
            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                name=configmap_name, items=configmap_items(plan), default_mode=0o444
            ),
        ),
        k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=scratch.tmp_size)),
        k8s.core.v1.VolumeArgs(
            name="home", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=scratch.home_size)
        ),
        *([cache_volume(plan)] if plan.args.cache is not None else []),
        *([csi_volume(plan)] if uses_csi(plan) else []),
    ]


def tolerations(plan: ServicePlan) -> list[k8s.core.v1.TolerationArgs]:
    return [
        k8s.core.v1.TolerationArgs(
            key=t.key,
            operator=t.operator.value,
            value=t.value,
            effect=None if t.effect is None else t.effect.value,
            toleration_seconds=t.toleration_seconds,
        )
        for t in plan.args.pod.tolerations
    ]


def spread_choices(plan: ServicePlan) -> dict[str, SpreadPolicy]:
    """How strictly the pods are spread over nodes and zones (`pod.spread`, defaulted by profile)."""
    spread = plan.args.pod.spread
    production = plan.args.profile is Profile.PRODUCTION
    return {
        HOST_KEY: spread.nodes or (SpreadPolicy.REQUIRED if production else SpreadPolicy.PREFERRED),
        ZONE_KEY: spread.zones or SpreadPolicy.PREFERRED,
    }


def spread(plan: ServicePlan) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Nodes whose taints the pods do not tolerate count as no domain (`nodeTaintsPolicy: Honor`): otherwise an
    empty control-plane node would hold a required spread's skew, and a rollout's extra pod could not schedule."""
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable=WHEN_UNSATISFIABLE[choice],
            label_selector=selector(plan),
            node_taints_policy="Honor",
        )
        for key, choice in spread_choices(plan).items()
        if choice is not SpreadPolicy.OFF
    ]


def ignored_changes(plan: ServicePlan) -> list[str]:
    """With an autoscaler the manifest leaves `replicas` out, and `pulumi up` must not apply that removal while
    Pulumi still owns the field (server-side apply would reset it to 1 before the HPA acts): with `spec.replicas`
    ignored, the engine keeps the previous input and pulumi-kubernetes sends the live count while it owns the
    field, and drops it from the patch once the HPA has written it."""
    return [REPLICAS_PATH] if plan.args.autoscaling.enabled else []


def deployment_args(
    plan: ServicePlan,
    image: pulumi.Input[str],
    configmap_name: pulumi.Input[str],
    service_account_name: pulumi.Input[str],
    config_secret: pulumi.Input[str] | None = None,
) -> k8s.apps.v1.DeploymentInitArgs:
    """`config_secret`: the name the Secret of the `fromConfig` values got (a new one when a value changes,
    which rolls the pods)."""
    security, pod = plan.args.security, plan.args.pod
    return k8s.apps.v1.DeploymentInitArgs(
        metadata=object_meta(plan, plan.name),
        spec=k8s.apps.v1.DeploymentSpecArgs(
            # Left out when an autoscaler owns the count (see `ignored_changes` for the hand-over).
            replicas=None if plan.args.autoscaling.enabled else plan.args.replicas,
            revision_history_limit=5,
            selector=selector(plan),
            strategy=k8s.apps.v1.DeploymentStrategyArgs(
                type="RollingUpdate",
                rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
            ),
            template=k8s.core.v1.PodTemplateSpecArgs(
                # A pipeline change rolls the pods through the ConfigMap's name in `volumes`, which carries the
                # pipelines' checksum (one mechanism, no checksum annotation).
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=plan.labels, annotations=pod.annotations or None),
                spec=k8s.core.v1.PodSpecArgs(
                    service_account_name=service_account_name,
                    automount_service_account_token=False,
                    # Service links would inject HAYHOOKS_PORT=tcp://... for a Service named hayhooks.
                    enable_service_links=False,
                    termination_grace_period_seconds=termination_grace_seconds(plan),
                    security_context=k8s.core.v1.PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=security.run_as_user,
                        run_as_group=security.run_as_group,
                        fs_group=security.fs_group,
                        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    containers=[container(plan, image, config_secret)],
                    volumes=volumes(plan, configmap_name),
                    topology_spread_constraints=spread(plan) or None,
                    node_selector=pod.node_selector or None,
                    tolerations=tolerations(plan) or None,
                    image_pull_secrets=[
                        k8s.core.v1.LocalObjectReferenceArgs(name=name) for name in pod.image_pull_secrets
                    ]
                    or None,
                    priority_class_name=pod.priority_class_name,
                ),
            ),
        ),
    )
