"""`render --out DIR` replaces DIR whole: only a new or empty directory, or an earlier render's, may be replaced.

`make render OUT=.` once deleted the project, .git included. Every case runs the render CLI in a fresh
interpreter on a copy of the project, as `make render` would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hayhooks_pulumi.render.cli import EXIT_CONFIG, RENDER_MARKER
from helpers.paths import REPO

STACK = "dev"  # the Docker stack: the quickest render


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project with a .git directory and a file of the user's own."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("Pulumi.yaml", f"Pulumi.{STACK}.yaml", "__main__.py"):
        shutil.copy(REPO / name, copy / name)
    shutil.copytree(REPO / "pipelines", copy / "pipelines")
    (copy / ".git").mkdir()
    (copy / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (copy / "notes.txt").write_text("mine\n")
    return copy


def _render(project: Path, out: Path, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)} if home is not None else None
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--stack", STACK, "--quiet"]
    command += ["--project-dir", str(project), "--out", str(out)]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_refused(result: subprocess.CompletedProcess[str], out: Path, reason: str) -> None:
    assert result.returncode == EXIT_CONFIG, result.stderr
    assert f"refusing to replace --out {out}" in result.stderr
    assert reason in result.stderr
    assert "nothing was deleted" in result.stderr
    assert "rendered" not in result.stdout


def test_the_project_dir_is_refused_and_nothing_is_removed(project: Path) -> None:
    before = _snapshot(project)
    result = _render(project, project)
    _assert_refused(result, project, "the project directory")
    assert _snapshot(project) == before


def test_an_ancestor_of_the_project_is_refused(project: Path) -> None:
    parent = project.parent
    before = _snapshot(parent)
    result = _render(project, parent)
    _assert_refused(result, parent, "the project directory")
    assert _snapshot(parent) == before


def test_home_is_refused_even_when_it_looks_like_a_render(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("# mine\n")
    (home / RENDER_MARKER).write_text("")
    result = _render(project, home, home=home)
    _assert_refused(result, home, "your home directory")
    assert (home / ".bashrc").read_text() == "# mine\n"


def test_a_non_empty_foreign_dir_is_refused(project: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    result = _render(project, foreign)
    _assert_refused(result, foreign, f"holds no {RENDER_MARKER}")
    assert (foreign / "cat.jpg").read_bytes() == b"\xff\xd8"


def test_a_file_is_refused(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("keep\n")
    _assert_refused(_render(project, target), target, "not a directory")
    assert target.read_text() == "keep\n"


def test_a_new_dir_gets_the_render_and_its_marker(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "build" / "dev"
    result = _render(project, out)
    assert result.returncode == 0, result.stderr
    assert (out / RENDER_MARKER).is_file()
    assert (out / "resources.json").is_file()


def test_an_empty_dir_is_filled(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert _render(project, out).returncode == 0
    assert (out / RENDER_MARKER).is_file()


def test_an_earlier_render_is_replaced_whole(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "render"
    assert _render(project, out).returncode == 0
    (out / "stale.yaml").write_text("from an older render\n")
    result = _render(project, out)
    assert result.returncode == 0, result.stderr
    assert not (out / "stale.yaml").exists()
    assert (out / RENDER_MARKER).is_file() and (out / "resources.json").is_file()
    assert _snapshot(project).keys() >= {".git/HEAD", "notes.txt"}
