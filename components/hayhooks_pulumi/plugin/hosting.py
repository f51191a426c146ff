"""How the plugin constructs a component from what another language sent: the same camelCase args a
stack file holds, an image that may be known only at deploy time, secrets from the caller's config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import pulumi

from ..errors import ConfigSource, reading
from ..stack_config import config_secret_values

IMAGE_KEY = "image"


class Hosted(Protocol):
    """The constructor the Python components share, which the plugin runs for another language."""

    def __init__(
        self,
        name: str,
        args: Mapping[str, Any],
        *,
        image: pulumi.Input[str] | None = None,
        secret_values: Mapping[str, pulumi.Input[str]] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...


def split_image(args: Mapping[str, Any]) -> tuple[dict[str, Any], pulumi.Input[str] | None]:
    """The args to validate now, and the image when it is an Output (validated inside `apply` then)."""
    config = dict(args)
    image = config.get(IMAGE_KEY)
    if isinstance(image, pulumi.Output):
        del config[IMAGE_KEY]
        return config, image
    return config, None


def host(
    base: type[Hosted],
    instance: Hosted,
    name: str,
    args: Mapping[str, Any],
    opts: pulumi.ResourceOptions | None,
) -> None:
    """Run the Python component's own constructor: `fromConfig` secrets are read from the calling
    stack's config (its project's namespace), as `load_stack_config` does for this repo's stacks."""
    config, image = split_image(args)
    values = config_secret_values(config, pulumi.Config())
    with reading(ConfigSource(secrets_from_config=True)):
        base.__init__(instance, name, config, image=image, secret_values=values, opts=opts)
