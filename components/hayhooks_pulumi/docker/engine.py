"""Which Docker engine the containers go to, read as pulumi-docker reads it: one on this machine can bind-mount
a folder of this machine, any other cannot (its host path would name a folder of the engine's host)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import pulumi

# The provider's own default for `docker:host`.
DEFAULT_HOST = "unix:///var/run/docker.sock"
# Addresses that only an engine on this machine answers on. A `tcp://` address never counts, even on loopback:
# it may be a tunnel to another host, and copying the pipelines works on every engine.
LOCAL_SCHEMES = frozenset({"unix", "npipe"})


def engine_address(resource: pulumi.Resource) -> str | None:
    """The address of the engine that `resource`'s Docker children go to, or None where the program cannot know
    it: a Docker provider passed in (to the resource or a parent), or a Docker context (`docker:context`, then
    `DOCKER_CONTEXT`), which overrides the host and whose endpoint is in the Docker CLI's files. Else
    `docker:host`, then `DOCKER_HOST`, then the provider's default."""
    # `get_provider` looks up the package of the type it is given.
    if resource.get_provider("docker:index/container:Container") is not None:
        return None
    config = pulumi.Config("docker")
    # An empty value counts as unset, as the provider reads its variables.
    if config.get("context") or os.environ.get("DOCKER_CONTEXT"):
        return None
    return config.get("host") or os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def on_this_machine(address: str | None) -> bool:
    """A unix socket or a named pipe."""
    return address is not None and urlsplit(address).scheme in LOCAL_SCHEMES
