"""Colour codes in the server's log lines (issue 19): off in production on both targets, as the server's own
switches allow; the server's behaviour in development. The real server's output: tests/live/test_log_colors.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hayhooks_pulumi import ConfigError
from hayhooks_pulumi.docker.plan import plan_container
from hayhooks_pulumi.kubernetes.plan import plan_service
from hayhooks_pulumi.server.facts import COLOURED_LOGGERS, INTERCEPTED_LOGGERS
from helpers.paths import REPO

IMAGE = f"deepset/hayhooks:v2.1.0@sha256:{'ab' * 32}"
CORS = {"allowOrigins": ["https://app.example.com"], "allowMethods": ["GET", "POST"]}
PLANS = {"kubernetes": plan_service, "docker": plan_container}


def _args(target: str, profile: str, **server: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "profile": profile,
        "image": IMAGE,
        "pipelinesPath": str(REPO / "pipelines"),
        "server": {"cors": CORS, **server},
    }
    if target == "kubernetes":
        args["ingress"] = {"host": "hayhooks.example.com", "tlsSecretName": "tls"}
    return args


@pytest.mark.parametrize("target", sorted(PLANS))
def test_production_turns_both_sources_of_colour_off(target: str) -> None:
    env = PLANS[target]("hh", _args(target, "production")).env
    assert env["LOGURU_COLORIZE"] == "false"
    loggers = json.loads(env["HAYHOOKS_INTERCEPTED_LOGGERS"])
    # Every logger the server routes by default, but those whose records carry uvicorn's colour codes.
    assert loggers and set(loggers) == set(INTERCEPTED_LOGGERS) - set(COLOURED_LOGGERS)


@pytest.mark.parametrize("target", sorted(PLANS))
def test_development_keeps_the_servers_own_behaviour_and_either_profile_may_choose(target: str) -> None:
    development = PLANS[target]("hh", _args(target, "development")).env
    assert "LOGURU_COLORIZE" not in development and "HAYHOOKS_INTERCEPTED_LOGGERS" not in development
    coloured = PLANS[target]("hh", _args(target, "production", logColors=True)).env
    assert coloured["LOGURU_COLORIZE"] == "true" and "HAYHOOKS_INTERCEPTED_LOGGERS" not in coloured
    plain = PLANS[target]("hh", _args(target, "development", logColors=False)).env
    assert plain["LOGURU_COLORIZE"] == "false" and "HAYHOOKS_INTERCEPTED_LOGGERS" in plain


@pytest.mark.parametrize("target", sorted(PLANS))
def test_advanced_intercepted_loggers_are_kept_unless_they_bring_the_colour_back(target: str) -> None:
    mine = ["uvicorn.access", "fastapi", "httpx"]
    env = PLANS[target]("hh", _args(target, "production", advanced={"HAYHOOKS_INTERCEPTED_LOGGERS": mine})).env
    assert json.loads(env["HAYHOOKS_INTERCEPTED_LOGGERS"]) == mine
    with pytest.raises(ConfigError) as caught:
        PLANS[target]("hh", _args(target, "production", advanced={"HAYHOOKS_INTERCEPTED_LOGGERS": ["uvicorn.error"]}))
    [problem] = caught.value.problems
    assert problem.path == "server.advanced.HAYHOOKS_INTERCEPTED_LOGGERS"
    assert "uvicorn.error" in problem.message and "server.logColors: true" in problem.message


def test_loguru_colorize_is_the_components_to_write() -> None:
    with pytest.raises(ConfigError) as caught:
        plan_container("hh", _args("docker", "development", extraEnv={"LOGURU_COLORIZE": "true"}))
    assert "server.extraEnv.LOGURU_COLORIZE" in str(caught.value) and "owned by this model" in str(caught.value)
