"""How a pipeline file's path becomes a ConfigMap key (keys cannot hold '/'), and the paths that would collide."""

from __future__ import annotations

import re
from collections.abc import Iterable

_KEY_UNSAFE = re.compile(r"[^-._a-zA-Z0-9]")


def configmap_key(path: str) -> str:
    """`greeter/pipeline_wrapper.py` -> `greeter--pipeline_wrapper.py`."""
    return _KEY_UNSAFE.sub("_", path.replace("/", "--"))


def key_collisions(paths: Iterable[str]) -> dict[str, list[str]]:
    """The keys two or more paths would share, with those paths (e.g. `a/b.py` and `a--b.py`)."""
    by_key: dict[str, list[str]] = {}
    for path in sorted(paths):
        by_key.setdefault(configmap_key(path), []).append(path)
    return {key: found for key, found in by_key.items() if len(found) > 1}
