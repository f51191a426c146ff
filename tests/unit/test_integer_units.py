"""An integer key given a value with a unit (`10 minutes`, `30s`, `70%`) is refused saying what the key counts, and
where the value reads as a duration, the number to write (issue 19: it once said only "unable to parse string as
an integer")."""

from __future__ import annotations

from typing import Any

import pytest
from hayhooks_pulumi import ConfigError
from hayhooks_pulumi.docker.plan import plan_container
from hayhooks_pulumi.kubernetes.plan import plan_service
from helpers.paths import REPO

BASE = {"profile": "development", "image": "deepset/hayhooks:v2.1.0", "pipelinesPath": str(REPO / "pipelines")}


def _message(plan: Any, path: str, args: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        plan("hh", {**BASE, **args})
    return {p.path: p.message for p in caught.value.problems}[path]


@pytest.mark.parametrize(
    ("args", "path", "expected"),
    [
        (
            {"rollout": {"timeoutSeconds": "10 minutes"}},
            "rollout.timeoutSeconds",
            "'10 minutes' is not a whole number: this key takes a whole number of seconds: write 600 for 10 minutes",
        ),
        (
            {"probes": {"startupBudgetSeconds": "5m"}},
            "probes.startupBudgetSeconds",
            "'5m' is not a whole number: this key takes a whole number of seconds: write 300 for 5m",
        ),
        (
            {"server": {"gracefulShutdownTimeout": "30 sec"}},
            "server.gracefulShutdownTimeout",
            "'30 sec' is not a whole number: this key takes a whole number of seconds: write 30 for 30 sec",
        ),
        (
            {"autoscaling": {"enabled": True, "targetCpuUtilization": "70%"}},
            "autoscaling.targetCpuUtilization",
            "'70%' is not a whole number: this key takes a whole number of percent: write 70",
        ),
        (
            {"replicas": "two"},
            "replicas",
            "'two' is not a whole number: this key takes a whole number of pods, e.g. 2",
        ),
    ],
)
def test_kubernetes_integer_keys_say_what_they_count(args: dict, path: str, expected: str) -> None:
    assert _message(plan_service, path, args) == expected


def test_a_shared_server_key_says_it_on_docker_too() -> None:
    message = _message(plan_container, "server.cors.maxAge", {"server": {"cors": {"maxAge": "1 hour"}}})
    assert message == "'1 hour' is not a whole number: this key takes a whole number of seconds: write 3600 for 1 hour"


def test_a_key_that_counts_nothing_named_keeps_the_plain_message() -> None:
    message = _message(plan_service, "server.port", {"server": {"port": "http"}})
    assert "valid integer" in message and "takes a whole number of" not in message
