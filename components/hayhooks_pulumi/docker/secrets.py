"""Secret environment variables from Pulumi config: their model, the values they need, and their `KEY=VALUE`
entries, kept `Output.secret` end to end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi
from pydantic import Field

from ..errors import Problem
from ..model import ConfigModel
from ..planning import missing_secret
from ..server.checks import name_case_problems

if TYPE_CHECKING:
    from .args import HayhooksContainerArgs
    from .plan import ContainerPlan


class ConfigSecret(ConfigModel):
    """A secret environment variable whose value is a Pulumi config secret."""

    from_config: str = Field(min_length=1)
    """The config key, set with `pulumi config set --secret <key> <value>`; kept secret in state."""
    optional: bool = False
    """Leave the variable out when the key is not set (instead of failing)."""


def config_secrets(
    args: HayhooksContainerArgs, plain: Mapping[str, str], given: Mapping[str, object]
) -> tuple[tuple[str, ...], list[Problem]]:
    """The names of the secrets that have a value in `given`, and one problem per required one without. A name
    that is also plain is left to `check_secret_names`, which refuses it."""
    names: list[str] = []
    problems = []
    for env_name, source in args.secrets.items():
        if env_name in plain:
            continue
        if env_name in given:
            names.append(env_name)
        elif not source.optional:
            problems.append(
                Problem(
                    f"secrets.{env_name}.fromConfig",
                    f"{missing_secret(env_name, source.from_config)} (or mark the secret `optional: true`)",
                )
            )
    return tuple(names), problems


def secrets_production_problems(args: HayhooksContainerArgs) -> list[Problem]:
    """Production refuses a secret variable whose name is not upper case (`openai_api_key`)."""
    return name_case_problems({f"secrets.{name}": name for name in args.secrets})


def _entry(name: str, value: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(value).apply(lambda text: f"{name}={text}")


def secret_envs(plan: ContainerPlan, values: Mapping[str, pulumi.Input[str]]) -> list[pulumi.Output[str]]:
    """One secret entry per config secret that has a value, then one per env-file variable."""
    entries = [_entry(name, values[name]) for name in plan.config_secrets]
    entries += [_entry(name, value) for name, value in plan.env_file.items()]
    return entries
