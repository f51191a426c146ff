"""Configuration errors that name the config key and say what is allowed."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pulumi
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from .model_walk import nested_models
from .types import Unit

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
    """Raised before any resource registers; Pulumi prints it without a traceback. `subject` names what the
    paths are relative to when they are not config keys, e.g. `HayhooksService 'search'`."""

    def __init__(self, problems: Iterable[Problem], subject: str | None = None) -> None:
        self.problems = tuple(problems)
        self.subject = subject
        super().__init__("\n".join(self.lines))

    @property
    def lines(self) -> list[str]:
        """One line per problem, after the subject when there is one."""
        return [f"{self.subject}: {p}" if self.subject else str(p) for p in self.problems]

    def under(self, prefix: str) -> ConfigError:
        """The same problems, with paths placed under `prefix` (e.g. `hayhooks:service`)."""
        return ConfigError(Problem(_join(prefix, p.path), p.message) for p in self.problems)

    def about(self, subject: str) -> ConfigError:
        """The same problems, about `subject`."""
        return ConfigError(self.problems, subject)


@dataclass(frozen=True)
class ConfigSource:
    """Where the components a program builds take their args from, which decides how their problems read."""

    key: str = ""
    """The stack config key the args were read from (e.g. `hayhooks:service`): problems name paths under it.
    Empty: the program passed them, and problems name the component."""
    secrets_from_config: bool = False
    """The `secret_values` were read from the stack's config (the `fromConfig` keys), not passed by the program."""
    pending: tuple[Problem, ...] = ()
    """Problems of the stack's own keys (their paths whole), reported with the component's in one error."""


# Frozen: a shared default is safe. Outside `reading`, the program passed the args itself.
_PROGRAM = ConfigSource()
_SOURCE: ContextVar[ConfigSource] = ContextVar("hayhooks_config_source", default=_PROGRAM)


def config_source() -> ConfigSource:
    """The source of the args of a component built now."""
    return _SOURCE.get()


@contextmanager
def reading(source: ConfigSource) -> Iterator[None]:
    """Inside, components take their args from `source`; a ConfigError leaves with its paths under its key, after
    the source's pending problems, which are raised at the end if nothing inside was stopped by them."""
    token = _SOURCE.set(source)
    try:
        yield
    except ConfigError as error:
        if not source.key:  # args passed by the program: the component's subject stays
            raise
        raise ConfigError([*source.pending, *error.under(source.key).problems]) from None
    finally:
        _SOURCE.reset(token)
    if source.pending:
        raise ConfigError(source.pending)


@contextmanager
def component_problems(kind: str, name: str) -> Iterator[None]:
    """A component's checks: unless its args came from a stack file's key (`reading`), its problems are about the
    component, e.g. `HayhooksService 'search': replicas: ...`, not about a stack file the program never read.
    Pending problems of the stack stop the component too, before it registers anything."""
    source = config_source()
    try:
        yield
    except ConfigError as error:
        if source.key:
            raise
        raise error.about(f"{kind} {name!r}") from None
    if source.pending:
        raise ConfigError(())  # none of its own: `reading` adds the pending ones as the error leaves


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def from_validation_error(error: ValidationError) -> ConfigError:
    """Pydantic's errors as config problems, one per invalid value."""
    return ConfigError(problem for _, problem in located_problems(error))


def located_problems(
    error: ValidationError, model: type[BaseModel] | None = None
) -> list[tuple[list[str | int], Problem]]:
    """Pydantic's errors as config problems, each with the location in the args it names; with the `model` that
    was validated, an integer key's refusal says what the key counts."""
    problems = []
    for item in error.errors(include_url=False):
        # A model_validator's message carries its own path after "Value error, ".
        message = str(item["msg"]).removeprefix("Value error, ")
        loc = user_loc(item["loc"])
        unit = _unit_at(model, loc) if model is not None else None
        problems.append((loc, Problem(format_path(loc), _friendly(item["type"], message, item, unit))))
    return problems


def _unit_at(model: type[BaseModel], loc: Loc) -> Unit | None:
    """The unit of the integer field `loc` ends at, if its annotation names one."""
    models: list[type[BaseModel]] = [model]
    field: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        found = next(
            (info for m in models for name, info in m.model_fields.items() if (info.alias or name) == part), None
        )
        if found is None:  # a key of the user's own (a map's entry): the field stays the map's
            field = None
            continue
        field, models = found, nested_models(found.annotation)
    if field is None:
        return None
    return next((unit for unit in _metadata(field.annotation, field.metadata) if isinstance(unit, Unit)), None)


def _metadata(annotation: Any, metadata: list[Any]) -> Iterator[Any]:
    """A field's metadata, and what `Annotated` carries anywhere in its annotation (`Annotated[int, ...] | None`)."""
    yield from metadata
    yield from getattr(annotation, "__metadata__", ())
    for arg in typing.get_args(annotation):
        yield from _metadata(arg, [])


_DURATION = re.compile(
    r"^\s*(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?|d|days?)\s*\Z"
)
_SECONDS_PER = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _unit_hint(unit: Unit, value: Any) -> str:
    """What to write instead: a duration's number of seconds where the value reads as one."""
    if unit is Unit.SECONDS and isinstance(value, str) and (match := _DURATION.match(value)):
        word = match["unit"]
        factor = _SECONDS_PER["ms" if word == "ms" else word[0]]
        seconds = float(match["number"]) * factor
        if seconds.is_integer():
            return f"this key takes a whole number of seconds: write {int(seconds)} for {value.strip()}"
    if unit is Unit.PERCENT and isinstance(value, str) and re.fullmatch(r"\s*[0-9]+\s*%\s*", value):
        return f"this key takes a whole number of percent: write {value.strip().rstrip('%').strip()}"
    return f"this key takes a whole number of {unit.value}, e.g. " + {"seconds": "600", "percent": "70"}.get(
        unit.value, "2"
    )


def user_loc(loc: Loc) -> list[str | int]:
    """The location without pydantic's own parts. An invalid dict key ends in `(..., key, "[key]")`:
    the key is the user's own, kept whatever it looks like (`[`, `str`, even `[key]`)."""
    key: list[str | int] = []
    if len(loc) >= 2 and loc[-1] == "[key]":
        loc, key = loc[:-2], [loc[-2]]
    return [part for part in loc if not _is_union_tag(part)] + key


def _is_union_tag(part: str | int) -> bool:
    # Pydantic adds e.g. `function-after[...]` or `str` to locations inside unions.
    return isinstance(part, str) and ("[" in part or part in {"str", "int", "list[str]"})


def _friendly(kind: str, message: str, item: Mapping[str, Any], unit: Unit | None = None) -> str:
    if unit is not None and kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{item['input']!r} is not a whole number: {_unit_hint(unit, item['input'])}"
    if kind == "extra_forbidden":
        return "unknown key (a typo would be ignored silently, so it is an error)"
    if kind == "missing":
        return "required, but not set"
    if kind == "enum":
        return message.replace("Input should be", "must be one of:")
    return message
