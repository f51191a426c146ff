"""The server's environment as a review sees it, and the checks of the settings it carries: CORS,
tracebacks, log level, durable mode, the pipelines directory.

Settings whose server default is unsafe (CORS lists default to `["*"]`, durable mode to off) must
be set, as literal values; a setting taken from a Secret or ConfigMap reference cannot be
reviewed, so it counts as a violation of the rule that reads it. Settings whose default is safe
(tracebacks off, INFO logs) are violations only when set to the unsafe value or from a reference.
Each check returns its messages; the catalog names the rule they break.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..server.cors import matches_any_origin
from ..server.facts import LEGACY_LOG_LEVEL, UPLOAD_PATHS, WILDCARD
from ..server.settings_table import SETTINGS, Reader, env_of
from .objects import as_mapping, as_seq

# The variables the checks read, named by the settings table the builders write them from.
ORIGINS_ENV = env_of("cors.allowOrigins")
METHODS_ENV = env_of("cors.allowMethods")
ORIGIN_REGEX_ENV = env_of("cors.allowOriginRegex")
CREDENTIALS_ENV = env_of("cors.allowCredentials")
TRACEBACKS_ENV = env_of("showTracebacks")
LOG_LEVEL_ENV = env_of("logLevel")
LEGACY_LOG_ENV = LEGACY_LOG_LEVEL
DURABLE_ENV = env_of("durableMode")
PIPELINES_DIR_ENV = env_of("pipelinesDir")
# Every port setting the component pins, which the kubelet's link variables (<SERVICE>_PORT=tcp://...) can hit.
PORT_ENVS = tuple(s.env for s in SETTINGS if s.reader is Reader.APP and s.field.endswith("port"))

_NOISY_LEVELS = {"DEBUG", "TRACE"}
# pydantic's boolean strings, which the server's settings parse.
_TRUE = {"1", "true", "yes", "on", "y", "t"}
_PIPELINES_FLAGS = ("--pipelines-dir", "-d")


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


@dataclass(frozen=True)
class ServerEnv:
    """A container's environment as far as a review can see it."""

    literals: Mapping[str, str]
    references: frozenset[str] = frozenset()
    """Names whose value comes from a Secret, ConfigMap or field reference."""
    env_from: bool = False
    """Whole Secrets or ConfigMaps are imported too (envFrom): any name may also be set there."""

    @classmethod
    def from_kubernetes(cls, container: Mapping[str, Any]) -> ServerEnv:
        literals: dict[str, str] = {}
        references: set[str] = set()
        for entry in as_seq(container.get("env")):
            name = as_mapping(entry).get("name")
            if not isinstance(name, str):
                continue
            # A later entry of the same name wins, as in the kubelet.
            literals.pop(name, None)
            references.discard(name)
            if as_mapping(entry).get("valueFrom") is not None:
                references.add(name)
            else:
                value = as_mapping(entry).get("value")
                literals[name] = "" if value is None else str(value)
        return cls(literals, frozenset(references), bool(as_seq(container.get("envFrom"))))

    @classmethod
    def from_docker(cls, envs: Sequence[Any]) -> ServerEnv:
        literals: dict[str, str] = {}
        for entry in envs:
            if isinstance(entry, str) and "=" in entry:
                name, value = entry.split("=", 1)
                literals[name] = value
        return cls(literals)

    def is_set(self, name: str) -> bool:
        return name in self.literals or name in self.references

    def unreviewable(self, name: str) -> str:
        return (
            f"{name} comes from a Secret/ConfigMap reference, so neither a review nor this policy can see it; "
            "set it as a literal value"
        )


# ----- CORS -----


def _json_list(env: ServerEnv, name: str) -> tuple[list[str] | None, str | None]:
    """(the list, None) or (None, why it cannot be checked)."""
    if name in env.references:
        return None, env.unreviewable(name)
    if name not in env.literals:
        hint = " (an envFrom source cannot be reviewed)" if env.env_from else ""
        return (
            None,
            f'{name} is not set, and the server\'s default is ["*"]{hint}; set it, e.g. {name}=\'["https://app.example.com"]\'',
        )
    text = env.literals[name]
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return (
            None,
            f"{name}={text!r} is not a JSON array of strings (the server exits at start); "
            'write e.g. \'["GET", "POST"]\'',
        )
    return value, None


