"""The real server's log lines carry no ANSI colour codes with the environment production renders, on both targets
(issue 19: `Started server process [\\x1b[36m1\\x1b[0m]` in the pods' logs, stored raw by log collectors); with the
development render's environment they do, which is what this test would miss if it could not see them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers.paths import REPO
from helpers.render import Renders, render

from .rendered_server import docker_env, kubernetes_env, rendered_server

pytestmark = pytest.mark.live

ESC = "\x1b["


def _served_output(env: dict[str, str], workdir: Path, name: str) -> str:
    """Everything the server wrote while it started, ran both example pipelines and stopped."""
    with rendered_server(env, workdir, name) as server:
        assert server.run("greeter", {"name": "Ada"}) == 200
        assert server.run("qa-prompt", {"context": "c", "question": "q"}) == 200
    return server.process.output()


def _production_docker(tmp_path: Path) -> Path:
    """The dev stack as a production HayhooksContainer would be configured."""
    document = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    service = document["config"]["hayhooks:service"]
    service.update(profile="production", image=f"deepset/hayhooks:v2.1.0@sha256:{'ab' * 32}")
    service["server"].update(logLevel="INFO", showTracebacks=False)
    path = tmp_path / "Pulumi.docker-prod.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _kubernetes_production(stack_render: Renders, tmp_path: Path) -> dict[str, str]:
    rendered = stack_render("prod")
    assert rendered.result.returncode == 0, rendered.result.stderr
    return kubernetes_env(rendered.out)


def _docker_production(stack_render: Renders, tmp_path: Path) -> dict[str, str]:
    result = render("docker-prod", tmp_path / "render", _production_docker(tmp_path))
    assert result.returncode == 0, result.stderr
    return docker_env(tmp_path / "render")


@pytest.mark.parametrize("target", [_kubernetes_production, _docker_production], ids=["kubernetes", "docker"])
def test_production_logs_carry_no_colour_codes(
    target: Callable[[Renders, Path], dict[str, str]], stack_render: Renders, tmp_path: Path
) -> None:
    env = target(stack_render, tmp_path)
    output = _served_output(env, tmp_path, "production")
    assert ESC not in output, [line for line in output.splitlines() if ESC in line]
    # Still the server's log: its own lines and the access log.
    assert "Loaded pipeline 'greeter'" in output and '"POST /greeter/run HTTP/1.1" 200' in output, output


def test_the_development_environment_keeps_the_servers_colour(stack_render: Renders, tmp_path: Path) -> None:
    rendered = stack_render("dev")
    assert rendered.result.returncode == 0, rendered.result.stderr
    output = _served_output(docker_env(rendered.out), tmp_path, "development")
    assert ESC in output, output
