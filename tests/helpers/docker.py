"""HayhooksContainer under the mock engine: development args, the registrations and outputs, and what
pulumi-docker does with each container input it is given."""

from __future__ import annotations

from typing import Any

from hayhooks_pulumi import HayhooksContainer

from helpers.engine import register
from helpers.paths import PIPELINES

DIGEST = "sha256:" + "cd" * 32
IMAGE = f"deepset/hayhooks:v2.1.0@{DIGEST}"
CONTAINER = "docker:index/container:Container"

# What pulumi-docker 5.x (kreuzwerker/docker's docker_container) does with a changed input that the component
# sets on a container: replaces the container (the input is ForceNew), updates it in place
# (resourceDockerContainerUpdate), or keeps it for itself (read at create, at read or at delete). Anything else
# never reaches the running container.
FORCE_NEW = {
    "name",
    "image",
    "command",
    "envs",
    "user",
    "readOnly",
    "capabilities",
    "securityOpts",
    "cpus",
    "volumes",
    "ports",
    "networksAdvanced",
    "stopSignal",
    "stopTimeout",
    "logDriver",
    "logOpts",
    "labels",
    "entrypoints",
    "networkMode",
    "uploads",
}
UPDATED_IN_PLACE = {"restart", "memory"}
PROVIDER_SIDE = {"wait", "waitTimeout", "destroyGraceSeconds", "start", "mustRun"}


def dev_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"profile": "development", "image": IMAGE, "pipelinesPath": PIPELINES}
    args.update(overrides)
    return args


def build(args: Any, name: str = "hh", **kwargs: Any) -> tuple[dict, dict]:
    """Registrations by name, and the component's resolved outputs."""
    outputs: dict[str, Any] = {}

    def program() -> None:
        component = HayhooksContainer(name, args, **kwargs)
        for key in ("container_name", "network_name", "url", "image_digest", "env"):
            getattr(component, key).apply(lambda v, k=key: outputs.__setitem__(k, v))

    return register(program), outputs


def of_type(registrations: dict, type_token: str) -> Any:
    matches = [r for r in registrations.values() if r.type == type_token]
    assert len(matches) == 1, f"expected one {type_token}, got {len(matches)}"
    return matches[0]
