"""Bad config is refused before any resource registers, with an error naming each key."""

from __future__ import annotations

from typing import Any

import pytest
from hayhooks_pulumi import ConfigError, HayhooksService
from helpers.bad_inputs import INVALID_VALUES, PRODUCTION_REFUSALS, UNKNOWN_KEYS, with_key
from helpers.engine import register
from helpers.kubernetes import base_args, refusal


def merged(path: str, value: Any) -> dict[str, Any]:
    """base_args() with one dotted key set (REMOVE deletes it)."""
    return with_key(base_args(), path, value)


@pytest.mark.parametrize(("key", "value", "path", "message"), PRODUCTION_REFUSALS)
def test_production_refuses(key: str, value: Any, path: str, message: str) -> None:
    args = merged(key, value)
    error, registrations = refusal(args)
    assert [p.path for p in error.problems] == [path]
    assert message in error.problems[0].message
    assert registrations == {}, "a refused config must register nothing"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("server.cors.allowOrigins", ["*"]),
        ("server.showTracebacks", True),
        ("server.logLevel", "DEBUG"),
        ("server.durableMode", False),
        ("image", "deepset/hayhooks:v2.1.0"),
        ("replicas", 1),
        ("ingress.auth", "none"),
    ],
)
def test_development_allows_what_production_refuses(key: str, value: Any) -> None:
    args = merged(key, value)
    args["profile"] = "development"
    registrations = register(lambda: HayhooksService("hh", args))
    assert any(r.type.endswith(":Deployment") for r in registrations.values())


def test_credentials_with_any_origin_are_refused_in_every_profile() -> None:
    args = merged("server.cors", {"allowOrigins": ["*"], "allowCredentials": True})
    args["profile"] = "development"
    error, _ = refusal(args)
    assert [p.path for p in error.problems] == ["server.cors.allowCredentials"]


def test_all_problems_are_reported_at_once() -> None:
    args = merged("server.showTracebacks", True)
    args["server"]["logLevel"] = "DEBUG"
    args["replicas"] = 1
    error, _ = refusal(args)
    assert {p.path for p in error.problems} == {"server.showTracebacks", "server.logLevel", "replicas"}


@pytest.mark.parametrize("path", UNKNOWN_KEYS)
def test_unknown_keys_are_errors(path: str) -> None:
    args = merged(path, 1)
    error, registrations = refusal(args)
    assert path in [p.path for p in error.problems]
    assert any("unknown key" in p.message for p in error.problems)
    assert registrations == {}


@pytest.mark.parametrize(("args_patch", "path", "message"), INVALID_VALUES)
def test_invalid_values_name_their_key(args_patch: dict[str, Any], path: str, message: str) -> None:
    error, registrations = refusal({**base_args(), **args_patch})
    problem = next((p for p in error.problems if p.path == path), None)
    assert problem is not None, [str(p) for p in error.problems]
    assert message in problem.message
    assert registrations == {}


def test_component_name_must_fit_kubernetes_names() -> None:
    errors: list[ConfigError] = []

    def program() -> None:
        try:
            HayhooksService("Bad_Name", base_args())
        except ConfigError as error:
            errors.append(error)

    register(program)
    assert errors and errors[0].problems[0].path == "name"


def test_pipelines_too_big_for_a_configmap_are_refused(tmp_path) -> None:
    (tmp_path / "big.yml").write_text("# padding\n" * 110_000 + "inputs: {q: p.q}\n")
    error, registrations = refusal({**base_args(), "pipelinesPath": str(tmp_path)})
    (problem,) = error.problems
    assert problem.path == "pipelinesPath" and "more than a ConfigMap carries" in problem.message
    assert registrations == {}


def test_production_refuses_an_origin_regex_that_matches_any_origin() -> None:
    error, registrations = refusal(merged("server.cors.allowOriginRegex", "https://.*"))
    assert [p.path for p in error.problems] == ["server.cors.allowOriginRegex"]
    assert "refused in production" in error.problems[0].message
    assert registrations == {}
