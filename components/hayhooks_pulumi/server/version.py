"""Which Hayhooks release a stack runs, and what of its settings that release lacks.

The release is a fact of the stack: the official image's tag names it (`deepset/hayhooks:v2.1.0@sha256:...` is
2.1.0), or `server.version` does (an image known only at deploy time, a tag of your own, a release newer than the
table). The settings are then checked against that release's own table (`releases`): a setting it lacks is
refused naming it. A release newer than the newest in the table is checked against the newest, with a warning,
and a variable only it has goes through `server.advanced`, unchecked.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi

from ..errors import Problem
from ..image import RENDER_OFFLINE_ENV, ImageRef
from . import releases
from .env import typed_value
from .releases import Release, version_key
from .settings_table import SECRET_SETTINGS, SETTINGS

if TYPE_CHECKING:
    from .models import ServerSettings

# The last path component of the repositories whose tags are Hayhooks' releases (the official image, a mirror).
RELEASE_REPOSITORY = "hayhooks"
VERSION_KEY = "server.version"


class ServerVersionWarning(UserWarning):
    """The release is newer than the table: its settings are checked against the newest release known."""


@dataclass(frozen=True)
class ServerVersion:
    """The release a stack runs, and the table its settings are checked against."""

    version: str
    table: Release
    """That release's own, or the newest of the table for a newer release."""

    @property
    def newer(self) -> bool:
        return version_key(self.version) > self.table.key

    def __str__(self) -> str:
        return f"Hayhooks {self.version}"


def declared_version(version: str) -> str:
    """`server.version`: a release of the table, or one newer than its newest."""
    if not releases.is_version(version):
        raise ValueError(f"{version!r} is not a release: write MAJOR.MINOR.PATCH, e.g. {releases.newest().version}")
    newest = releases.newest().version
    if releases.find(version) is None and version_key(version) < releases.newest().key:
        raise ValueError(
            f"{version} is not a release this package has the settings of: it knows {releases.known_versions()} "
            f"(and takes a release newer than {newest}, checked against {newest}'s settings)"
        )
    return version


def _official(image: ImageRef) -> bool:
    """The official image, or a mirror of it: a repository whose last component is `hayhooks`."""
    return image.repository.rsplit("/", 1)[-1] == RELEASE_REPOSITORY


def _tagged(image: ImageRef) -> str | None:
    """The release an image's tag names, for the official image (or a mirror of it) only."""
    return releases.tag_version(image.tag) if _official(image) else None


Selected = tuple[ServerVersion | None, list[Problem], list[str]]


def _refused(path: str, message: str) -> Selected:
    return None, [Problem(path, message)], []


def select_release(image: ImageRef | None, image_given: bool, declared: str | None, prefix: str = "server") -> Selected:
    """The release of a stack from its image and `server.version`: (the release, problems, warnings). None when it
    cannot be told (the problems say why), or when the image itself is missing (its own problem says so)."""
    key = f"{prefix}.version"
    known = releases.known_versions()
    tagged = _tagged(image) if image is not None else None
    if declared is not None:
        if tagged is not None and tagged != declared:
            return _refused(
                key,
                f"says {declared}, but the image {image} is Hayhooks {tagged}: leave {key} unset (the tag names "
                "the release) or make the two agree",
            )
        return _known_or_newer(declared, key)
    if image is None:
        if not image_given:
            return None, [], []
        return _refused(
            key,
            "required when the image is an Output (known only at deploy time, so its tag cannot say the "
            f"release): name the Hayhooks release it runs, one of {known}",
        )
    newest = releases.newest().version
    if tagged is None:
        if not _official(image):
            why = "it is not the official image's repository"
        else:
            why = f"its tag {image.tag!r} names no release" if image.tag else "it has no tag"
        return _refused(
            key,
            f"required: the image {image} does not say which Hayhooks release it runs ({why}; an official "
            f"image's tag does, e.g. deepset/hayhooks:v{newest}); name it, one of {known}",
        )
    found = releases.find(tagged)
    if found is not None:
        return ServerVersion(tagged, found), [], []
    if version_key(tagged) > releases.newest().key:
        hint = (
            f"to run it, set {key}: {tagged}: its settings are then checked against {newest}'s, and a variable only "
            f"{tagged} has goes through server.advanced"
        )
    else:
        hint = f"use an image of one of those releases, e.g. deepset/hayhooks:v{newest}"
    return _refused(
        "image", f"{image} is Hayhooks {tagged}, whose settings this package does not know: it knows {known}; {hint}"
    )


