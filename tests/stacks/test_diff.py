"""`make diff`: a real git repository of this project with two commits, rendered at a base commit (a temporary
worktree, with that commit's own package) and in the working tree, compared object by object and field by field.
Expected changes are read from the two renders' own stack files, never copied from the diff's code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers.paths import REPO

SECRET_TEXT = "plain-text-s3cr3t-value"  # a `fromConfig` secret's value, in the stack file as plain text
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV}
    )
    return result.stdout


def diff(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The diff as `make diff` runs it, with the repository's own copy of the package first on the path (as in
    this repository, whose package is `components/`)."""
    env = {**os.environ, "PYTHONPATH": str(repo / "components")}
    command = [sys.executable, "-m", "hayhooks_pulumi.render.diff", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=600, check=False, env=env)


def _edit_stack(path: Path, change) -> None:
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project in a git repository of its own: commit 1 as it is; commit 2 changes the log level, adds a
    `fromConfig` secret (its value in plain text in the stack file) and changes what the package writes (a label)."""
    root = tmp_path_factory.mktemp("diff-repo") / "project"
    root.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.prod.yaml"):
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(REPO / "pipelines", root / "pipelines")
    shutil.copytree(
        REPO / "components", root / "components", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "base")

    def change(config: dict) -> None:
        service = config["hayhooks:service"]
        service["server"]["logLevel"] = "WARNING"
        service["secrets"]["NEW_TOKEN"] = {"fromConfig": "newToken"}
        config["hayhooks:newToken"] = SECRET_TEXT

    _edit_stack(root / "Pulumi.prod.yaml", change)
    planning = root / "components" / "hayhooks_pulumi" / "planning.py"
    planning.write_text(
        planning.read_text().replace('"app.kubernetes.io/part-of": APP_NAME', '"app.kubernetes.io/part-of": "platform"')
    )
    git(root, "commit", "--quiet", "-am", "head")
    return root


def test_nothing_changed_exits_0(repo: Path) -> None:
    result = diff(repo, "--stack", "prod", "--base", "HEAD")
    assert result.returncode == 0, result.stderr
    assert "no change" in result.stdout.splitlines()[0]


def test_a_change_is_shown_object_by_object_and_field_by_field_and_exits_1(repo: Path) -> None:
    result = diff(repo, "--stack", "prod", "--base", "HEAD~1")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    deployment = lines.index("~ kubernetes:apps/v1:Deployment hayhooks-deployment (Deployment hayhooks/hayhooks)")
    env = "spec.template.spec.containers[hayhooks].env[HAYHOOKS_LOG_LEVEL].value"
    base = yaml.safe_load(git(repo, "show", "HEAD~1:Pulumi.prod.yaml"))["config"]["hayhooks:service"]["server"]
    head = yaml.safe_load((repo / "Pulumi.prod.yaml").read_text())["config"]["hayhooks:service"]["server"]
    assert f'-     {env}: "{base["logLevel"]}"' in lines[deployment:]
    assert f'+     {env}: "{head["logLevel"]}"' in lines[deployment:]
    # The head's package writes another label: every object of the base's package changes it; the base was
    # rendered with its own package, not the working tree's.
    assert '-     metadata.labels.app.kubernetes.io/part-of: "hayhooks"' in lines
    assert '+     metadata.labels.app.kubernetes.io/part-of: "platform"' in lines
    # The new secret's key shows, never its value.
    assert any("NEW_TOKEN" in line and "[secret]" in line for line in lines), result.stdout
    assert SECRET_TEXT not in result.stdout
    assert "~ stack outputs" in lines


def test_the_working_tree_counts_uncommitted_changes(repo: Path) -> None:
    stack = repo / "Pulumi.prod.yaml"
    original = stack.read_text()
    try:
        _edit_stack(stack, lambda config: config["hayhooks:service"]["autoscaling"].update(maxReplicas=9))
        result = diff(repo, "--stack", "prod", "--base", "HEAD")
        assert result.returncode == 1, result.stderr
        assert "+     spec.maxReplicas: 9" in result.stdout.splitlines()
    finally:
        stack.write_text(original)


def test_a_stack_the_base_does_not_have_is_all_added(repo: Path) -> None:
    new = repo / "Pulumi.staging.yaml"
    shutil.copy2(repo / "Pulumi.prod.yaml", new)
    try:
        result = diff(repo, "--stack", "staging", "--base", "HEAD", "--format", "markdown")
        assert result.returncode == 1, result.stderr
        assert "(no such stack there)" in result.stdout
        assert "+ kubernetes:apps/v1:Deployment hayhooks-deployment (Deployment hayhooks/hayhooks)" in result.stdout
        assert "```mermaid\nflowchart LR\n" in result.stdout  # the PR comment's picture of the head
    finally:
        new.unlink()


def test_errors_exit_2_and_leave_no_worktree_behind(repo: Path) -> None:
    result = diff(repo, "--stack", "prod", "--base", "no-such-ref")
    assert result.returncode == 2 and "no-such-ref" in result.stderr and "Traceback" not in result.stderr
    stack = repo / "Pulumi.prod.yaml"
    original = stack.read_text()
    try:
        _edit_stack(stack, lambda config: config["hayhooks:service"].update(replica=3))
        result = diff(repo, "--stack", "prod", "--base", "HEAD")
        assert result.returncode == 2, result.stdout
        assert "hayhooks:service.replica: unknown key" in result.stderr
    finally:
        stack.write_text(original)
    assert len(git(repo, "worktree", "list").splitlines()) == 1
