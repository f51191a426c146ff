"""Reading a stack's structured config (`hayhooks:*` keys) into validated models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from .errors import ConfigError, ConfigSource, Problem, reading
from .kubernetes.edge.gateway.oidc import OIDC_CLIENT_SECRET_VALUE

# The keys of the project's namespace a stack reads, besides those its `fromConfig` sources name.
STACK_KEYS = ("target", "service")
# pulumi-kubernetes' default namespace, for objects that name none: every object of a service names its own.
PROVIDER_NAMESPACE_KEY = "kubernetes:namespace"


class Target(StrEnum):
    """Where a stack runs Hayhooks."""

    KUBERNETES = "kubernetes"
    DOCKER = "docker"


@dataclass(frozen=True)
class StackConfig:
    """A stack's target, its raw service config, and the secret values it names."""

    namespace: str
    target: Target
    service: dict[str, Any]
    secret_values: dict[str, pulumi.Output[str]] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    """What is wrong with the stack's own keys (e.g. an unknown `hayhooks:*` key), raised by `scope` together
    with the problems of the component built inside, so that one run reports them all."""

    def key(self, path: str) -> str:
        return f"{self.namespace}:{path}"

    @contextmanager
    def scope(self, key: str) -> Iterator[None]:
        """Build a component from this stack's `key` inside: its ConfigError names paths under the stack key, e.g.
        `hayhooks:service.replicas`, and a missing secret says which config key to set."""
        with reading(ConfigSource(key=self.key(key), secrets_from_config=True, pending=self.problems)):
            yield


def load_stack_config(namespace: str | None = None) -> StackConfig:
    """`<namespace>:target` and `<namespace>:service` from the running stack's config. What is wrong with the
    stack's own keys is kept in `problems`, for `scope` to report with the component's; raised here only when no
    component can be checked (no target, or no mapping of settings)."""
    namespace = namespace or pulumi.get_project()
    config = pulumi.Config(namespace)
    problems: list[Problem] = []
    raw_target = config.get("target") or Target.KUBERNETES.value
    target = Target(raw_target) if raw_target in set(Target) else None
    if target is None:
        problems.append(
            Problem(
                f"{namespace}:target",
                f"{raw_target!r} is not a target: use one of " + ", ".join(t.value for t in Target),
            )
        )
    try:
        service = config.get_object("service") or {}
    except Exception as error:  # the SDK raises its own type for malformed JSON
        problems.append(Problem(f"{namespace}:service", f"not a structured value: {error}"))
        service = None
    if service is not None and not isinstance(service, dict):
        problems.append(Problem(f"{namespace}:service", "must be a mapping of settings"))
    known = {*STACK_KEYS, *_from_config_keys(service)}
    problems.extend(
        Problem(
            f"{namespace}:{key}",
            f"unknown key (a typo would be ignored silently, so it is an error); this project reads "
            f"{namespace}:target, {namespace}:service and the keys its `fromConfig` sources name",
        )
        for key in sorted(_stack_keys(namespace) - known)
    )
    problems.extend(_provider_namespace_problems(namespace, service))
    if target is None or not isinstance(service, dict):
        raise ConfigError(problems)
    values = config_secret_values(service, config)
    return StackConfig(namespace, target, service, secret_values=values, problems=tuple(problems))


def _provider_namespace_problems(namespace: str, service: Any) -> list[Problem]:
    """`kubernetes:namespace` is the provider's default for objects that name no namespace; a service's objects all
    name theirs, so in a stack file it would do nothing but suggest it does."""
    provider, _, key = PROVIDER_NAMESPACE_KEY.partition(":")
    if pulumi.Config(provider).get(key) is None:
        return []
    named = service.get("namespace") if isinstance(service, dict) else None
    name = named.get("name") if isinstance(named, dict) else None
    where = f" (now {name!r})" if isinstance(name, str) else " (default 'hayhooks')"
    return [
        Problem(
            PROVIDER_NAMESPACE_KEY,
            f"does nothing here: it is the provider's default for objects that name no namespace, and every object "
            f"of the service names its own, set by {namespace}:service.namespace.name{where}; remove it and set "
            "that key instead",
        )
    ]


def _stack_keys(namespace: str) -> set[str]:
    """The keys under `namespace:` the running stack's config holds: set in this process (the render, tests) or
    handed over by the engine in `PULUMI_CONFIG`."""
    prefix = f"{namespace}:"
    keys = {*runtime_config.CONFIG.get(), *runtime_config.get_config_env()}
    return {key.removeprefix(prefix) for key in keys if key.startswith(prefix)}


def _from_config_keys(value: Any) -> set[str]:
    """Every `fromConfig` key named anywhere in the service config (env secrets, the OIDC client secret)."""
    if isinstance(value, dict):
        named = {value["fromConfig"]} if isinstance(value.get("fromConfig"), str) else set()
        return named.union(*(_from_config_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_from_config_keys(v) for v in value))
    return set()


def config_secret_values(service: dict[str, Any], config: pulumi.Config) -> dict[str, pulumi.Output[str]]:
    """The `secret_values` a component takes: each `fromConfig` key of `service` that `config` has, kept secret."""
    secrets = service.get("secrets") or {}
    sources = dict(secrets) if isinstance(secrets, dict) else {}
    # The gateway's OIDC client secret may come from config too, under its own key.
    sources[OIDC_CLIENT_SECRET_VALUE] = _at(service, OIDC_CLIENT_SECRET_VALUE)
    values: dict[str, pulumi.Output[str]] = {}
    for name, source in sources.items():
        key = source.get("fromConfig") if isinstance(source, dict) else None
        if isinstance(key, str) and config.get(key) is not None:
            values[name] = config.require_secret(key)
    return values


def _at(value: Any, dotted: str) -> Any:
    """The value at a dotted path of nested mappings, or None."""
    for key in dotted.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value
