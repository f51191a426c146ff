"""A platform team's project (examples/consumer) against the package installed on its own.

The package is installed from a copy of components/ into a fresh virtualenv outside the
repository, exactly as the example's requirements.txt asks (its git URL swapped for that copy),
and the example project, also copied out, is rendered with that virtualenv's interpreter in
isolated mode: nothing of the repository is importable there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hayhooks_pulumi import __version__
from hayhooks_pulumi.crds import CRD_DIR
from hayhooks_pulumi.render.schemas import validate_render
from helpers.paths import REPO

CONSUMER = REPO / "examples" / "consumer"
BUILD_LEFTOVERS = shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "venv", ".venv", "*.pyc")
# The interpreter the repository's own venv was made from (`make setup` picks a 3.11+ one).
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
REQUIREMENT = re.compile(r"^hayhooks-pulumi @ (?P<url>\S+)$", re.M)


def _run(command: list[str], cwd: Path, timeout: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("consumer")
    assert REPO not in root.parents
    return root


@pytest.fixture(scope="module")
def venv(outside: Path) -> Path:
    """A fresh virtualenv with the example's requirements, the package taken from a copy of components/."""
    source = shutil.copytree(REPO / "components", outside / "src" / "components", ignore=BUILD_LEFTOVERS)
    requirements = (CONSUMER / "requirements.txt").read_text()
    assert REQUIREMENT.search(requirements), "requirements.txt must depend on hayhooks-pulumi by URL"
    local = REQUIREMENT.sub(f"hayhooks-pulumi @ {source.as_uri()}", requirements)
    (outside / "requirements.txt").write_text(local)
    env_dir = outside / "venv"
    _run([BASE_PYTHON, "-m", "venv", str(env_dir)], outside, 120)
    # Reproducible: the versions this repository pins and tests, not whatever is newest today.
    pins = [line for line in (REPO / "requirements.txt").read_text().splitlines() if "==" in line]
    (outside / "constraints.txt").write_text("\n".join(pins) + "\n")
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q"]
    _run([*pip, "-r", "requirements.txt", "-c", "constraints.txt"], outside, 600)
    return env_dir


@pytest.fixture(scope="module")
def rendered(venv: Path, outside: Path) -> Path:
    project = shutil.copytree(CONSUMER, outside / "assistants", ignore=BUILD_LEFTOVERS)
    python = str(venv / "bin" / "python")
    _run(
        [python, "-I", "-m", "hayhooks_pulumi.render", "--project-dir", str(project), "--stack", "prod", "--quiet"],
        outside,
        300,
    )
    return project / "build" / "prod"


def test_requirements_pin_this_release_from_the_components_subdirectory() -> None:
    url = REQUIREMENT.search((CONSUMER / "requirements.txt").read_text())["url"]  # type: ignore[index]
    assert url.startswith("git+") and url.endswith(f"@v{__version__}#subdirectory=components")


def test_the_package_installs_on_its_own_with_its_dependencies(venv: Path, outside: Path) -> None:
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "check"], outside, 120)
    probe = (
        "import json, importlib.metadata as m, pathlib, hayhooks_pulumi as h;"
        "print(json.dumps([h.__file__, h.__version__, m.version('hayhooks-pulumi')]))"
    )
    location, version, metadata_version = json.loads(_run([python, "-I", "-c", probe], outside, 120).stdout)
    assert Path(location).is_relative_to(venv), location
    assert version == metadata_version == __version__
    assert (Path(location).parent / "py.typed").is_file()


def test_the_example_renders_outside_the_repository(rendered: Path) -> None:
    outputs = json.loads((rendered / "outputs.json").read_text())
    assert outputs == {
        "namespace": "assistants",
        "chatUrl": "https://chat.assistants.example.com",
        "chatUsername": "hayhooks",
        "chatPassword": "[secret]",
        "summarizerUrl": "http://http-summarizer.assistants.svc.cluster.local",
    }


def _manifests(rendered: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted((rendered / "manifests").glob("*.yaml"))]


