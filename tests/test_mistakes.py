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


PROD_TEXT = (REPO / "Pulumi.prod.yaml").read_text()


def _line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_key_written_twice_is_refused_naming_its_config_path_and_both_lines(tmp_path: Path) -> None:
    # A second `server:` block under hayhooks:service: PyYAML kept it alone, dropping the CORS origins silently.
    text = PROD_TEXT.replace("    resources:\n", "    server:\n      logLevel: WARNING\n    resources:\n", 1)
    text += "  hayhooks:target: docker\n"  # and a top-level key twice
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    lines = _refused(render("prod", out, config), out)
    assert f"error: cannot read {config} (nothing was written):" in lines
    first, second = _line_of(text, "    server:"), _line_of(text, "      logLevel: WARNING") - 1
    assert f"hayhooks:service.server: written twice, at lines {first} and {second}" in "\n".join(lines), lines
    target = [number for number, line in enumerate(text.splitlines(), 1) if line.startswith("  hayhooks:target:")]
    assert f"hayhooks:target: written twice, at lines {target[0]} and {target[1]}" in "\n".join(lines), lines


def test_a_yaml_syntax_error_exits_2_naming_file_line_and_column(tmp_path: Path) -> None:
    # Once: exit 1 and "the program failed: ParserError ... in <unicode string>".
    text = PROD_TEXT.replace("      durableMode: true\n", "      durableMode: true\n     stray: 1\n", 1)
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    lines = _refused(render("prod", out, config), out)
    assert lines[0] == f"error: cannot read {config} (nothing was written):"
    line = _line_of(text, "     stray: 1")
    assert lines[1].startswith(f"line {line}, column 6: expected <block end>"), lines
    assert "<unicode string>" not in "\n".join(lines) and "program failed" not in "\n".join(lines)
