"""Mistakes a newcomer made (issue 10), each refused by the render before anything is written: exit 2, a message
naming the file or config key and what is allowed, no traceback. Rendered as `make render` does."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml
from conftest import REPO, render


def _prod(tmp_path: Path, change=None) -> Path:
    """Pulumi.prod.yaml, changed by `change(document)`, written under tmp_path."""
    document = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    if change is not None:
        change(document)
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _refused(result: subprocess.CompletedProcess[str], out: Path) -> list[str]:
    """The problem lines of a refusal, after checking it is one."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert not out.exists()
    return [line.strip() for line in result.stderr.splitlines()]


def test_a_pipeline_wrapper_that_does_not_compile_is_refused(tmp_path: Path) -> None:
    pipelines = shutil.copytree(REPO / "pipelines", tmp_path / "pipelines")
    (pipelines / "greeter" / "pipeline_wrapper.py").write_text("from hayhooks import BasePipelineWrapper\nclass :\n")

    def change(document: dict) -> None:
        document["config"]["hayhooks:service"]["pipelinesPath"] = str(pipelines)

    out = tmp_path / "out"
    lines = _refused(render("prod", out, _prod(tmp_path, change)), out)
    assert any(
        line.startswith("hayhooks:service.pipelinesPath: greeter/pipeline_wrapper.py does not compile (line 2")
        for line in lines
    ), lines
