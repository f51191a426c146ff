"""An env file read as `docker run --env-file` reads it, for local testing only."""

from __future__ import annotations

from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from ..errors import ConfigError, Problem
from ..server.env import UserEnvName

_NAME = TypeAdapter(UserEnvName)


def parse_env_file(text: str, path: str = "envFile") -> dict[str, str]:
    """`KEY=VALUE` lines, values taken literally (no quotes removed, no `$` expansion) as Docker does;
    blank lines and `#` comments skipped. Names the server model owns and repeated names are refused."""
    env: dict[str, str] = {}
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            problems.append(
                Problem(
                    path,
                    f"line {number}: expected KEY=VALUE (a bare name would copy the deploying shell's "
                    "variable, which is not supported)",
                )
            )
            continue
        try:
            _NAME.validate_python(name)
        except ValidationError as error:
            message = str(error.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")
            problems.append(Problem(path, f"line {number}: {message}"))
            continue
        if name in env:
            problems.append(Problem(path, f"line {number}: {name} is set twice"))
            continue
        env[name] = value
    if problems:
        raise ConfigError(problems)
    return env


def read_env_file(file: str | Path, path: str = "envFile") -> dict[str, str]:
    """The variables of an env file on the deploying machine."""
    location = Path(file)
    if not location.is_file():
        raise ConfigError([Problem(path, f"{str(file)!r} is not a file (resolved to {location.resolve()})")])
    try:
        text = location.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError([Problem(path, f"cannot read {str(file)!r}: {error}")]) from None
    return parse_env_file(text, path)
