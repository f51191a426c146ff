"""What HayhooksContainer refuses, and the error text (with its camelCase config path) a user sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hayhooks_pulumi import ConfigError, HayhooksContainerArgs, ServerSettings
from hayhooks_pulumi.docker.envfile import parse_env_file
from hayhooks_pulumi.docker.plan import plan_container
from hayhooks_pulumi.server.checks import server_problems
from hayhooks_pulumi.server.facts import MIN_MEMORY_LIMIT_MIB
from hayhooks_pulumi.stack_config import StackConfig, Target
from helpers.paths import REPO

DIGEST = "sha256:" + "ef" * 32
IMAGE = f"deepset/hayhooks:v2.1.0@{DIGEST}"
PIPELINES = str(REPO / "pipelines")
PROD_SERVER = {"cors": {"allowOrigins": ["https://app.example.com"], "allowMethods": ["GET", "POST"]}}


def prod(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"profile": "production", "image": IMAGE, "pipelinesPath": PIPELINES, "server": PROD_SERVER}
    args.update(overrides)
    return args


def dev(**overrides: Any) -> dict[str, Any]:
    return prod(profile="development", **overrides)


def problems(args: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as error:
        plan_container("hh", args, **kwargs)
    return {p.path: p.message for p in error.value.problems}


def test_a_valid_production_config_plans() -> None:
    plan = plan_container("hh", prod())
    assert plan.workers == 1
    assert plan.url == "http://127.0.0.1:1416"


# --------------------------------------------------------------------------------------------
# Production
# --------------------------------------------------------------------------------------------


def test_production_refuses_an_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KEY=value\n")
    found = problems(prod(envFile=str(env_file)))
    assert found == {
        "envFile": "refused in production: an env file is for local testing only; pass secrets with `secrets` "
        "(`pulumi config set --secret`), which keeps them encrypted in state"
    }


def test_production_does_not_read_a_refused_env_file() -> None:
    # Refused for what it is, not for a missing file: the file is never opened.
    assert set(problems(prod(envFile="/nonexistent/.env"))) == {"envFile"}


@pytest.mark.parametrize("host_ip", ["0.0.0.0", "192.168.1.20", "::"])
def test_production_refuses_a_wide_publish_without_auth(host_ip: str) -> None:
    found = problems(prod(publish={"hostIp": host_ip}))
    assert set(found) == {"publish.hostIp"}
    message = found["publish.hostIp"]
    assert message.startswith(f"{host_ip} publishes the server beyond this host, and the server has no authentication")
    assert "publish.auth 'external'" in message
    assert "publish: null" in message


def test_production_allows_a_wide_publish_when_something_in_front_authenticates() -> None:
    plan = plan_container("hh", prod(publish={"hostIp": "0.0.0.0", "auth": "external"}))
    assert plan.args.publish is not None and plan.args.publish.host_ip == "0.0.0.0"


@pytest.mark.parametrize("publish", [None, {"hostIp": "127.0.0.1"}, {"hostIp": "::1"}, {"hostIp": "127.0.0.2"}])
def test_production_allows_loopback_or_no_publish(publish: dict | None) -> None:
    plan_container("hh", prod(publish=publish))


def test_development_allows_a_wide_publish_and_an_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KEY=value\n")
    plan = plan_container("hh", dev(publish={"hostIp": "0.0.0.0"}, envFile=str(env_file)))
    assert plan.env_file == {"KEY": "value"}


def test_production_reuses_the_shared_server_rules() -> None:
    server = {
        "cors": {"allowOrigins": ["*"], "allowMethods": ["*"]},
        "showTracebacks": True,
        "logLevel": "DEBUG",
        "durableMode": False,
    }
    found = problems(prod(server=server))
    shared = {p.path: p.message for p in server_problems(ServerSettings.model_validate(server))}
    assert len(shared) == 5
    assert {k: found[k] for k in shared} == shared


def test_production_requires_a_memory_limit() -> None:
    assert problems(prod(resources={"memory": None})) == {
        "resources.memory": "required in production (a container without one can starve its host)"
    }


def test_production_refuses_a_memory_limit_below_what_the_server_starts_in() -> None:
    below = f"{MIN_MEMORY_LIMIT_MIB - 64}m"
    message = problems(prod(resources={"memory": below}))["resources.memory"]
    assert message.startswith(f"{below} is below {MIN_MEMORY_LIMIT_MIB}m") and "OOM-killed at start" in message
    assert plan_container("hh", prod(resources={"memory": f"{MIN_MEMORY_LIMIT_MIB}m"})).args.resources.memory_mb
    assert plan_container("hh", dev(resources={"memory": "64m"})).args.resources.memory_mb == 64


def test_production_refuses_an_in_memory_durable_store() -> None:
    server = {**PROD_SERVER, "durableStore": "memory"}
    assert "a restart of the container loses the durable runs" in problems(prod(server=server))["server.durableStore"]
    assert plan_container("hh", dev(server=server)).env["HAYHOOKS_DURABLE_STORE"] == "memory"


def test_production_requires_a_digest() -> None:
    found = problems(prod(image="deepset/hayhooks:v2.1.0"))
    assert "not pinned by digest" in found["image"]


def test_development_accepts_a_tag() -> None:
    assert plan_container("hh", dev(image="deepset/hayhooks:v2.1.0")).image.digest is None


# --------------------------------------------------------------------------------------------
# Workload type
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["production", "development"])
def test_cpu_workload_with_durable_mode_is_refused_with_the_choice_explained(profile: str) -> None:
    found = problems(prod(profile=profile, workloadType="cpu"))
    assert found["workloadType"] == (
        "'cpu' runs `hayhooks run --workers <2 x cpus + 1>`, and durable mode serves one process per server "
        "(the server exits with more). Choose one: keep server.durableMode true with workloadType 'io' and "
        "scale by running more containers (required in production), or set server.durableMode false "
        "(development only) to use several workers on one host"
    )


def test_cpu_workload_in_production_is_refused_either_way() -> None:
    # Without durable mode the shared rules refuse it instead.
    found = problems(prod(workloadType="cpu", server={**PROD_SERVER, "durableMode": False}))
    assert set(found) == {"server.durableMode"}


def test_cpu_workload_needs_a_cpu_limit() -> None:
    found = problems(dev(workloadType="cpu", resources={"cpus": None}, server={"durableMode": False}))
    assert found == {"resources.cpus": "required with workloadType 'cpu': the number of workers is 2 x cpus + 1"}


def test_unknown_workload_type_lists_the_choices() -> None:
    found = problems(dev(workloadType="gpu"))
    assert found["workloadType"] == "must be one of: 'io' or 'cpu'"


# --------------------------------------------------------------------------------------------
# Any profile
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_server_host_must_be_every_interface_inside_the_container(host: str) -> None:
    found = problems(dev(server={"host": host}))
    assert found["server.host"].startswith(f"{host!r} inside a container is unreachable through the published port")


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("0:0", "uid 0 is below 10000 (it could collide with a host user's)"),
        ("10001:999", "gid 999 is below 10000 (it could collide with a host user's)"),
        ("hayhooks", "'hayhooks' is not numeric uid:gid, e.g. 10001:10001"),
        ("10001", "'10001' is not numeric uid:gid, e.g. 10001:10001"),
    ],
)
def test_user_must_be_numeric_and_at_least_10000(user: str, message: str) -> None:
    assert problems(dev(user=user)) == {"user": message}


def test_a_typo_is_an_error_not_ignored() -> None:
    assert problems(dev(healthCheck={"interval": "5s"})) == {
        "healthCheck": "unknown key (a typo would be ignored silently, so it is an error)"
    }


@pytest.mark.parametrize(
    ("resources", "path", "fragment"),
    [
        ({"memory": "4 GB"}, "resources.memory", "is not a size"),
        ({"memory": "1k"}, "resources.memory", "not a whole number of MiB"),
        ({"memory": "4m"}, "resources.memory", "below Docker's minimum of 6m"),
        ({"cpus": 0}, "resources.cpus", "greater than 0"),
    ],
)
def test_resource_values_are_checked(resources: dict, path: str, fragment: str) -> None:
    assert fragment in problems(dev(resources=resources))[path]


@pytest.mark.parametrize(
    ("healthcheck", "path", "fragment"),
    [
        ({"interval": "30"}, "healthcheck.interval", "is not a duration"),
        ({"timeout": "500ms"}, "healthcheck.timeout", "shorter than a second"),
        ({"retries": 0}, "healthcheck.retries", "greater than or equal to 1"),
        ({"startPeriod": "soon"}, "healthcheck.startPeriod", "is not a duration"),
    ],
)
def test_healthcheck_values_are_checked(healthcheck: dict, path: str, fragment: str) -> None:
    assert fragment in problems(dev(healthcheck=healthcheck))[path]


def test_publish_needs_an_ip_address() -> None:
    assert "is not an IP address" in problems(dev(publish={"hostIp": "localhost"}))["publish.hostIp"]


def test_log_size_is_checked() -> None:
    assert "is not a log size" in problems(dev(logOptions={"maxSize": "10MB"}))["logOptions.maxSize"]


def test_secret_names_follow_the_shared_env_rules() -> None:
    assert problems(dev(secrets={"HAYHOOKS_PORT": {"fromConfig": "port"}})) == {
        "secrets.HAYHOOKS_PORT": "HAYHOOKS_PORT is set by server.port; use that key"
    }


def test_a_secret_cannot_also_be_a_plain_variable() -> None:
    found = problems(
        dev(server={"extraEnv": {"API_KEY": "x"}}, secrets={"API_KEY": {"fromConfig": "apiKey"}}),
        secret_values={"API_KEY": "y"},
    )
    assert found == {
        "secrets.API_KEY": "API_KEY is already set as a plain variable (server.extraEnv); set each variable once"
    }
    assert problems(dev(secrets={"HOME": {"fromConfig": "home"}}), secret_values={"HOME": "/x"}) == {
        "secrets.HOME": "HOME is not allowed: the component sets it to the server's writable home directory"
    }


def test_env_file_problems_name_the_line(tmp_path: Path) -> None:
    env_file = tmp_path / "bad.env"
    env_file.write_text("OK=1\nHAYHOOKS_PORT=9\nJUST_A_NAME\nOK=2\nLOG=DEBUG\n")
    found_messages = [p.message for p in _all_problems(dev(envFile=str(env_file)))]
    assert found_messages == [
        "line 2: HAYHOOKS_PORT is set by server.port; use that key",
        "line 3: expected KEY=VALUE (a bare name would copy the deploying shell's variable, which is not supported)",
        "line 4: OK is set twice",
        "line 5: LOG is not allowed: legacy alias of HAYHOOKS_LOG_LEVEL; use server.logLevel",
    ]


def test_env_file_must_exist() -> None:
    assert problems(dev(envFile="/nonexistent/.env"))["envFile"].startswith("'/nonexistent/.env' is not a file")


def test_env_file_cannot_repeat_a_variable_set_elsewhere(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("PIPELINE_MODE=slow\n")
    messages = [
        p.message for p in _all_problems(dev(envFile=str(env_file), server={"extraEnv": {"PIPELINE_MODE": "fast"}}))
    ]
    assert messages == ["PIPELINE_MODE is also set by this config; set each variable once"]
    env_file.write_text("HOME=/root\n")
    assert [p.message for p in _all_problems(dev(envFile=str(env_file)))] == [
        "line 1: HOME is not allowed: the component sets it to the server's writable home directory"
    ]


def test_env_file_format_matches_docker() -> None:
    text = "# comment\n\n  INDENTED=yes\nEMPTY=\nQUOTED='single'\nEQUALS=a=b\n"
    assert parse_env_file(text) == ({"INDENTED": "yes", "EMPTY": "", "QUOTED": "'single'", "EQUALS": "a=b"}, [])


def test_pipelines_dir_must_hold_pipelines(tmp_path: Path) -> None:
    found = problems(dev(pipelinesPath=str(tmp_path)))
    assert "holds no pipeline" in found["pipelinesPath"]
    assert "is not a directory" in problems(dev(pipelinesPath=str(tmp_path / "missing")))["pipelinesPath"]


def test_component_name_is_checked() -> None:
    with pytest.raises(ConfigError) as error:
        plan_container("Hay_Hooks", dev())
    assert [p.path for p in error.value.problems] == ["name"]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("A=1\n")
    found = problems(
        prod(
            envFile=str(env_file),
            publish={"hostIp": "0.0.0.0"},
            workloadType="cpu",
            resources={"memory": None},
            server={"host": "127.0.0.1", **PROD_SERVER},
        )
    )
    assert set(found) == {"envFile", "publish.hostIp", "workloadType", "resources.memory", "server.host"}


def test_errors_are_placed_under_the_stack_key() -> None:
    stack = StackConfig(namespace="hayhooks", target=Target.DOCKER, service={})
    with pytest.raises(ConfigError) as error, stack.scope("service"):
        plan_container("hh", prod(workloadType="cpu"))
    assert [p.path for p in error.value.problems] == ["hayhooks:service.workloadType"]


def test_args_model_round_trips_through_camel_case() -> None:
    args = HayhooksContainerArgs.model_validate(dev(workloadType="io", logOptions={"maxFile": 4}))
    dumped = args.model_dump(mode="json")
    assert dumped["workloadType"] == "io"
    assert dumped["logOptions"]["maxFile"] == 4
    assert HayhooksContainerArgs.model_validate(dumped) == args


def _all_problems(args: dict[str, Any]) -> tuple:
    with pytest.raises(ConfigError) as error:
        plan_container("hh", args)
    return error.value.problems
