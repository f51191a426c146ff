"""Run by path inside a scratch virtualenv of one Hayhooks release (never imported by the package): prints, as JSON,
the settings that release reads from its environment, as its own code declares them.

`python introspect_release.py` describes the settings class: each field of `hayhooks.settings.AppSettings` (a
pydantic-settings model) with the variable it is read from, its type, kind, default and constraints, and the
variables the server's logger reads with `os.getenv`. `python introspect_release.py --parse` reads the settings
from the process's own environment instead and prints what the server parsed, field by field (the live check of
a render's environment). Only the standard library and the release's own packages are imported: this file runs
under the release's interpreter, where this package is not installed.
"""

from __future__ import annotations

import enum
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import sys
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

SETTINGS_MODULE = "hayhooks.settings"
SETTINGS_CLASS = "AppSettings"
LOGGER_MODULE = "hayhooks.server.logger"
_GETENV = re.compile(r"""os\.(?:getenv|environ\.get)\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")
_CONSTRAINTS = ("gt", "ge", "lt", "le", "min_length", "max_length", "multiple_of")


def _settings_class() -> Any:
    try:
        module = importlib.import_module(SETTINGS_MODULE)
    except ModuleNotFoundError as error:
        if error.name != SETTINGS_MODULE:
            raise
        version = importlib.metadata.version("hayhooks")
        sys.exit(f"hayhooks {version} has no {SETTINGS_MODULE} (releases before 0.1.0 read os.environ directly)")
    return getattr(module, SETTINGS_CLASS)


def _without_none(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0], True
    return annotation, False


def _choices(annotation: Any) -> list[Any] | None:
    if typing.get_origin(annotation) is typing.Literal:
        return list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    return None


def _kind(annotation: Any) -> str:
    """How the variable's text is read: a JSON array for lists (pydantic-settings), else the scalar's kind."""
    if typing.get_origin(annotation) is list:
        return "list"
    for kind in (bool, int, float):  # bool before int: a bool is an int
        if annotation is kind:
            return kind.__name__
    return "str"  # str, SecretStr, a Literal or an Enum of strings


def _type_text(annotation: Any) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    return text or str(annotation).replace("typing.", "")


def _json(value: Any, reveal: bool = False) -> Any:
    """A value as JSON; a secret masked, unless `reveal` (the parse of a test's stand-in values)."""
    if isinstance(value, enum.Enum):
        return _json(value.value, reveal)
    if isinstance(value, list | tuple):
        return [_json(item, reveal) for item in value]
    if isinstance(value, dict):
        return {str(k): _json(v, reveal) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "get_secret_value"):
        return value.get_secret_value() if reveal else "**********"
    return str(value)


def _relative(value: Any) -> Any:
    """A default derived from the working directory (`pipelines_dir`: `<cwd>/pipelines`) as `./...`."""
    cwd = os.getcwd()
    if isinstance(value, str) and (value == cwd or value.startswith(cwd + os.sep)):
        return "." + value[len(cwd) :]
    return value


def _variables(cls: Any, name: str, field: Any) -> list[str]:
    """The variables pydantic-settings reads the field from: its alias(es), or the prefix and the field's name."""
    alias = field.validation_alias or field.alias
    if alias is None:
        return [(cls.model_config.get("env_prefix", "") + name).upper()]
    choices = getattr(alias, "choices", [alias])
    return [str(choice if isinstance(choice, str) else choice.path[0]).upper() for choice in choices]


def describe() -> dict[str, Any]:
    cls = _settings_class()
    config = cls.model_config
    settings: dict[str, Any] = {}
    for name, field in cls.model_fields.items():
        annotation, optional = _without_none(field.annotation)
        item = typing.get_args(annotation)[0] if typing.get_origin(annotation) is list else None
        constraints = {key: getattr(meta, key) for meta in field.metadata for key in _CONSTRAINTS if hasattr(meta, key)}
        entry: dict[str, Any] = {
            "field": name,
            "kind": _kind(annotation),
            "type": _type_text(field.annotation),
            "default": _relative(_json(field.get_default(call_default_factory=True))),
        }
        if optional:
            entry["optional"] = True
        if constraints:
            entry["constraints"] = constraints
        choices = _choices(item if item is not None else annotation)
        if choices is not None:
            entry["itemChoices" if item is not None else "choices"] = _json(choices)
        for variable in _variables(cls, name, field):
            settings[variable] = entry
    return {
        "version": importlib.metadata.version("hayhooks"),
        "settingsClass": f"{SETTINGS_MODULE}.{SETTINGS_CLASS}",
        "envPrefix": str(config.get("env_prefix", "")).upper(),
        "caseSensitive": bool(config.get("case_sensitive", False)),
        "settings": settings,
        "loggerVariables": _logger_variables(),
    }


def _logger_variables() -> list[str]:
    """The variables `hayhooks/server/logger.py` reads itself (the log level and format, the legacy `LOG`)."""
    spec = importlib.util.find_spec(LOGGER_MODULE)
    if spec is None or spec.origin is None:
        return []
    return sorted(set(_GETENV.findall(Path(spec.origin).read_text())))


def parse() -> dict[str, Any]:
    """The settings as the server parses the process's environment: each field's value, as JSON."""
    instance = _settings_class()()
    return {name: _json(getattr(instance, name), reveal=True) for name in type(instance).model_fields}


if __name__ == "__main__":
    # The settings read a `.env` found from the working directory: read them from an empty one, removed after.
    with tempfile.TemporaryDirectory(prefix="hayhooks-settings-") as empty:
        os.chdir(empty)
        print(json.dumps(parse() if sys.argv[1:] == ["--parse"] else describe()))
