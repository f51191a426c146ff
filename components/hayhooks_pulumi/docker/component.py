"""HayhooksContainer: wires the builders' args into resources, parented to the component."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_docker as docker

from ..errors import component_problems
from ..image import digest_of, resolve_image
from ..outputs import exports, known
from ..server.version import warn
from ..tokens import CONTAINER_TOKEN, kind_of
from .args import HayhooksContainerArgs
from .container import REPLACE_ON_CHANGES, container_args
from .engine import engine_address, on_this_machine
from .network import network_args
from .plan import plan_container
from .remote_image import remote_image_args
from .secrets import secret_envs
from .volume import copier_args, volume_args

TYPE_TOKEN = CONTAINER_TOKEN
KIND = kind_of(TYPE_TOKEN)


class HayhooksContainer(pulumi.ComponentResource):
    """Hayhooks on a local Docker engine, as the production guide's Docker section says.

    Everything that can be checked on plain values is checked before the first child
    registers: a bad config raises `ConfigError` (naming each key) and changes nothing.
    """

    container_name: pulumi.Output[str]
    """The container's name."""
    network_name: pulumi.Output[str]
    """The container's own network; other containers on it reach the server by its alias."""
    url: pulumi.Output[str | None]
    """The URL on the host's published port; unset when nothing is published."""
    image_digest: pulumi.Output[str | None]
    """The pulled image's digest (`sha256:...`, from its repository digest); unset when the engine reports none."""
    env: pulumi.Output[dict[str, str]]
    """The server's environment as the container gets it, secrets left out."""

    def __init__(
        self,
        name: str,
        args: HayhooksContainerArgs | Mapping[str, Any],
        *,
        image: pulumi.Input[str] | None = None,
        secret_values: Mapping[str, pulumi.Input[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`args`: the validated model or its camelCase dict; `image` overrides `args.image` with a
        value known only at deploy time (validated inside `apply`); `secret_values`: the values of
        `fromConfig` secrets, by environment variable name."""
        values = dict(secret_values or {})
        with component_problems(KIND, name):
            plan = plan_container(name, args, image=image, secret_values=values)
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.plan = plan
        warn(plan.warnings, self)
        child = pulumi.ResourceOptions(parent=self)
        image_ref = resolve_image(image if image is not None else str(plan.image), plan.args.profile)

        network = docker.Network(
            f"{name}-network",
            network_args(plan),
            # The name stays fixed: other containers join the network by it (`networkName`). A replacement
            # (a changed label or driver) would create the new network before deleting the old one, and
            # Docker 25+ refuses a second network of one name; deleting first also makes the engine delete
            # the container before the network it is attached to (its `networksAdvanced` names it).
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        remote = docker.RemoteImage(f"{name}-image", remote_image_args(image_ref), opts=child)
        # An engine elsewhere cannot bind-mount a folder of this machine: the pipelines are copied to it instead.
        volume: docker.Volume | None = None
        copied: list[pulumi.Resource] = []
        if not on_this_machine(engine_address(self)):
            volume = docker.Volume(f"{name}-pipelines", volume_args(plan), opts=child)
            copier = docker.Container(
                f"{name}-pipelines-copy",
                copier_args(plan, remote.image_id, volume.name),
                # Its name changes with the pipelines only: a new image replaces it under the same name.
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
            copied.append(copier)
        secret = secret_envs(plan, values)
        container = docker.Container(
            f"{name}-container",
            container_args(plan, remote.image_id, network.name, secret, volume.name if volume else None),
            opts=pulumi.ResourceOptions(
                parent=self,
                # Created once the files are in the volume.
                depends_on=copied,
                # The provider echoes `envs` back; keep the whole list secret in state when any entry is.
                additional_secret_outputs=["envs"] if secret else None,
                replace_on_changes=list(REPLACE_ON_CHANGES),
                # The container's name is fixed, and Docker refuses a second container of one name. The provider
                # asks for delete-first only when its own diff finds a replacement, not for one that
                # `replace_on_changes` makes.
                delete_before_replace=True,
            ),
        )

        self.container_name = container.name
        self.network_name = network.name
        self.url = pulumi.Output.from_input(plan.url)
        self.image_digest = remote.repo_digest.apply(digest_of)
        self.env = known(dict(plan.env))
        # What a stack exports of this component: the outputs declared above, by the names it registers them under.
        self.exports = exports(self, HayhooksContainer)
        self.register_outputs(self.exports)
