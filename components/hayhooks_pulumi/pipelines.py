"""The pipelines a service serves, read once from a local directory."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import ConfigError, Problem

# What the server itself skips (dot-entries, build output) is never shipped.
_IGNORED_DIRS = {"__pycache__"}
_IGNORED_SUFFIXES = {".pyc", ".pyo", ".pyd", ".so", ".egg"}
_YAML_SUFFIXES = {".yml", ".yaml"}
# What the server executes itself when it loads a wrapper directory (hayhooks 2.1.0's `_PipelineModuleLoader`):
# the package's `__init__.py` when present, then `pipeline_wrapper.py`; other modules only when those import them.
_LOADED_MODULES = ("__init__.py", "pipeline_wrapper.py")
PIPELINE_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?\Z")
# Names whose run path `/<name>/run` a fixed route of the server already matches (`/status/{pipeline_name}`,
# `/draw/{pipeline_name}`): durable start-up exits on them ("conflict with server routes").
# tests/unit/test_pipelines.py derives the set from Hayhooks' own app.
RESERVED_NAMES = frozenset({"draw", "status"})
# A tree modified this recently may change again within its timestamps' resolution (2 s on FAT, a
# clock tick elsewhere), so its stat fingerprint cannot prove it unchanged: it is read, not cached.
_RACY_NS = 2_000_000_000
# Hex digits of the pipelines' sha256 in the name of a copy of them: 32 bits, ample for one service's revisions.
CHECKSUM_CHARS = 8


@dataclass(frozen=True)
class PipelineSet:
    """Files by relative POSIX path, and the pipeline names the server derives from them."""

    root: Path
    files: dict[str, bytes]
    names: tuple[str, ...]
    sources: dict[str, str]
    """Each name's top-level entry: `<name>.yml` (or `.yaml`) or the wrapper directory `<name>/`."""

    @property
    def checksum(self) -> str:
        """sha256 over paths and contents: a change of any file changes it."""
        digest = hashlib.sha256()
        for path, content in self.files.items():
            digest.update(path.encode() + b"\0" + hashlib.sha256(content).digest())
        return digest.hexdigest()

    @property
    def short_checksum(self) -> str:
        """The first hex digits of the checksum, for the name of an immutable copy of these files: new content
        is a new copy, created before what reads it is pointed at it."""
        return self.checksum[:CHECKSUM_CHARS]

    @property
    def size(self) -> int:
        return sum(len(path) + len(content) for path, content in self.files.items())

    @functools.cached_property
    def yaml_issues(self) -> tuple[tuple[str, str], ...]:
        """(file, why) for each YAML pipeline durable start-up would refuse; parsed once per set."""
        issues = []
        for name in self.names:
            source = self.sources[name]
            if source.endswith("/"):
                continue
            reason = _durable_yaml_issue(self.files[source])
            if reason is not None:
                issues.append((source, reason))
        return tuple(issues)


