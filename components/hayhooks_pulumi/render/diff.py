"""`python -m hayhooks_pulumi.render.diff --stack prod --base <git ref>`: what a change does to a stack's render.

Renders the stack at BASE (a temporary `git worktree` of that commit, rendered with that commit's own copy of this
package when the project carries it) and in the working tree (uncommitted changes included), and prints what
changes, resource by resource (by the identity the engine gives it: type, name and parent) and field by field,
then the stack outputs. Both renders redact every secret (`[secret]`), so no secret value can appear here; a
changed secret shows where its object's name or keys change. `--format markdown` writes the same for a pull
request comment, with the head's `graph.mmd` below.

Exit codes: 0 nothing changed, 1 something changed, 2 an error (a render failed, BASE is not a commit, the project
is not in a git repository, bad arguments). A stack file the base does not have yet renders as nothing there:
everything is added.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .graph import GRAPH_FILE

EXIT_SAME = 0
EXIT_CHANGED = 1
EXIT_ERROR = 2
# Longest value shown in full; a longer one (a probe's script) is cut, its change still shown.
MAX_VALUE = 160
RENDER_TIMEOUT = 600


class DiffError(Exception):
    """What stopped the diff, for its exit 2."""


# ---------------------------------------------------------------------------------------------------------------
# Comparing two renders


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaves by path: `spec.template.spec.containers[hayhooks].env[HAYHOOKS_PORT].value`. A list of mappings that
    each have a distinct `name` is keyed by it, so an inserted variable is one change, not a shifted list."""
    if isinstance(value, Mapping):
        if not value:
            return {path: {}}
        leaves: dict[str, Any] = {}
        for key in sorted(value):
            leaves.update(flatten(value[key], f"{path}.{key}" if path else str(key)))
        return leaves
    if isinstance(value, list):
        if not value:
            return {path: []}
        names = [item.get("name") for item in value if isinstance(item, Mapping)]
        by_name = len(names) == len(value) and all(isinstance(n, str) for n in names) and len(set(names)) == len(names)
        leaves = {}
        for index, item in enumerate(value):
            leaves.update(flatten(item, f"{path}[{item['name'] if by_name else index}]"))
        return leaves
    return {path: value}


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    parent: str | None
    inputs: Mapping[str, Any]
    auto_name: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None]:
        return self.type, self.name, self.parent

    @property
    def label(self) -> str:
        """`kubernetes:apps/v1:Deployment hayhooks-deployment (Deployment hayhooks/hayhooks)`."""
        metadata = self.inputs.get("metadata")
        if isinstance(metadata, Mapping) and "kind" in self.inputs:
            name = metadata.get("name") or self.auto_name or "?"
            where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
            return f"{self.type} {self.name} ({self.inputs['kind']} {where}{name})"
        return f"{self.type} {self.name}"


@dataclass
class Change:
    resource: Resource
    fields: list[tuple[str, Any, Any]]
    """(path, before, after); `MISSING` on the side without it."""


class _Missing:
    def __repr__(self) -> str:
        return "(unset)"


MISSING: Any = _Missing()


@dataclass
class RenderDiff:
    added: list[Resource] = field(default_factory=list)
    removed: list[Resource] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    unchanged: int = 0
    outputs: list[tuple[str, Any, Any]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.outputs)


def load_resources(render_dir: Path | None) -> list[Resource]:
    if render_dir is None:
        return []
    records = json.loads((render_dir / "resources.json").read_text())
    return [Resource(r["type"], r["name"], r.get("parent"), r["inputs"], r.get("autoName")) for r in records]


def load_outputs(render_dir: Path | None) -> dict[str, Any]:
    return {} if render_dir is None else json.loads((render_dir / "outputs.json").read_text())


def _field_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    old, new = flatten(before), flatten(after)
    return [
        (path, old.get(path, MISSING), new.get(path, MISSING))
        for path in sorted({*old, *new})
        if old.get(path, MISSING) != new.get(path, MISSING)
    ]


def compare(base: Path | None, head: Path) -> RenderDiff:
    """What changes from the render in `base` (None: the base has no such stack) to the one in `head`."""
    before = {r.key: r for r in load_resources(base)}
    after = {r.key: r for r in load_resources(head)}
    diff = RenderDiff()
    for key, resource in after.items():
        if key not in before:
            diff.added.append(resource)
            continue
        changes = _field_changes(before[key].inputs, resource.inputs)
        if changes:
            diff.changed.append(Change(resource, changes))
        else:
            diff.unchanged += 1
    diff.removed = [resource for key, resource in before.items() if key not in after]
    diff.outputs = _field_changes(load_outputs(base), load_outputs(head))
    for items in (diff.added, diff.removed):
        items.sort(key=lambda r: r.label)
    diff.changed.sort(key=lambda c: c.resource.label)
    return diff


# ---------------------------------------------------------------------------------------------------------------
# Reports


def _shown(value: Any) -> str:
    if value is MISSING:
        return "(unset)"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def summary(diff: RenderDiff) -> str:
    if not diff.any:
        return f"no change ({diff.unchanged} resources unchanged)"
    parts = [f"{len(diff.changed)} changed", f"{len(diff.added)} added", f"{len(diff.removed)} removed"]
    outputs = f", {len(diff.outputs)} stack output(s) changed" if diff.outputs else ""
    return f"{', '.join(parts)}, {diff.unchanged} unchanged{outputs}"


