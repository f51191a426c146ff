"""The image, pulled by its pinned reference."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker


def remote_image_args(image: pulumi.Input[str]) -> docker.RemoteImageArgs:
    """`image` is the validated reference (`repo:tag@sha256:...`). The image stays on the host on destroy:
    other containers may use it, and a re-pull of a pinned digest gains nothing."""
    return docker.RemoteImageArgs(name=image, keep_locally=True)
