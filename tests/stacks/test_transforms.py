"""docs/workloads.md's transform, rendered: a patch of what the model does not cover reaches the object it is for, in
the render as under the engine (the SDK's mock engine alone would drop it), and the patched render still checks."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from helpers.paths import REPO

DOC = REPO / "docs" / "workloads.md"
PROGRAM_HEAD = """
import pulumi
from hayhooks_pulumi import load_stack_config

stack = load_stack_config()
args = stack.service
"""


def _documented_example() -> str:
    section = DOC.read_text().split("## What the model does not cover: Pulumi transforms", 1)[1]
    [code] = re.findall(r"```python\n(.*?)```", section, re.S)
    return code


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: hayhooks\nruntime: python\n")
    (project / "Pulumi.prod.yaml").write_text((REPO / "Pulumi.prod.yaml").read_text())
    (project / "pipelines").symlink_to(REPO / "pipelines")
    main = PROGRAM_HEAD + _documented_example() + "pulumi.export('publicUrl', service.public_url)\n"
    (project / "__main__.py").write_text(textwrap.dedent(main))
    return project


def _run(module: str, project: Path, out: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", module, "--stack", "prod", "--project-dir", str(project), "--out", str(out)]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=180, check=False)


def test_the_documented_transform_patches_the_rendered_deployment_and_it_still_checks(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = _run("hayhooks_pulumi.render", project, tmp_path / "render")
    assert result.returncode == 0, result.stderr
    [path] = (tmp_path / "render" / "manifests").glob("*-deployment-hayhooks.yaml")
    pod = yaml.safe_load(path.read_text())["spec"]["template"]["spec"]
    [preferred] = pod["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["preference"]["matchExpressions"][0]["values"] == ["gpu"]
    # Only the object the transform is for; the component's own settings are intact.
    assert pod["enableServiceLinks"] is False
    others = [p for p in (tmp_path / "render" / "manifests").iterdir() if p != path]
    assert others and not any("nodeAffinity" in p.read_text() for p in others)
    checked = _run("hayhooks_pulumi.policy.check", project, tmp_path / "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
