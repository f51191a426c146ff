"""The server's environment: the variables written from the models, and which names a user may set.

The server parses its settings with pydantic-settings: lists are JSON arrays, enums their value, booleans
`true`/`false`, and an unset optional is left out rather than set empty. What each variable is comes from
`settings_table`; this module only writes and checks.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from ..types import env_name
from . import releases
from .facts import HOME_DIR, LEGACY_LOG_LEVEL
from .logs import plain_loggers_env
from .releases import Release
from .settings_table import OWNED_ENV, SECRET_SETTINGS, SETTINGS, TYPED_SETTINGS, SettingKind

if TYPE_CHECKING:
    from .models import ServerSettings

# Variables whose presence breaks the server, hides a setting from this model, or that the component sets itself.
FORBIDDEN_ENV = {
    "WEB_CONCURRENCY": "above 1 it makes `hayhooks run` exit; workers are set by the component",
    LEGACY_LOG_LEVEL: "legacy alias of HAYHOOKS_LOG_LEVEL; use server.logLevel",
    "HOME": "the component sets it to the server's writable home directory",
}

# Names that hold a credential by convention, case-insensitive: `*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*_SECRET_KEY`,
# `*_ACCESS_KEY`, `*_PRIVATE_KEY`, `*_CREDENTIALS`, `*_PASSPHRASE`, `*PASSWORD*` (each also alone, e.g. `API_KEY`).
# Production refuses them as plain values (`server.extraEnv`): they belong in `secrets`.
CREDENTIAL_NAME = re.compile(
    r"(?:\A|_)(?:API_?KEY|TOKEN|SECRET|(?:SECRET|ACCESS|PRIVATE)_KEY|CREDENTIALS?|PASSPHRASE)\Z|PASSW(?:OR)?D",
    re.IGNORECASE,
)
# Names the pattern matches that hold no credential by their owner's convention (a file's path).
NOT_CREDENTIALS = frozenset({"GOOGLE_APPLICATION_CREDENTIALS"})


# Lower-case by convention: curl, requests, httpx, urllib and Go read the proxy variables in lower case (some read
# only that), so production allows exactly these lower-case names.
LOWER_CASE_NAMES = frozenset({"http_proxy", "https_proxy", "no_proxy", "all_proxy"})


def case_refusal(name: str) -> str | None:
    """Why production refuses a variable name that is not upper case (None when it is, or a proxy variable):
    names are case-sensitive, so `openai_api_key` is never the `OPENAI_API_KEY` a pipeline reads."""
    if name == name.upper() or name in LOWER_CASE_NAMES:
        return None
    return (
        f"{name} is not upper case, refused in production: variable names are case-sensitive and pipelines and "
        f"libraries read {name.upper()}, so they would never see this one; did you mean {name.upper()}? (lower "
        f"case is allowed only for the proxy variables {', '.join(sorted(LOWER_CASE_NAMES))})"
    )


def is_credential_name(name: str) -> bool:
    return bool(CREDENTIAL_NAME.search(name)) and name.upper() not in NOT_CREDENTIALS


def server_env(settings: ServerSettings, release: Release | None = None) -> dict[str, str]:
    """The environment variables the server of `release` (default: the newest known) parses, in a stable order,
    each exactly as it reads them. A variable the release does not read is left out: what a value of it would
    mean there is checked before (`typed_value`, `server.version`)."""
    release = release or releases.newest()
    env: dict[str, str] = {}
    for setting in SETTINGS:
        if not setting.read_by(release):
            continue
        value = setting.fixed if setting.key is None else typed_value(settings, setting.key, release)
        if value is not None:
            env[setting.env] = value
    env.update({name: value for name, value in plain_loggers_env(settings).items() if release.reads(name)})
    env.update(settings.advanced)
    env.update(settings.extra_env)
    return env


def typed_value(settings: ServerSettings, key: str, release: Release | None = None) -> str | None:
    """The text a typed key (`cors.allowOrigins`) writes, None when unset (the server's default applies)."""
    setting = next(s for s in SETTINGS if s.key == key)
    kind = setting.kind_in(release or releases.newest())
    return _written(kind or SettingKind.STR, _value_at(settings, key))


def plain_env(
    settings: ServerSettings, release: Release | None = None, target_env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The plain environment a target gives the server: its settings, `server.extraEnv`, HOME, then the target's
    own variables (Kubernetes' cache paths). The one place it is computed: the container's env and the `env`
    output both read the plan's copy of it, so they cannot drift."""
    return {**server_env(settings, release), "HOME": HOME_DIR, **(target_env or {})}


def _value_at(model: Any, key: str) -> Any:
    """The value of a dotted camelCase key (`cors.allowOrigins`) of a config model."""
    for part in key.split("."):
        name = next(name for name, field in type(model).model_fields.items() if field.alias == part)
        model = getattr(model, name)
    return model


def _written(kind: SettingKind, value: Any) -> str | None:
    """A typed value as its variable's text; None (unset) is left out, for the server's default to apply."""
    if value is None:
        return None
    if kind is SettingKind.BOOL:
        return flag(value)
    if kind is SettingKind.LIST:
        return json.dumps(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list):
        # A string setting the server splits on commas (`streamingComponents`).
        return ",".join(value)
    return str(value)


def flag(value: bool) -> str:
    return "true" if value else "false"


def user_env_name(name: str) -> str:
    """A variable a user may set (`server.extraEnv`, `secrets` of both targets, an env file): a valid
    name that neither the server's settings nor the component own. A HAYHOOKS_* name is refused naming where it
    belongs: its typed key, `secrets`, `server.advanced`, or, when the server has no such setting, the nearest one
    (the server would ignore a typo silently)."""
    env_name(name)
    if name in FORBIDDEN_ENV:
        raise ValueError(f"{name} is not allowed: {FORBIDDEN_ENV[name]}")
    if name in OWNED_ENV:
        raise ValueError(f"{name} is a server setting owned by this model; set it through its typed key")
    if name.upper().startswith("HAYHOOKS_"):
        # The server's settings are case-insensitive: `hayhooks_port` is HAYHOOKS_PORT.
        refusal = _setting_refusal(name.upper())
        raise ValueError(refusal or f"{name} is a setting of the server: set it in server.advanced (checks its type)")
    return name


def secret_env_name(name: str) -> str:
    """A secret variable: one a user may set, or a server setting that only a Secret may carry."""
    return name if name in SECRET_SETTINGS else user_env_name(name)


def _setting_refusal(name: str, newer: bool = False) -> str | None:
    """Why the server's variable `name` may not be set as a plain variable (`server.advanced`, `server.extraEnv`):
    a secret, a setting with a typed key, or no setting of any release known (a typo: the server ignores it
    silently, so it is refused, with the nearest name; for a release newer than the table, `newer`, a HAYHOOKS_*
    name passes). None: a setting of the server's without a typed key."""
    if name in SECRET_SETTINGS:
        return f"{name} is {SECRET_SETTINGS[name]}: set it in secrets.{name}, never as plain text"
    if name in TYPED_SETTINGS:
        return f"{name} is set by {TYPED_SETTINGS[name]}; use that key"
    if name.startswith("HAYHOOKS_") and (name in releases.app_settings() or newer):
        return None
    # Compared without the prefix every candidate shares, which would make any HAYHOOKS_X look close.
    known = {variable.removeprefix("HAYHOOKS_"): variable for variable in releases.server_variables()}
    close = difflib.get_close_matches(name.upper().removeprefix("HAYHOOKS_"), list(known), n=1)
    hint = f"; did you mean {known[close[0]]}?" if close else ""
    typo = " (the server ignores it silently, so a typo is refused)" if name.startswith("HAYHOOKS_") else ""
    newer_hint = (
        f"; a setting of a release newer than {releases.newest().version}: set server.version to that release"
        if name.startswith("HAYHOOKS_")
        else ""
    )
    known_releases = releases.known_versions()
    return (
        f"{name} is not a setting of any Hayhooks release this package knows ({known_releases}){typo}{hint}{newer_hint}"
    )


def check_advanced(name: str, value: str, newer: bool = False) -> None:
    """A `server.advanced` entry: a setting of the server's without a typed key, in the form its type reads (the
    type of the newest release that has it; the release a stack runs is checked for having it by its plan)."""
    refusal = _setting_refusal(name, newer)
    if refusal is not None:
        raise ValueError(refusal)
    known = releases.app_settings().get(name)
    if known is not None and not _reads_as(known.kind, value):
        raise ValueError(f"{name} takes {_KIND_FORMS[known.kind]}, not {value!r}")


_KIND_FORMS = {
    SettingKind.STR: "a string",
    SettingKind.BOOL: "true or false",
    SettingKind.INT: "an integer",
    SettingKind.FLOAT: "a number",
    SettingKind.LIST: "a list of strings",
}


def _reads_as(kind: SettingKind, text: str) -> bool:
    """Whether the server's settings parse `text` as `kind` (bounds are the server's to check)."""
    if kind is SettingKind.BOOL:
        return text in ("true", "false")
    if kind is SettingKind.INT:
        return re.fullmatch(r"-?[0-9]+", text) is not None
    if kind is SettingKind.FLOAT:
        return re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text) is not None
    if kind is SettingKind.LIST:
        try:
            parsed = json.loads(text)
        except ValueError:
            return False
        return isinstance(parsed, list) and all(isinstance(item, str) for item in parsed)
    return True


def _as_variable(value: object) -> object:
    """A YAML scalar or list as the variable's text: true/false, a number, a JSON array (pydantic-settings' forms)."""
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return json.dumps(value)
    return value


UserEnvName = Annotated[str, AfterValidator(user_env_name)]
SecretEnvName = Annotated[str, AfterValidator(secret_env_name)]
# A string in the Pulumi schema (one type per key); stack files and Python may give a bool, number or list too.
# The schema of stack files takes what a YAML stack file may write (`json_schema_input_type`).
AdvancedValue = Annotated[
    str, BeforeValidator(_as_variable, json_schema_input_type=str | bool | int | float | list[str])
]