def _known_or_newer(version: str, key: str) -> Selected:
    found = releases.find(version)
    if found is not None:
        return ServerVersion(version, found), [], []
    newest = releases.newest()
    # `declared_version` let only a newer release through.
    return (
        ServerVersion(version, newest),
        [],
        [
            f"{key}: Hayhooks {version} is newer than the newest release this package knows ({newest.version}): its "
            f"settings are checked against {newest.version}'s; a variable only {version} has goes through "
            "server.advanced, unchecked"
        ],
    )


def missing_setting(release: ServerVersion, env: str) -> str:
    """Why a setting is refused for a release that lacks it, with the releases that have it."""
    having = releases.reading(env)
    where = f"it is read by {releases.listed(having)}" if having else "no release this package knows reads it"
    return f"{release} has no {env} ({where})"


def advanced_problems(
    release: ServerVersion, advanced: Iterable[str], prefix: str = "server"
) -> tuple[list[Problem], list[str]]:
    """`server.advanced` against the release: a variable it lacks is refused; for a release newer than the table,
    one the table lacks passes with a warning (the table cannot say whether the release has it)."""
    problems: list[Problem] = []
    notes: list[str] = []
    for name in advanced:
        if release.table.reads(name):
            continue
        path = f"{prefix}.advanced.{name}"
        if release.newer:
            notes.append(
                f"{path}: not a setting of Hayhooks {release.table.version}; passed to {release} unchecked (its "
                "server ignores a misspelt name silently)"
            )
        else:
            problems.append(Problem(path, f"{missing_setting(release, name)}; leave it out for this release"))
    return problems, notes


def warn(notes: Iterable[str], resource: pulumi.Resource | None = None) -> None:
    """The warnings of a plan: the offline render prints them (`warning: ...`), `pulumi preview` and `up` show them
    as the engine's warnings of the component."""
    for note in notes:
        if os.environ.get(RENDER_OFFLINE_ENV) == "1":
            warnings.warn(note, ServerVersionWarning, stacklevel=2)
        else:
            pulumi.log.warn(note, resource=resource)


def setting_problems(
    server: ServerSettings, release: ServerVersion, secrets: Iterable[str], prefix: str = "server"
) -> tuple[list[Problem], list[str]]:
    """What of the settings the release lacks: a typed key's variable (unless it is unset, or set to what the
    release does without it: `Setting.absent`), a `server.advanced` variable, a secret setting."""
    problems: list[Problem] = []
    for setting in SETTINGS:
        if setting.key is None or setting.read_by(release.table):
            continue
        value = typed_value(server, setting.key)
        if value is None or value == setting.absent:
            continue
        fix = (
            f"set it to {setting.absent} (what {release} does without it) or"
            if setting.absent is not None
            else "leave it unset or"
        )
        problems.append(
            Problem(
                f"{prefix}.{setting.key}", f"{missing_setting(release, setting.env)}: {fix} run a release that has it"
            )
        )
    advanced, notes = advanced_problems(release, server.advanced, prefix)
    problems.extend(advanced)
    for name in secrets:
        if name in SECRET_SETTINGS and not release.table.reads(name):
            problems.append(
                Problem(f"secrets.{name}", f"{missing_setting(release, name)}: leave it out for this release")
            )
    return problems, notes
