"""What the production profile refuses in the server settings, for every target (Kubernetes, Docker)."""

from __future__ import annotations

from ..errors import Problem
from .env import case_refusal, is_credential_name
from .facts import WILDCARD
from .models import LogLevel, ServerSettings

_NOISY_LEVELS = {LogLevel.DEBUG, LogLevel.TRACE}


def name_case_problems(names: dict[str, str]) -> list[Problem]:
    """Production's refusal of each variable name (by its config path) that is not upper case."""
    return [Problem(path, refusal) for path, name in names.items() if (refusal := case_refusal(name)) is not None]


def server_problems(server: ServerSettings, prefix: str = "server") -> list[Problem]:
    """What the production profile refuses in the server settings, each with the key to change."""
    problems = []
    cors = server.cors
    if WILDCARD in cors.allow_origins:
        problems.append(
            Problem(f"{prefix}.cors.allowOrigins", "'*' is refused in production: list the origins of your front-ends")
        )
    elif cors.any_origin:
        problems.append(
            Problem(
                f"{prefix}.cors.allowOriginRegex",
                "matches any origin, which is '*' and refused in production: anchor it to your domain",
            )
        )
    if WILDCARD in cors.allow_methods:
        problems.append(
            Problem(f"{prefix}.cors.allowMethods", "'*' is refused in production: list the methods (e.g. GET, POST)")
        )
    if server.show_tracebacks:
        problems.append(
            Problem(f"{prefix}.showTracebacks", "must be false in production (tracebacks leak code and data)")
        )
    if server.log_level in _NOISY_LEVELS:
        problems.append(
            Problem(
                f"{prefix}.logLevel",
                f"{server.log_level.value} is refused in production (it logs request payloads); use INFO or higher",
            )
        )
    problems += name_case_problems({f"{prefix}.extraEnv.{name}": name for name in server.extra_env})
    for name in server.extra_env:
        if is_credential_name(name):
            problems.append(
                Problem(
                    f"{prefix}.extraEnv.{name}",
                    f"{name} names a credential, refused as a plain value in production: it would be plain text "
                    f"in the container's spec and the `env` stack output; set it as secrets.{name} (e.g. "
                    "fromConfig, or fromStore on Kubernetes) instead",
                )
            )
    if not server.durable_mode:
        problems.append(
            Problem(
                f"{prefix}.durableMode",
                "must be true in production: without it the server rewrites YAML pipelines in a writable "
                "pipelines dir and serves the code-upload routes (/deploy_files, /deploy-yaml, /undeploy)",
            )
        )
    return problems