def test_two_services_share_the_teams_namespace_and_store(rendered: Path) -> None:
    manifests = _manifests(rendered)
    namespaces = [m for m in manifests if m["kind"] == "Namespace"]
    assert [n["metadata"]["name"] for n in namespaces] == ["assistants"]
    assert {m["metadata"].get("namespace") for m in manifests if m["kind"] != "Namespace"} == {"assistants"}
    stores = {
        (m["spec"]["secretStoreRef"]["kind"], m["spec"]["secretStoreRef"]["name"])
        for m in manifests
        if m["kind"] == "ExternalSecret"
    }
    assert stores == {("ClusterSecretStore", "vault-backend")}
    deployments = {m["metadata"]["name"] for m in manifests if m["kind"] == "Deployment"}
    assert deployments == {"chat", "summarizer"}


def test_only_the_public_service_has_an_edge(rendered: Path) -> None:
    manifests = _manifests(rendered)
    ingresses = [m for m in manifests if m["kind"] == "Ingress"]
    assert [i["metadata"]["name"] for i in ingresses] == ["chat"]
    assert {r["host"] for r in ingresses[0]["spec"]["rules"]} == {"chat.assistants.example.com"}
    assert {backend["service"]["name"] for backend in _backends(ingresses[0])} == {"http-chat"}
    secrets = {m["metadata"]["name"] for m in manifests if m["kind"] == "Secret"}
    assert not any(name.startswith("summarizer") for name in secrets)


def _backends(ingress: dict[str, Any]) -> list[dict[str, Any]]:
    return [path["backend"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]


def test_each_service_ships_its_own_pipelines(rendered: Path) -> None:
    # Named `<service>-pipelines-<checksum prefix>`: by service, then by content.
    configmaps = {m["metadata"]["name"].rsplit("-", 1)[0]: m for m in _manifests(rendered) if m["kind"] == "ConfigMap"}
    assert set(configmaps) == {"chat-pipelines", "summarizer-pipelines"}
    assert "chat.yml" in json.dumps(configmaps["chat-pipelines"])
    assert "summarize.yml" in json.dumps(configmaps["summarizer-pipelines"])
    assert "summarize.yml" not in json.dumps(configmaps["chat-pipelines"])


def test_the_render_is_valid_for_the_api_server(rendered: Path) -> None:
    assert [str(issue) for issue in validate_render(rendered, CRD_DIR)] == []


@pytest.mark.parametrize("pipeline", sorted((CONSUMER / "pipelines").glob("*/*.yml")), ids=lambda p: p.stem)
def test_the_examples_pipelines_load_and_run_offline(pipeline: Path) -> None:
    from hayhooks.server.utils.yaml_pipeline_wrapper import YAMLPipelineWrapper

    wrapper = YAMLPipelineWrapper.from_file(pipeline)
    wrapper.setup()
    inputs = yaml.safe_load(pipeline.read_text())["inputs"]
    request: dict[str, dict[str, str]] = {}
    for name, target in inputs.items():
        component, socket = target.split(".")
        request.setdefault(component, {})[socket] = f"<{name}>"
    prompt = wrapper.pipeline.run(request)["prompt_builder"]["prompt"]
    assert all(f"<{name}>" in prompt for name in inputs)


def test_both_services_wait_for_the_teams_namespace_through_the_data_alone() -> None:
    # The example once asked for `opts=ResourceOptions(depends_on=[namespace])`, which nothing enforced; it now
    # passes the Namespace's `metadata.name` as `namespace=`, and every object carries the dependency.
    program = "\n".join(
        [
            "import json, sys",
            "from pathlib import Path",
            "from hayhooks_pulumi.render.cli import offline_render, run_program",
            "project = Path(sys.argv[1])",
            "with offline_render():",
            "    registrations, _ = run_program(project, 'prod', project / 'Pulumi.prod.yaml')",
            "print(json.dumps([[r.type, r.name, r.urn, r.dependencies] for r in registrations]))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", program, str(CONSUMER)], capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr
    registrations = json.loads(result.stdout)
    [namespace_urn] = [urn for kind, _, urn, _ in registrations if kind == "kubernetes:core/v1:Namespace"]
    objects = [
        (name, dependencies)
        for kind, name, _, dependencies in registrations
        if kind.startswith("kubernetes:") and name.startswith(("chat-", "summarizer-")) and "crd-" not in name
    ]
    assert {name.split("-")[0] for name, _ in objects} == {"chat", "summarizer"}
    assert [name for name, dependencies in objects if namespace_urn not in dependencies] == []
    assert "depends_on" not in (CONSUMER / "__main__.py").read_text()
