"""The container: the production guide's Docker settings, hardened, health-checked and waited for; each
feature's part of its args from the feature's own module."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from ..planning import SHUTDOWN_MARGIN
from ..scratch import tmpfs_size
from ..server.facts import HOME_DIR, TMP_DIR, run_command
from .healthcheck import health_command, wait_timeout_seconds
from .logs import log_options
from .plan import ContainerPlan

PIPELINES_CHECKSUM_LABEL = "hayhooks.deepset.ai/pipelines-checksum"
# Inputs of `container_args` that the provider neither replaces the container for (upstream `ForceNew`) nor
# applies in place (its Update sends only the restart policy and the memory, CPU-share and cpuset limits):
# a change would show as an update and never reach the running container, so it replaces the container.
# (`wait`, `waitTimeout` and `destroyGraceSeconds` are neither too, but the provider itself reads them, at
# create and at delete.)
REPLACE_ON_CHANGES = ("healthcheck", "tmpfs")


def server_command(plan: ContainerPlan) -> list[str]:
    server = plan.args.server
    return run_command(server.host, server.port, plan.workers)


def plain_envs(plan: ContainerPlan) -> list[str]:
    return [f"{name}={value}" for name, value in plan.env.items()]


def tmpfs(plan: ContainerPlan) -> dict[str, str]:
    """Writable scratch space on a read-only root: `/tmp` for everyone, `HOME` owned by the server's user."""
    scratch, uid, gid = plan.args.scratch, plan.args.uid, plan.args.gid
    return {
        TMP_DIR: f"rw,noexec,nosuid,nodev,size={tmpfs_size(scratch.tmp_size)},mode=1777",
        HOME_DIR: f"rw,noexec,nosuid,nodev,size={tmpfs_size(scratch.home_size)},uid={uid},gid={gid},mode=0700",
    }


def ports(plan: ContainerPlan) -> list[docker.ContainerPortArgs] | None:
    publish = plan.args.publish
    if publish is None:
        return None
    return [
        docker.ContainerPortArgs(internal=plan.port, external=publish.host_port, ip=publish.host_ip, protocol="tcp")
    ]


def labels(plan: ContainerPlan) -> list[docker.ContainerLabelArgs]:
    """The recommended labels, plus the pipelines' checksum: a changed pipeline replaces the container,
    since durable mode loads the pipelines once at start-up."""
    values = {**plan.labels, PIPELINES_CHECKSUM_LABEL: plan.pipelines.checksum}
    return [docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(values.items())]


def pipelines_mount(plan: ContainerPlan, volume: pulumi.Input[str] | None) -> docker.ContainerVolumeArgs:
    """Read-only at the pipelines dir: the folder bind-mounted from this machine, or the `volume` they were copied
    into (an engine elsewhere)."""
    directory = plan.args.server.pipelines_dir
    if volume is None:
        return docker.ContainerVolumeArgs(host_path=plan.pipelines_host_path, container_path=directory, read_only=True)
    return docker.ContainerVolumeArgs(volume_name=volume, container_path=directory, read_only=True)


def healthcheck_args(plan: ContainerPlan) -> docker.ContainerHealthcheckArgs:
    check = plan.args.healthcheck
    return docker.ContainerHealthcheckArgs(
        tests=health_command(plan),
        interval=check.interval,
        timeout=check.timeout,
        retries=check.retries,
        start_period=check.start_period,
        start_interval=check.start_interval,
    )


def stop_seconds(plan: ContainerPlan) -> int:
    return plan.args.server.graceful_shutdown_timeout + SHUTDOWN_MARGIN


def container_args(
    plan: ContainerPlan,
    image_id: pulumi.Input[str],
    network_name: pulumi.Input[str],
    secret_envs: Sequence[pulumi.Input[str]] = (),
    pipelines_volume: pulumi.Input[str] | None = None,
) -> docker.ContainerArgs:
    """`image_id` (not the repo digest, which would recreate the container on every refresh) of the pulled
    image; `secret_envs`: secret `KEY=VALUE` entries appended to the plain environment; `pipelines_volume`: the
    volume the pipelines were copied into, or None to bind-mount them."""
    resources = plan.args.resources
    check = plan.args.healthcheck
    return docker.ContainerArgs(
        name=plan.container_name,
        image=image_id,
        command=server_command(plan),
        envs=[*plain_envs(plan), *secret_envs],
        user=plan.args.user,
        read_only=True,
        tmpfs=tmpfs(plan),
        capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
        security_opts=["no-new-privileges:true"],
        memory=resources.memory_mb,
        cpus=None if resources.cpus is None else str(resources.cpus),
        volumes=[pipelines_mount(plan, pipelines_volume)],
        ports=ports(plan),
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=[plan.alias])],
        healthcheck=healthcheck_args(plan),
        wait=check.wait,
        wait_timeout=wait_timeout_seconds(plan) if check.wait else None,
        restart="unless-stopped",
        stop_signal="SIGTERM",
        stop_timeout=stop_seconds(plan),
        destroy_grace_seconds=stop_seconds(plan),
        log_driver=plan.args.log_options.driver.value,
        log_opts=log_options(plan),
        labels=labels(plan),
    )