def diff_lines(diff: RenderDiff) -> list[str]:
    """`+`, `-`, `~` lines, the form a `diff` code block colours."""
    lines: list[str] = []
    for resource in diff.added:
        lines.append(f"+ {resource.label}")
        lines += [f"+     {path}: {_shown(value)}" for path, value in flatten(dict(resource.inputs)).items()]
    for resource in diff.removed:
        lines.append(f"- {resource.label}")
    for change in diff.changed:
        lines.append(f"~ {change.resource.label}")
        for path, before, after in change.fields:
            if before is not MISSING:
                lines.append(f"-     {path}: {_shown(before)}")
            if after is not MISSING:
                lines.append(f"+     {path}: {_shown(after)}")
    if diff.outputs:
        lines.append("~ stack outputs")
        for path, before, after in diff.outputs:
            if before is not MISSING:
                lines.append(f"-     {path}: {_shown(before)}")
            if after is not MISSING:
                lines.append(f"+     {path}: {_shown(after)}")
    return lines


def text_report(diff: RenderDiff, stack: str, base: str) -> str:
    head = f"render of stack {stack!r}: {base} -> working tree: {summary(diff)}"
    return "\n".join([head, *diff_lines(diff)]) + "\n"


def markdown_report(diff: RenderDiff, stack: str, base: str, graph: str | None) -> str:
    parts = [f"### Render of stack `{stack}`: {summary(diff)}", "", f"Compared with `{base}`; secrets are redacted."]
    if diff.any:
        parts += ["", "```diff", *diff_lines(diff), "```"]
    if graph:
        parts += [
            "",
            "<details><summary>What the stack deploys</summary>",
            "",
            "```mermaid",
            graph.rstrip(),
            "```",
            "",
            "</details>",
        ]
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Rendering both sides


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffError(f"git {' '.join(args)}: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout.strip()


@contextmanager
def base_worktree(repo: Path, ref: str) -> Iterator[Path]:
    """A detached worktree of `ref`, removed again (with git's record of it) whatever happens."""
    commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    parent = Path(tempfile.mkdtemp(prefix="hayhooks-diff-base-"))
    tree = parent / "base"
    try:
        _git(repo, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        yield tree
    finally:
        subprocess.run(
            ["git", "-C", str(repo), "worktree", "remove", "--force", str(tree)], capture_output=True, check=False
        )
        subprocess.run(["git", "-C", str(repo), "worktree", "prune"], capture_output=True, check=False)
        shutil.rmtree(parent, ignore_errors=True)


def _package_source() -> Path:
    """The folder this package is imported from (`components/` in its own repository)."""
    return Path(__file__).resolve().parents[2]


def render(project_dir: Path, stack: str, config: Path, out: Path, package_dir: Path | None) -> None:
    """The README's render in a fresh interpreter; `package_dir` first on the path (the base's own package)."""
    env = dict(os.environ)
    if package_dir is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_dir), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--stack", stack, "--out", str(out)]
    command += ["--config", str(config), "--project-dir", str(project_dir), "--quiet"]
    result = subprocess.run(
        command, cwd=project_dir, env=env, capture_output=True, text=True, timeout=RENDER_TIMEOUT, check=False
    )
    if result.returncode != 0:
        raise DiffError(f"the render of {project_dir} failed (exit {result.returncode}):\n{result.stderr.strip()}")


@dataclass(frozen=True)
class Sides:
    base: Path | None
    head: Path


def render_both(project_dir: Path, stack: str, config: Path | None, base_ref: str, scratch: Path) -> Sides:
    repo = Path(_git(project_dir, "rev-parse", "--show-toplevel")).resolve()
    project_dir = project_dir.resolve()
    relative_project = project_dir.relative_to(repo)
    head_config = (config or project_dir / f"Pulumi.{stack}.yaml").resolve()
    head = scratch / "head"
    render(project_dir, stack, head_config, head, None)
    with base_worktree(repo, base_ref) as tree:
        base_project = tree / relative_project
        # A stack file of the repository is the base's own; one from elsewhere is the same on both sides.
        base_config = tree / head_config.relative_to(repo) if head_config.is_relative_to(repo) else head_config
        if not base_config.is_file():
            return Sides(None, head)
        source = _package_source()
        package = tree / source.relative_to(repo) if source.is_relative_to(repo) else None
        base = scratch / "base"
        render(base_project, stack, base_config, base, package if package is not None and package.is_dir() else None)
    return Sides(base, head)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hayhooks_pulumi.render.diff", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True, help="stack name, e.g. prod")
    parser.add_argument("--base", required=True, help="the git ref to compare with, e.g. main or origin/main")
    parser.add_argument("--config", type=Path, help="stack config file (default: Pulumi.<stack>.yaml)")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the Pulumi project (default: .)")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="hayhooks-diff-"))
    try:
        sides = render_both(args.project_dir, args.stack, args.config, args.base, scratch)
        result = compare(sides.base, sides.head)
        graph_file = sides.head / GRAPH_FILE
        graph = graph_file.read_text() if graph_file.is_file() else None
        base_name = args.base if sides.base is not None else f"{args.base} (no such stack there)"
        if args.format == "markdown":
            sys.stdout.write(markdown_report(result, args.stack, base_name, graph))
        else:
            sys.stdout.write(text_report(result, args.stack, base_name))
        return EXIT_CHANGED if result.any else EXIT_SAME
    except (DiffError, ValueError, OSError, subprocess.TimeoutExpired) as error:
        print(f"error: diff of stack {args.stack!r} against {args.base}: {error}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
