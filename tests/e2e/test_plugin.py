"""The component plugin as an executable provider, `pulumi-resource-hayhooks` (installed on PATH with the
package): the engine runs it with no Python language host.

- `pulumi package get-schema` of it is `components/schema.json`.
- A Pulumi YAML program (another language: the toolchain's `pulumi-language-yaml`) declares
  `hayhooks:index:HayhooksService`, exports its outputs, goes up on the local cluster, previews with no change
  and is destroyed. This is the cross-language proof; YAML is the one language host other than Python that
  can be built here (see e2e/versions.env).

Stand-ins: pulumi-random (the password the component generates) and kwok's kubelet.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml
from cluster import Cluster
from engine import Engine

from .support import REPO, live


def program(pipelines: Path, image: str, namespace: str) -> dict[str, object]:
    return {
        "name": "hayhooks-yaml",
        "runtime": "yaml",
        "resources": {
            "chat": {
                "type": "hayhooks:index:HayhooksService",
                "properties": {
                    "profile": "production",
                    "image": image,
                    # The test's own namespace, kept by destroy as production's is.
                    "namespace": {"name": namespace},
                    "pipelinesPath": str(pipelines),
                    "requiredPipelines": ["greeter"],
                    "server": {"cors": {"allowOrigins": ["https://app.example.com"]}},
                    # No ingress controller publishes an address on the local cluster.
                    "ingress": {"host": "chat.example.com", "tlsSecretName": "chat-tls", "waitForAddress": False},
                },
            }
        },
        "outputs": {
            "url": "${chat.publicUrl}",
            "service": "${chat.serviceName}",
            "password": "${chat.basicAuthPassword}",
        },
    }


def test_get_schema_of_the_executable_is_the_committed_schema(engines: Callable[..., Engine], tmp_path: Path) -> None:
    """The engine's reading of the plugin's schema and of components/schema.json are the same bytes (the engine
    normalises a schema as it binds it: null descriptions and empty lists go, so both pass through it)."""
    (tmp_path / "empty").mkdir()
    engine = engines(tmp_path / "empty", "schema")
    plugin = engine.python.parent / "pulumi-resource-hayhooks"
    assert plugin.is_file(), f"{plugin} is missing: the package's entry point (run `make e2e-venv`)"
    served = engine.cli("package", "get-schema", str(plugin), stack=False)
    committed = engine.cli("package", "get-schema", str(REPO / "components" / "schema.json"), stack=False)
    assert served.returncode == 0, served.stderr
    assert committed.returncode == 0, committed.stderr
    assert json.loads(served.stdout)["resources"].keys() == {
        "hayhooks:index:HayhooksService",
        "hayhooks:index:HayhooksContainer",
    }
    assert served.stdout == committed.stdout


def test_a_pulumi_yaml_program_uses_the_component(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path, namespace: str
) -> None:
    project = tmp_path / "yaml-program"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        yaml.safe_dump(program(REPO / "pipelines", cluster.hayhooks_image, namespace), sort_keys=False)
    )
    engine = engines(project, "dev")
    assert (init := engine.cli("stack", "init", "dev", stack=False)).returncode == 0, init.stderr
    up = engine.cli("up", "--yes")
    assert up.returncode == 0, f"{up.stdout[-4000:]}\n{up.stderr[-4000:]}"
    assert "hayhooks:index:HayhooksService" in up.stdout
    outputs = json.loads(engine.cli("stack", "output", "--json", "--show-secrets").stdout)
    assert outputs["url"] == "https://chat.example.com"
    assert live(cluster, "service", namespace, outputs["service"]) is not None
    assert len(outputs["password"]) >= 20
    deployment = live(cluster, "deployment", namespace, "chat")
    assert deployment is not None and deployment["status"].get("readyReplicas", 0) >= 2

    again = engine.cli("preview", "--expect-no-changes")
    assert again.returncode == 0, f"{again.stdout[-4000:]}\n{again.stderr[-4000:]}"
    down = engine.cli("destroy", "--yes")
    assert down.returncode == 0, f"{down.stdout[-4000:]}\n{down.stderr[-4000:]}"
    assert live(cluster, "deployment", namespace, "chat") is None
