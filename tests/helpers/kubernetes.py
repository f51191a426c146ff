"""HayhooksService under the mock engine: production args, the registrations and outputs, lookups by kind."""

from __future__ import annotations

from typing import Any

from hayhooks_pulumi import ConfigError, HayhooksService
from hayhooks_pulumi.render.mocks import Registration

from helpers.engine import register
from helpers.paths import PIPELINES

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"deepset/hayhooks:v2.1.0@{DIGEST}"


def base_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "profile": "production",
        "image": IMAGE,
        "pipelinesPath": PIPELINES,
        "server": {"cors": {"allowOrigins": ["https://app.example.com"], "allowMethods": ["GET", "POST"]}},
        "ingress": {"host": "hayhooks.example.com", "tlsSecretName": "hayhooks-tls"},
    }
    args.update(overrides)
    return args


def build(args: dict[str, Any], name: str = "hh", **kwargs: Any) -> tuple[dict, dict]:
    """Registrations by name, and the component's resolved outputs."""
    outputs: dict[str, Any] = {}

    def program() -> None:
        service = HayhooksService(name, args, **kwargs)
        for key in (
            "namespace",
            "service_name",
            "internal_url",
            "public_url",
            "image_digest",
            "image",
            "env",
            "basic_auth_username",
            "basic_auth_password",
        ):
            getattr(service, key).apply(lambda v, k=key: outputs.__setitem__(k, v))
        outputs["password_output"] = service.basic_auth_password

    registrations = register(program)
    return registrations, outputs


def refusal(args: dict[str, Any], **kwargs: Any) -> tuple[ConfigError, dict]:
    """The ConfigError HayhooksService raises for `args`, and what registered anyway (nothing, it should be)."""
    errors: list[ConfigError] = []

    def program() -> None:
        try:
            HayhooksService("hh", args, **kwargs)
        except ConfigError as error:
            errors.append(error)

    registrations = register(program)
    assert errors, "the config was accepted"
    return errors[0], registrations


def problem_at(args: dict[str, Any], path: str, **kwargs: Any) -> str:
    """The message of the one problem at `path`; nothing registered."""
    error, registrations = refusal(args, **kwargs)
    messages = [p.message for p in error.problems if p.path == path]
    assert messages, [str(p) for p in error.problems]
    assert registrations == {}, "a refused config must register nothing"
    return messages[0]


def by_kind(registrations: dict, kind: str) -> dict[str, Any]:
    matches = [r.inputs for r in registrations.values() if r.type.endswith(f":{kind}")]
    assert len(matches) == 1, f"expected one {kind}, got {len(matches)}"
    return matches[0]


def of_kind(registrations: dict, kind: str) -> list[dict[str, Any]]:
    return [r.inputs for r in registrations.values() if r.type.endswith(f":{kind}")]


def given_name(registration: Registration) -> str:
    """An object registered without a name: the name the provider gives it (the render's stand-in), so a
    replacement is created under a new name before the old object is deleted."""
    assert "name" not in registration.inputs["metadata"] and registration.auto_name
    return registration.auto_name


def name_of_kind(registrations: dict, kind: str) -> str:
    [registration] = [r for r in registrations.values() if r.type.endswith(f":{kind}")]
    return given_name(registration)


def pod(registrations: dict) -> dict[str, Any]:
    return by_kind(registrations, "Deployment")["spec"]["template"]


def container(registrations: dict) -> dict[str, Any]:
    return pod(registrations)["spec"]["containers"][0]


def env_of(registrations: dict) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container(registrations)["env"]}
