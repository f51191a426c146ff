"""The pipelines a service serves, read once from a local directory."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError, Problem

# What the server itself skips (dot-entries, build output) is never shipped.
_IGNORED_DIRS = {"__pycache__"}
_IGNORED_SUFFIXES = {".pyc", ".pyo", ".pyd", ".so", ".egg"}
_YAML_SUFFIXES = {".yml", ".yaml"}
PIPELINE_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?\Z")


@dataclass(frozen=True)
class PipelineSet:
    """Files by relative POSIX path, and the pipeline names the server derives from them."""

    root: Path
    files: dict[str, bytes]
    names: tuple[str, ...]

    @property
    def checksum(self) -> str:
        """sha256 over paths and contents: a change of any file changes it."""
        digest = hashlib.sha256()
        for path, content in self.files.items():
            digest.update(path.encode() + b"\0" + hashlib.sha256(content).digest())
        return digest.hexdigest()

    @property
    def size(self) -> int:
        return sum(len(path) + len(content) for path, content in self.files.items())


def load_pipelines(directory: str | Path, path: str = "pipelinesPath") -> PipelineSet:
    """Read a pipelines directory: wrapper directories (`<name>/pipeline_wrapper.py`) and
    top-level YAML pipelines (`<name>.yml`), as the server discovers them."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError([Problem(path, f"{str(directory)!r} is not a directory (resolved to {root.resolve()})")])
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    real_root = root.resolve()
    for file in sorted(root.rglob("*")):
        relative = file.relative_to(root)
        if any(part.startswith(".") or part in _IGNORED_DIRS for part in relative.parts):
            continue
        if not file.resolve().is_relative_to(real_root):
            # A link out of the directory would ship a file nobody reviewed as a pipeline.
            problems.append(Problem(path, f"{relative.as_posix()} links outside {str(directory)!r}; copy it in"))
            continue
        if file.is_file() and file.suffix not in _IGNORED_SUFFIXES:
            files[relative.as_posix()] = file.read_bytes()
    names: list[str] = []
    sources: dict[str, str] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.name in _IGNORED_DIRS:
            continue
        if entry.is_dir():
            # The server loads every top-level directory as a wrapper pipeline; one without a
            # wrapper fails its start-up (durable mode), so it is refused here, not shipped.
            if not (entry / "pipeline_wrapper.py").is_file():
                problems.append(
                    Problem(
                        path,
                        f"directory {entry.name!r} has no pipeline_wrapper.py, but the server loads every "
                        "top-level directory as a pipeline and would fail to start; move shared code into "
                        "a pipeline directory",
                    )
                )
                continue
            name = entry.name
        elif entry.is_file() and entry.suffix in _YAML_SUFFIXES:
            name = entry.stem
        else:
            continue
        if name in sources:
            problems.append(
                Problem(path, f"pipeline {name!r} is defined twice ({sources[name]}, {entry.name}); the server refuses")
            )
            continue
        sources[name] = entry.name
        names.append(name)
    if problems:
        raise ConfigError(problems)
    if not names:
        raise ConfigError(
            [
                Problem(
                    path,
                    f"{str(directory)!r} holds no pipeline: expected "
                    "<name>/pipeline_wrapper.py directories or <name>.yml files",
                )
            ]
        )
    bad = [n for n in names if not PIPELINE_NAME.match(n)]
    if bad:
        raise ConfigError(
            [
                Problem(
                    path,
                    f"pipeline names {bad} are not usable in URLs and probes: "
                    "use lowercase letters, digits, '-' and '_' (at most 63)",
                )
            ]
        )
    return PipelineSet(root=root, files=files, names=tuple(names))
