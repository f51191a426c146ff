"""`server.pipelinesDir` is a mount of its own: never on or inside the container's writable mounts (/tmp,
HOME) nor holding them (the API server refuses a Pod with two mounts at one path: "mountPath must be
unique"), and never over what the image ships (its venv, the system directories), which it would hide."""

from __future__ import annotations

from typing import Any

import pytest
from hayhooks_pulumi import ConfigError
from hayhooks_pulumi.docker.plan import plan_container
from hayhooks_pulumi.kubernetes.plan import plan_service
from helpers.paths import REPO

IMAGE = "deepset/hayhooks:v2.1.0"
TARGETS = {"kubernetes": plan_service, "docker": plan_container}


def _args(pipelines_dir: str) -> dict[str, Any]:
    return {
        "profile": "development",
        "image": IMAGE,
        "pipelinesPath": str(REPO / "pipelines"),
        "server": {"pipelinesDir": pipelines_dir},
    }


REFUSED = {
    "/tmp": "overlaps the container's writable mount at /tmp",
    "/tmp/pipelines": "overlaps the container's writable mount at /tmp",
    "/home/hayhooks": "overlaps the container's writable mount at /home/hayhooks",
    "/home/hayhooks/pipelines": "overlaps the container's writable mount at /home/hayhooks",
    "/home": "overlaps the container's writable mount at /home/hayhooks",
    "/opt/venv": "the image's /opt/venv",
    "/opt": "the image's /opt/venv",
    "/usr": "the image's /usr",
    "/usr/local/lib/pipelines": "the image's /usr",
    "/etc": "the image's /etc",
    "/bin": "the image's /bin",
    "/lib": "the image's /lib",
}


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("pipelines_dir", sorted(REFUSED))
def test_a_pipelines_dir_on_another_mount_or_the_image_is_refused(target: str, pipelines_dir: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TARGETS[target]("hh", _args(pipelines_dir))
    (problem,) = caught.value.problems
    assert problem.path == "server.pipelinesDir"
    assert problem.message.startswith(f"{pipelines_dir} ")
    assert REFUSED[pipelines_dir] in problem.message


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("pipelines_dir", ["/opt/hayhooks/pipelines", "/srv/pipelines", "/pipelines", "/opt/venvs"])
def test_a_pipelines_dir_of_its_own_is_fine(target: str, pipelines_dir: str) -> None:
    assert TARGETS[target]("hh", _args(pipelines_dir)).args.server.pipelines_dir == pipelines_dir