def _durable_yaml_issue(content: bytes) -> str | None:
    """Hayhooks 2.1.0's own rule (`get_inputs_outputs_from_yaml`): the file parsed with `yaml.safe_load`,
    `None` taken as `{}`, and at least one of `inputs`/`outputs` present and not empty."""
    try:
        document = yaml.safe_load(content.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        return f"is not valid UTF-8 YAML ({' '.join(str(error).split())}), so durable start-up would fail"
    if not isinstance(document, dict):
        return f"holds a {type(document).__name__}, not a mapping of a pipeline, so durable start-up would fail"
    if not (document.get("inputs") or document.get("outputs")):
        return (
            'declares neither `inputs` nor `outputs`, so durable start-up exits ("YAML pipeline must declare at '
            "least one of 'inputs' or 'outputs'\"); map the request fields and results at the top level, e.g. "
            "inputs: {question: prompt_builder.question} and outputs: {prompt: prompt_builder.prompt}"
        )
    return None


def durable_problems(pipelines: PipelineSet, path: str = "pipelinesPath") -> list[Problem]:
    """What makes durable start-up exit that the files already show, one problem per file."""
    problems = [Problem(path, f"{source} {reason}") for source, reason in pipelines.yaml_issues]
    for name in sorted(RESERVED_NAMES.intersection(pipelines.names)):
        problems.append(
            Problem(
                path,
                f"{pipelines.sources[name]} defines pipeline {name!r}, whose /{name}/run the server's own "
                f'/{name}/<pipeline> route takes, so durable start-up exits ("conflict with server routes"); '
                "rename it",
            )
        )
    return problems


def _compile_problems(files: dict[str, bytes], name: str, path: str) -> list[Problem]:
    """The wrapper directory's modules the server executes at load that do not compile: compiled here, never run
    or imported. Compiled by this interpreter, so syntax newer than its Python is refused too."""
    problems = []
    for module in _LOADED_MODULES:
        relative = f"{name}/{module}"
        if relative not in files:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings (e.g. invalid escapes) are the server's to log
                compile(files[relative], relative, "exec", dont_inherit=True)
        except SyntaxError as error:
            where = f"line {error.lineno}" + (f", column {error.offset}" if error.offset else "")
            problems.append(
                Problem(
                    path,
                    f"{relative} does not compile ({where}: {error.msg}), so the server cannot load pipeline "
                    f"{name!r}: durable start-up exits (PipelineModuleLoadError), otherwise the pipeline is "
                    "skipped; fix the file",
                )
            )
        except ValueError as error:  # e.g. a NUL byte (Python 3.11 raises ValueError, later ones SyntaxError)
            problems.append(Problem(path, f"{relative} does not compile ({error}), so the server cannot load it"))
    return problems


def load_pipelines(directory: str | Path, path: str = "pipelinesPath") -> PipelineSet:
    """Read a pipelines directory: wrapper directories (`<name>/pipeline_wrapper.py`) and
    top-level YAML pipelines (`<name>.yml`), as the server discovers them. Services sharing a
    directory share one read, until any entry's size or times change."""
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError([Problem(path, f"{str(directory)!r} is not a directory (resolved to {root.resolve()})")])
    fingerprint = _fingerprint(root)
    if fingerprint is None:
        return _read(root, str(directory), path)
    return _read_cached(root, str(directory), path, fingerprint)


def _fingerprint(root: Path) -> tuple | None:
    """The tree's paths with identity, size and times (of each link and its target), or None when an
    entry changed too recently for its times to show a further change."""
    newest = 0
    entries: list[object] = [str(root.resolve())]
    for entry in sorted(root.rglob("*")):
        try:
            stats: tuple[os.stat_result, ...] = (entry.lstat(), entry.stat())
        except OSError:  # a dangling link: the read skips it too
            stats = (entry.lstat(),)
        entries.append(
            (entry.relative_to(root).as_posix(), *((s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns) for s in stats))
        )
        newest = max(newest, *(s.st_mtime_ns for s in stats))
    if time.time_ns() - newest < _RACY_NS:
        return None
    return tuple(entries)


@functools.lru_cache(maxsize=32)
def _read_cached(root: Path, directory: str, path: str, fingerprint: tuple) -> PipelineSet:
    return _read(root, directory, path)


def _read(root: Path, directory: str, path: str) -> PipelineSet:
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
        sources[name] = f"{entry.name}/" if entry.is_dir() else entry.name
        names.append(name)
        if entry.is_dir():
            problems.extend(_compile_problems(files, name, path))
    if not names and not problems:
        problems.append(
            Problem(
                path,
                f"{str(directory)!r} holds no pipeline: expected "
                "<name>/pipeline_wrapper.py directories or <name>.yml files",
            )
        )
    bad = [n for n in names if not PIPELINE_NAME.match(n)]
    if bad:
        problems.append(
            Problem(
                path,
                f"pipeline names {bad} are not usable in URLs and probes: "
                "use lowercase letters, digits, '-' and '_' (at most 63)",
            )
        )
    if problems:
        raise ConfigError(problems)
    return PipelineSet(root=root, files=files, names=tuple(names), sources=sources)
