"""The checks of a Docker container that runs Hayhooks: its health check, and the hardening the
component always applies.

A Docker container (`docker:index/container:Container`) is checked when it runs the `hayhooks`
command (its `image` is usually an image ID, so it cannot say). Each check returns its messages;
the catalog names the rule they break.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..server.facts import STATUS_PATH
from .env import ServerEnv
from .objects import Resource, as_mapping, as_seq, dig, runs_hayhooks, strings
from .privileges import ROOT_USERS, capability_problems

DOCKER_CONTAINER_TYPE = "docker:index/container:Container"
_NO_NEW_PRIVILEGES = {"no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"}
_HOST_MODES = ("networkMode", "pidMode", "ipcMode")


@dataclass(frozen=True)
class DockerContainer:
    props: Mapping[str, Any]
    env: ServerEnv
    subject: str


def docker_container(resource: Resource) -> DockerContainer | None:
    if resource.type != DOCKER_CONTAINER_TYPE:
        return None
    props = resource.props
    if not runs_hayhooks(as_seq(props.get("command")), ()):
        return None
    name = props.get("name") or resource.name or "(unnamed)"
    return DockerContainer(props, ServerEnv.from_docker(as_seq(props.get("envs"))), f"docker container {name}")


def check_health_check(c: DockerContainer) -> list[str]:
    tests = strings(dig(c.props, "healthcheck", "tests"))
    if not tests or tests[0] == "NONE":
        return [f"no health check: add one that asks {STATUS_PATH} (with the image's Python: it has no curl)"]
    if not any(STATUS_PATH in part for part in tests):
        return [f"the health check does not ask {STATUS_PATH}"]
    return []


def check_hardening(c: DockerContainer) -> list[str]:
    props = c.props
    problems = []
    if props.get("privileged") is True:
        problems.append("privileged is true")
    user = props.get("user")
    if not isinstance(user, str) or not user or user.split(":")[0] in ROOT_USERS:
        problems.append(f"user is {user!r}: run as a non-root uid:gid (the official image runs as root)")
    options = strings(props.get("securityOpts"))
    if not _NO_NEW_PRIVILEGES & set(options):
        problems.append("securityOpts lacks no-new-privileges:true")
    capabilities = as_mapping(props.get("capabilities"))
    problems += capability_problems(capabilities.get("drops"), capabilities.get("adds"), "capabilities")
    if props.get("readOnly") is not True:
        problems.append("readOnly (root filesystem) is not true (give /tmp and HOME a tmpfs)")
    problems += [f"{key} is host" for key in _HOST_MODES if props.get(key) == "host"]
    return problems
