"""Configuration errors that name the config key and say what is allowed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pulumi
from pydantic import ValidationError

Loc = Sequence[str | int]


def format_path(loc: Loc, prefix: str = "") -> str:
    """`("cors", "allowOrigins", 0)` -> `cors.allowOrigins[0]`, the way a stack file spells it."""
    text = prefix
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config: where (a config path) and why."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(pulumi.RunError):
    """Raised before any resource registers; Pulumi prints it without a traceback."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def under(self, prefix: str) -> ConfigError:
        """The same problems, with paths placed under `prefix` (e.g. `hayhooks:service`)."""
        return ConfigError(Problem(_join(prefix, p.path), p.message) for p in self.problems)


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def from_validation_error(error: ValidationError) -> ConfigError:
    """Pydantic's errors as config problems, one per invalid value."""
    problems = []
    for item in error.errors(include_url=False):
        # A model_validator's message carries its own path after "Value error, ".
        message = str(item["msg"]).removeprefix("Value error, ")
        loc = _user_loc(item["loc"])
        problems.append(Problem(format_path(loc), _friendly(item["type"], message, item)))
    return ConfigError(problems)


def _user_loc(loc: Loc) -> list[str | int]:
    """The location without pydantic's own parts. An invalid dict key ends in `(..., key, "[key]")`:
    the key is the user's own, kept whatever it looks like (`[`, `str`, even `[key]`)."""
    key: list[str | int] = []
    if len(loc) >= 2 and loc[-1] == "[key]":
        loc, key = loc[:-2], [loc[-2]]
    return [part for part in loc if not _is_union_tag(part)] + key


def _is_union_tag(part: str | int) -> bool:
    # Pydantic adds e.g. `function-after[...]` or `str` to locations inside unions.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "list[str]"})


def _friendly(kind: str, message: str, item: dict) -> str:
    if kind == "extra_forbidden":
        return "unknown key (a typo would be ignored silently, so it is an error)"
    if kind == "missing":
        return "required, but not set"
    if kind == "enum":
        return message.replace("Input should be", "must be one of:")
    return message