def _any_origin(env: ServerEnv) -> tuple[bool, str | None]:
    """(whether any origin may call, the reason): unset origins, '*', or a regex a stranger's origin matches."""
    origins, problem = _json_list(env, ORIGINS_ENV)
    if origins is None:
        return True, problem
    if WILDCARD in origins:
        return True, f"{ORIGINS_ENV} allows '*'"
    if ORIGIN_REGEX_ENV in env.references:
        return True, env.unreviewable(ORIGIN_REGEX_ENV)
    regex = env.literals.get(ORIGIN_REGEX_ENV)
    if regex is not None:
        try:
            if matches_any_origin(regex):
                return True, f"{ORIGIN_REGEX_ENV}={regex!r} matches any origin"
        except re.error:
            return True, f"{ORIGIN_REGEX_ENV}={regex!r} is not a valid regular expression"
    return False, None


def check_cors_wildcard(env: ServerEnv) -> list[str]:
    problems = []
    for name in (ORIGINS_ENV, METHODS_ENV):
        values, problem = _json_list(env, name)
        if problem:
            problems.append(problem)
        elif values is not None and WILDCARD in values:
            problems.append(f"{name} allows '*': list what is allowed instead")
    if not problems:
        wildcard, reason = _any_origin(env)
        if wildcard and reason:
            problems.append(f"{reason}: anchor it to your domain, e.g. https://[a-z0-9-]+\\.example\\.com")
    return problems


def check_cors_credentials(env: ServerEnv) -> list[str]:
    if CREDENTIALS_ENV in env.references:
        wildcard, reason = _any_origin(env)
        return [f"{env.unreviewable(CREDENTIALS_ENV)} ({reason})"] if wildcard else []
    if not _truthy(env.literals.get(CREDENTIALS_ENV)):
        return []
    wildcard, reason = _any_origin(env)
    if not wildcard:
        return []
    return [
        f"{CREDENTIALS_ENV} is true while any origin is allowed ({reason}): any site could call the API with "
        "the user's cookies; list the origins or turn credentials off"
    ]


# ----- what the server tells and logs -----


def check_tracebacks(env: ServerEnv) -> list[str]:
    if TRACEBACKS_ENV in env.references:
        return [env.unreviewable(TRACEBACKS_ENV)]
    if _truthy(env.literals.get(TRACEBACKS_ENV)):
        return [f"{TRACEBACKS_ENV}={env.literals[TRACEBACKS_ENV]!r}: tracebacks leak code and data; set it to false"]
    return []


def check_log_level(env: ServerEnv) -> list[str]:
    # The server reads HAYHOOKS_LOG_LEVEL, and LOG when that is unset or empty.
    for name in (LOG_LEVEL_ENV, LEGACY_LOG_ENV):
        if name in env.references:
            return [env.unreviewable(name)]
        value = env.literals.get(name)
        if value:
            if value.strip().upper() in _NOISY_LEVELS:
                return [f"{name}={value!r} logs request payloads; use INFO or higher"]
            return []
    return []


# ----- durable mode and the pipelines directory -----


def check_durable(env: ServerEnv) -> list[str]:
    if DURABLE_ENV in env.references:
        return [env.unreviewable(DURABLE_ENV)]
    if _truthy(env.literals.get(DURABLE_ENV)):
        return []
    value = env.literals.get(DURABLE_ENV)
    state = "is not set (the server's default is false)" if value is None else f"is {value!r}"
    return [
        f"{DURABLE_ENV} {state}: without durable mode the server rewrites YAML pipelines in its pipelines dir and "
        f"serves the code-upload routes ({', '.join(UPLOAD_PATHS)}); set it to true"
    ]


def _flag_value(tokens: Sequence[Any], flags: Sequence[str]) -> str | None:
    """The value of the last `--flag value` or `--flag=value` among the tokens."""
    found = None
    items = [t for t in tokens if isinstance(t, str)]
    for index, token in enumerate(items):
        for flag in flags:
            if token == flag and index + 1 < len(items):
                found = items[index + 1]
            elif token.startswith(f"{flag}="):
                found = token.split("=", 1)[1]
    return found


def pipelines_dir(env: ServerEnv, tokens: Sequence[Any]) -> tuple[str | None, str | None]:
    """(the normalised directory the server loads pipelines from, None) or (None, why it is not known):
    the `--pipelines-dir` flag wins over the variable."""
    flag = _flag_value(tokens, _PIPELINES_FLAGS)
    if flag:
        return posixpath.normpath(flag), None
    if PIPELINES_DIR_ENV in env.references:
        return None, env.unreviewable(PIPELINES_DIR_ENV)
    value = env.literals.get(PIPELINES_DIR_ENV)
    if not value:
        return None, (
            f"{PIPELINES_DIR_ENV} is not set, so the server loads pipelines from ./pipelines of its working "
            "directory; set it to the read-only mount"
        )
    return posixpath.normpath(value), None
