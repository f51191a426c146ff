"""The README's render (`make render`) in a fresh interpreter, and each stack's render made once per session.

A test that only reads a render of a repository stack or example takes it from the session fixture
`stack_render` (tests/conftest.py) instead of rendering again; a test that needs a render of its own
(another config, another environment, a second render to compare) calls `render` itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from helpers.paths import REPO

# What pulumi-docker reads to pick the engine: a developer's own would change what the dev stack registers.
DOCKER_ENGINE_ENV = ("DOCKER_HOST", "DOCKER_CONTEXT")


def render(
    stack: str, out: Path, config: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the README's render the way `make render` does, in a fresh interpreter."""
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--stack", stack, "--out", str(out)]
    if config is not None:
        command += ["--config", str(config)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180, check=False, env=env)


@dataclass(frozen=True)
class Rendered:
    """One render: the folder it wrote and what the command printed and returned."""

    out: Path
    result: subprocess.CompletedProcess[str]


class Renders:
    """Each (stack, config) rendered the first time a test asks for it, then shared: the folder is read, never
    written, by the tests. Safe to call from several threads (fixtures render examples in parallel)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        # Per key: a lock (one render of each at a time) and the folder it goes to.
        self._slots: dict[tuple[str, Path | None], tuple[threading.Lock, Path]] = {}
        self._done: dict[tuple[str, Path | None], Rendered] = {}

    def __call__(self, stack: str, config: Path | None = None) -> Rendered:
        key = (stack, None if config is None else Path(config).resolve())
        with self._lock:
            lock, out = self._slots.setdefault(key, (threading.Lock(), self._root / f"{len(self._slots)}-{stack}"))
        with lock:
            if key not in self._done:
                env = {k: v for k, v in os.environ.items() if k not in DOCKER_ENGINE_ENV}
                self._done[key] = Rendered(out, render(stack, out, key[1], env=env))
            return self._done[key]


def rendered_objects(out: Path) -> dict[str, dict]:
    """Every object of a render's `manifests/` by `<Kind>/<name>` (a Secret's from its `.yaml.template`), in the
    order the folder applies them."""
    import yaml
    from hayhooks_pulumi.render.schemas import rendered_manifests

    bodies = [yaml.safe_load(path.read_text()) for path in rendered_manifests(out)]
    return {f"{body['kind']}/{body['metadata']['name']}": body for body in bodies}
