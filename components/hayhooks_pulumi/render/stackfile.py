"""Pulumi.<stack>.yaml as the engine hands it to a program: flat `namespace:key` strings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import format_path

SECRET_STAND_IN = "rendered-secret-stand-in"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class StackFileError(ValueError):
    """A project or stack file the render cannot read as written; each problem names its line or key."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class StackFile:
    config: dict[str, str]
    secret_keys: list[str]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, but a key written twice in one mapping is recorded (PyYAML keeps the last and drops
    the first silently). Under `pulumi up` the engine reads the stack file itself, with Go YAML, which refuses
    such a key on its own: this is for the render and the check, which read it here."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.parents: dict[int, tuple[yaml.Node, yaml.Node | int]] = {}
        self.duplicates: list[tuple[yaml.MappingNode, yaml.ScalarNode, yaml.ScalarNode]] = []

    def compose_node(self, parent: yaml.Node | None, index: yaml.Node | int | None) -> yaml.Node:
        # The stubs say the index is an int and the result optional; PyYAML passes key nodes and returns a node.
        node = super().compose_node(parent, index)  # type: ignore[arg-type]
        assert node is not None
        if parent is not None and index is not None:  # None: a mapping's key, which has no path of its own
            self.parents.setdefault(id(node), (parent, index))
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[tuple[str, str], yaml.ScalarNode] = {}
        for key, _ in node.value:  # before merge keys are flattened in: a merged key may be overridden
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
                first = seen.setdefault((key.tag, key.value), key)
                if first is not key:
                    self.duplicates.append((node, first, key))
        return super().construct_mapping(node, deep)

    def path(self, node: yaml.Node) -> list[str | int]:
        """The keys and indexes from the document's root to `node`."""
        parts: list[str | int] = []
        while id(node) in self.parents:
            node, index = self.parents[id(node)]
            parts.append(index if isinstance(index, int) else str(index.value))
        return parts[::-1]


def _load(path: Path) -> tuple[object, _Loader]:
    """The document of a YAML file, refusing a syntax error (naming line and column) and a key written twice."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise StackFileError(path, [f"cannot be read: {error}"]) from None
    loader = _Loader(text)
    try:
        document = loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        raise StackFileError(path, [_syntax_problem(error)]) from None
    except yaml.YAMLError as error:
        raise StackFileError(path, [f"is not YAML: {' '.join(str(error).split())}"]) from None
    finally:
        loader.dispose()
    return document, loader


def _syntax_problem(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = error.problem or error.context or "not valid YAML"
    context = ""
    if error.context and error.problem and error.context_mark is not None:
        context = f" ({error.context} at line {error.context_mark.line + 1}, column {error.context_mark.column + 1})"
    return f"{where}{problem}{context}"


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _duplicate_problems(loader: _Loader, project: str | None) -> list[str]:
    """One problem per key written twice, with both lines; in a stack file (`project` given) named as its config
    path, e.g. `hayhooks:service.server`."""
    problems = []
    for mapping, first, second in sorted(loader.duplicates, key=lambda found: found[2].start_mark.line):
        parts: list[str | int] = [*loader.path(mapping), str(second.value)]
        if project is not None and len(parts) > 1 and parts[0] == "config":  # as `pulumi config` names it
            parts = [_qualify(str(parts[1]), project), *parts[2:]]
        problems.append(
            f"{format_path(parts)}: written twice, at lines {first.start_mark.line + 1} and "
            f"{second.start_mark.line + 1}; YAML keeps only the last and drops the first silently: write it once"
        )
    return problems


def read_stack_file(path: Path, project: str) -> StackFile:
    """Objects become JSON (as `Config.get_object` expects); `secure:` values become secret
    stand-ins, so a render never needs the passphrase."""
    document, loader = _load(path)
    if problems := _duplicate_problems(loader, project):
        raise StackFileError(path, problems)
    document = document or {}
    if not isinstance(document, dict):
        raise StackFileError(path, ["must be a mapping with a `config` key"])
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise StackFileError(path, ["`config` must be a mapping"])
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full = _qualify(str(key), project)
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = SECRET_STAND_IN
            secret_keys.append(full)
        elif isinstance(value, str):
            config[full] = value
        elif isinstance(value, bool):
            config[full] = "true" if value else "false"
        else:
            config[full] = json.dumps(value)
            if _has_secure(value):
                secret_keys.append(full)
    return StackFile(config=config, secret_keys=secret_keys)


def _has_secure(value: object) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def project_name(project_dir: Path) -> str:
    path = project_dir / "Pulumi.yaml"
    document, loader = _load(path)
    if problems := _duplicate_problems(loader, None):
        raise StackFileError(path, problems)
    name = document.get("name") if isinstance(document, dict) else None
    if not isinstance(name, str):
        raise StackFileError(path, ["no project `name`"])
    return name
