"""What each Hayhooks release reads from its environment: the generated table (`releases.json`), read lazily.

`releases.json` is written by `make server-settings` (`server.generate`) from each release's own settings class,
never by hand. Per release: every variable its `AppSettings` reads (field, kind, type, default, constraints) and
the variables its logger reads itself. Nothing here runs at import: the file is read the first time a question
is asked, once per process.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("releases.json")
FORMAT = 1
# How an official image's tag names its release: `v2.1.0` (`2.1.0` is taken too).
_RELEASE_TAG = re.compile(r"^v?([0-9]+\.[0-9]+\.[0-9]+)$")
VERSION_PATTERN = r"^[0-9]+\.[0-9]+\.[0-9]+$"
"""How `server.version` names a release (the schema of stack files says it too)."""
_VERSION = re.compile(VERSION_PATTERN)


class SettingKind(StrEnum):
    """How a setting of the server is written into its variable."""

    STR = "str"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    LIST = "list"
    """A JSON array (pydantic-settings parses list settings as JSON)."""


def version_key(version: str) -> tuple[int, ...]:
    """`2.10.0` sorts after `2.9.1`."""
    return tuple(int(part) for part in version.split("."))


def is_version(text: str) -> bool:
    """`MAJOR.MINOR.PATCH`, digits only: how `server.version` names a release."""
    return _VERSION.match(text) is not None


def tag_version(tag: str | None) -> str | None:
    """The release an image tag names (`v2.1.0` -> `2.1.0`), or None for any other tag (`main`, `2.1`, a build's)."""
    match = _RELEASE_TAG.match(tag or "")
    return match.group(1) if match else None


@dataclass(frozen=True)
class ReleaseSetting:
    """One variable of a release's settings class."""

    env: str
    field: str
    """The `AppSettings` field it sets."""
    kind: SettingKind
    type: str
    """The field's annotation, as the release writes it."""
    default: Any
    constraints: Mapping[str, Any] = dataclass_field(default_factory=dict)
    """pydantic's bounds (`ge`, `le`, `gt`, `lt`, ...)."""
    choices: tuple[Any, ...] | None = None
    """The values a Literal or Enum setting takes (of each item, for a list)."""


@dataclass(frozen=True)
class Release:
    """One Hayhooks release: the variables its server reads."""

    version: str
    uploaded: str
    """When its files reached the package index (what its image was built with is of that day)."""
    settings: Mapping[str, ReleaseSetting]
    """By variable."""
    logger_variables: frozenset[str]
    """Read by `hayhooks/server/logger.py` with `os.getenv` (the log level and format, `LOG`)."""

    @property
    def key(self) -> tuple[int, ...]:
        return version_key(self.version)

    def reads(self, env: str) -> bool:
        """Whether the server of this release reads the variable (its settings are case-insensitive)."""
        return env.upper() in self.settings or env in self.logger_variables

    def setting(self, env: str) -> ReleaseSetting | None:
        return self.settings.get(env.upper())

    def __str__(self) -> str:
        return f"Hayhooks {self.version}"


def _release(version: str, entry: Mapping[str, Any]) -> Release:
    settings = {
        env: ReleaseSetting(
            env=env,
            field=item["field"],
            kind=SettingKind(item["kind"]),
            type=item["type"],
            default=item["default"],
            constraints=dict(item.get("constraints", {})),
            choices=tuple(item.get("choices") or item.get("itemChoices") or ()) or None,
        )
        for env, item in entry["settings"].items()
    }
    return Release(version, entry["uploaded"], settings, frozenset(entry["loggerVariables"]))


@functools.cache
def releases() -> tuple[Release, ...]:
    """Every release of the table, oldest first."""
    data = json.loads(DATA_FILE.read_text())
    if data.get("format") != FORMAT:
        raise RuntimeError(f"{DATA_FILE} is of format {data.get('format')!r}, not {FORMAT}: run `make server-settings`")
    found = [_release(version, entry) for version, entry in data["releases"].items()]
    return tuple(sorted(found, key=lambda release: release.key))


def newest() -> Release:
    return releases()[-1]


def find(version: str) -> Release | None:
    return next((release for release in releases() if release.version == version), None)


def listed(found: tuple[Release, ...]) -> str:
    """`2.0.0, 2.0.1 and 2.1.0`, as refusals list releases."""
    versions = [release.version for release in found]
    return ", ".join(versions[:-1]) + f" and {versions[-1]}" if len(versions) > 1 else "".join(versions)


def known_versions() -> str:
    """Every release of the table, listed."""
    return listed(releases())


def reading(env: str) -> tuple[Release, ...]:
    """The releases whose server reads the variable."""
    return tuple(release for release in releases() if release.reads(env))


@functools.cache
def app_settings() -> Mapping[str, ReleaseSetting]:
    """Every variable of an `AppSettings` of any release in the table, as the newest release that has it says."""
    merged: dict[str, ReleaseSetting] = {}
    for release in releases():
        merged.update(release.settings)
    return merged


@functools.cache
def server_variables() -> tuple[str, ...]:
    """Every variable a server of any release reads its settings from (for a "did you mean")."""
    names = dict.fromkeys(app_settings())
    for release in releases():
        names.update(dict.fromkeys(sorted(release.logger_variables)))
    return tuple(names)
