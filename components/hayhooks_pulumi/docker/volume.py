"""The pipelines copied into a volume, for an engine on another machine: a bind mount there would name a folder
of the engine's host, which does not hold them, and the server would start with no pipelines.

The provider copies files into a container once, when it creates it, before it would start it (`uploads`), and
Docker refuses to copy into a read-only root filesystem, which the server's container has. So a second container,
created and never started, takes the files: Docker writes them into the volume mounted at the pipelines dir,
and the server's container mounts that volume read-only."""

from __future__ import annotations

import base64
import posixpath

import pulumi
import pulumi_docker as docker

from .plan import ContainerPlan


def volume_name(plan: ContainerPlan) -> str:
    """`<name>-pipelines-<first 8 hex of the pipelines' checksum>`, for the volume and the copying container: new
    content is a new volume, filled before the server's container is replaced to mount it; the old one is removed
    after."""
    return f"{plan.name}-pipelines-{plan.pipelines.short_checksum}"


def volume_args(plan: ContainerPlan) -> docker.VolumeArgs:
    # A volume cannot be updated either: its labels are the stable ones, or a release would replace it.
    return docker.VolumeArgs(
        name=volume_name(plan),
        labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in plan.stable_labels.items()],
    )


def upload(directory: str, path: str, content: bytes) -> docker.ContainerUploadArgs:
    """One file, as text where it is UTF-8 (readable in the render and in state), else base64."""
    file = posixpath.join(directory, path)
    try:
        return docker.ContainerUploadArgs(file=file, content=content.decode("utf-8"))
    except UnicodeDecodeError:
        return docker.ContainerUploadArgs(file=file, content_base64=base64.b64encode(content).decode())


def copier_args(plan: ContainerPlan, image_id: pulumi.Input[str], volume: pulumi.Input[str]) -> docker.ContainerArgs:
    """Created, never started (`mustRun: false`, or the provider would take a stopped container for a failed one),
    from the server's image, so nothing else is pulled; were it ever started, it would exit at once, without a
    network, capabilities or root."""
    directory = plan.args.server.pipelines_dir
    return docker.ContainerArgs(
        name=volume_name(plan),
        image=image_id,
        entrypoints=["python", "-c", "pass"],
        start=False,
        must_run=False,
        network_mode="none",
        user=plan.args.user,
        capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
        security_opts=["no-new-privileges:true"],
        volumes=[docker.ContainerVolumeArgs(volume_name=volume, container_path=directory)],
        uploads=[upload(directory, path, content) for path, content in plan.pipelines.files.items()],
        labels=[docker.ContainerLabelArgs(label=k, value=v) for k, v in plan.stable_labels.items()],
    )
