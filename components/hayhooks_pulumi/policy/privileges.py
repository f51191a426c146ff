"""What a Hayhooks container may not hold, whether a pod's or Docker's: root, or capabilities beyond
binding a low port."""

from __future__ import annotations

from typing import Any

from .objects import strings

ROOT_USERS = {"0", "root"}
_ALLOWED_CAPABILITIES = {"NET_BIND_SERVICE"}


def capability_problems(drop: Any, add: Any, where: str) -> list[str]:
    """`drop` and `add` as the container spec holds them (lists of names, or anything else when unset)."""
    problems = []
    if "ALL" not in strings(drop):
        problems.append(f"{where} does not drop ALL capabilities")
    extra = sorted(set(strings(add)) - _ALLOWED_CAPABILITIES)
    if extra:
        problems.append(f"{where} adds capabilities {', '.join(extra)}")
    return problems
