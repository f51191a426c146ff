"""An env file read as `docker run --env-file` reads it, for local testing only: what production refuses, and the
variables it adds (each a problem, never an exception, when it cannot be read)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from ..errors import Problem
from ..profile import Profile
from ..server.env import UserEnvName

if TYPE_CHECKING:
    from .args import HayhooksContainerArgs

_NAME = TypeAdapter(UserEnvName)
PATH = "envFile"


def parse_env_file(text: str, path: str = PATH) -> tuple[dict[str, str], list[Problem]]:
    """`KEY=VALUE` lines, values taken literally (no quotes removed, no `$` expansion) as Docker does;
    blank lines and `#` comments skipped. Names the server model owns and repeated names are refused. With any
    problem, no variables: a file half read would start the server with half its environment."""
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
    return ({}, problems) if problems else (env, [])


def read_env_file(file: str | Path, path: str = PATH) -> tuple[dict[str, str], list[Problem]]:
    """The variables of an env file on the deploying machine, or the problems that keep it from being read."""
    location = Path(file)
    if not location.is_file():
        return {}, [Problem(path, f"{str(file)!r} is not a file (resolved to {location.resolve()})")]
    try:
        text = location.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return {}, [Problem(path, f"cannot read {str(file)!r}: {error}")]
    return parse_env_file(text, path)


def env_file_variables(
    args: HayhooksContainerArgs, base: Path, taken: Iterable[str]
) -> tuple[dict[str, str], list[Problem]]:
    """The variables of `envFile` (relative to `base`), outside production (which refuses the file itself), and
    one problem per variable the config also sets (`taken`): the container would get it twice."""
    if args.env_file is None or args.profile is Profile.PRODUCTION:
        return {}, []
    env, problems = read_env_file(base / args.env_file)
    also = set(taken)
    problems += [
        Problem(PATH, f"{name} is also set by this config; set each variable once") for name in env if name in also
    ]
    return env, problems


def env_file_production_problems(args: HayhooksContainerArgs) -> list[Problem]:
    """Production takes secrets from Pulumi config, encrypted in state, never from a file."""
    if args.env_file is None:
        return []
    return [
        Problem(
            PATH,
            "refused in production: an env file is for local testing only; pass secrets with `secrets` "
            "(`pulumi config set --secret`), which keeps them encrypted in state",
        )
    ]
