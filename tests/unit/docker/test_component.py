"""HayhooksContainer under the SDK mock engine: what each Docker resource receives (camelCase inputs)."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import pytest
from hayhooks_pulumi import ConfigError, HayhooksContainer, HayhooksContainerArgs
from hayhooks_pulumi.pipelines import load_pipelines
from hayhooks_pulumi.stack_config import StackConfig, Target
from helpers.docker import (
    CONTAINER,
    DIGEST,
    FORCE_NEW,
    IMAGE,
    PROVIDER_SIDE,
    UPDATED_IN_PLACE,
    build,
    dev_args,
    of_type,
)
from helpers.engine import register
from helpers.paths import PIPELINES, REPO
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret


def _import_server_settings():
    """`hayhooks.settings` imported now (not late, after the mock engine's threads ran), from an empty
    directory: at import it loads a `.env` found from the working directory."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as empty:
        os.chdir(empty)
        try:
            return importlib.import_module("hayhooks.settings")
        finally:
            os.chdir(cwd)


SERVER_SETTINGS = _import_server_settings()
NETWORK = "docker:index/network:Network"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


def container(registrations: dict) -> dict[str, Any]:
    return of_type(registrations, CONTAINER).inputs


def env_of(inputs: dict[str, Any]) -> dict[str, str]:
    envs = inputs["envs"]
    entries = unwrap_rpc_secret(envs) if is_rpc_secret(envs) else envs
    return dict(entry.split("=", 1) for entry in entries)


def server_parse(env: dict[str, str]) -> Any:
    """The server's own settings model, built from exactly `env`."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("HAYHOOKS_")}
    try:
        for name in saved:
            del os.environ[name]
        os.environ.update({k: v for k, v in env.items() if k.startswith("HAYHOOKS_")})
        return SERVER_SETTINGS.AppSettings()
    finally:
        for name in [k for k in os.environ if k.startswith("HAYHOOKS_")]:
            del os.environ[name]
        os.environ.update(saved)


# --------------------------------------------------------------------------------------------
# The resources and how they are wired
# --------------------------------------------------------------------------------------------


def test_registers_a_network_an_image_and_a_container_under_the_component() -> None:
    registrations, _ = build(dev_args())
    component = registrations["hh"]
    assert component.type == "hayhooks:index:HayhooksContainer"
    children = {r.type: r for r in registrations.values() if r.parent_urn == component.urn}
    assert set(children) == {NETWORK, REMOTE_IMAGE, CONTAINER}


def test_image_is_pulled_by_its_pinned_reference_and_the_container_uses_its_image_id() -> None:
    registrations, outputs = build(dev_args())
    image = of_type(registrations, REMOTE_IMAGE).inputs
    assert image["name"] == IMAGE
    assert image["keepLocally"] is True
    # The mock engine's image id stand-in: the container must start from it, not from the repo digest.
    assert container(registrations)["image"].startswith("sha256:")
    assert container(registrations)["image"] != IMAGE
    assert outputs["image_digest"] == DIGEST


def test_image_can_come_as_an_output_and_is_validated() -> None:
    # Its tag cannot say the release before deploy time: `server.version` does.
    args = dev_args(server={"version": "2.1.0"})
    del args["image"]
    registrations, _ = build(args, image=pulumi.Output.from_input(IMAGE))
    assert of_type(registrations, REMOTE_IMAGE).inputs["name"] == IMAGE
    with pytest.raises(ConfigError, match="image: required"):
        build(args)


def test_dedicated_network_and_alias() -> None:
    registrations, outputs = build(dev_args(), name="hh")
    network = of_type(registrations, NETWORK).inputs
    assert network["name"] == "hh-network"
    assert network["driver"] == "bridge"
    assert container(registrations)["networksAdvanced"] == [{"name": "hh-network", "aliases": ["hh"]}]
    assert container(registrations)["name"] == "hh"
    assert outputs["container_name"] == "hh"
    assert outputs["network_name"] == "hh-network"


def test_recommended_labels_on_container_and_network() -> None:
    registrations, _ = build(dev_args(labels={"team": "search"}))
    expected = {
        "app.kubernetes.io/name": "hayhooks",
        "app.kubernetes.io/instance": "hh",
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/part-of": "hayhooks",
        "app.kubernetes.io/managed-by": "pulumi",
        "team": "search",
    }
    network_labels = {x["label"]: x["value"] for x in of_type(registrations, NETWORK).inputs["labels"]}
    container_labels = {x["label"]: x["value"] for x in container(registrations)["labels"]}
    # The version only on the container: a network's labels replace it, so it carries nothing per release.
    assert network_labels == expected
    checksum = load_pipelines(PIPELINES).checksum
    assert container_labels == {
        **expected,
        "app.kubernetes.io/version": "v2.1.0",
        "hayhooks.deepset.ai/pipelines-checksum": checksum,
    }


def test_an_image_tag_bump_leaves_the_network_alone_and_its_replacement_deletes_first() -> None:
    # Every input of a docker_network forces its replacement, and its name is fixed.
    before, _ = build(dev_args(image="deepset/hayhooks:v2.0.2"))
    after, _ = build(dev_args(image="deepset/hayhooks:v2.1.0"))
    assert of_type(before, NETWORK).inputs == of_type(after, NETWORK).inputs
    assert container(before)["labels"] != container(after)["labels"]
    # A replacement for another reason (labels, driver) must not create a second network of the same name.
    assert of_type(after, NETWORK).delete_before_replace is True


# --------------------------------------------------------------------------------------------
# The environment
# --------------------------------------------------------------------------------------------


def test_env_is_the_shared_settings_model_and_the_server_parses_it() -> None:
    server = {
        "cors": {"allowOrigins": ["http://localhost:3000"], "allowMethods": ["GET", "POST"]},
        "logLevel": "DEBUG",
        "extraEnv": {"PIPELINE_MODE": "fast"},
    }
    registrations, outputs = build(dev_args(server=server))
    env = env_of(container(registrations))
    assert env["HAYHOOKS_HOST"] == "0.0.0.0"
    assert env["HAYHOOKS_PIPELINES_DIR"] == "/opt/hayhooks/pipelines"
    assert env["HAYHOOKS_CORS_ALLOW_ORIGINS"] == '["http://localhost:3000"]'
    assert env["HAYSTACK_TELEMETRY_ENABLED"] == "False"
    assert env["HOME"] == "/home/hayhooks"
    assert env["PIPELINE_MODE"] == "fast"
    assert "WEB_CONCURRENCY" not in env
    assert outputs["env"] == env
    parsed = server_parse(env)
    assert parsed.host == "0.0.0.0"
    assert parsed.port == 1416
    assert parsed.cors_allow_origins == ["http://localhost:3000"]
    assert parsed.cors_allow_methods == ["GET", "POST"]
    assert parsed.durable_mode is True
    assert parsed.pipelines_dir == "/opt/hayhooks/pipelines"


def test_env_entries_are_key_value_strings_in_a_stable_order() -> None:
    first, _ = build(dev_args())
    second, _ = build(dev_args())
    assert container(first)["envs"] == container(second)["envs"]
    assert all("=" in entry for entry in container(first)["envs"])


def test_config_secrets_are_passed_as_env_and_kept_secret() -> None:
    args = dev_args(secrets={"EXAMPLE_LLM_API_KEY": {"fromConfig": "exampleLlmApiKey"}})
    registrations, outputs = build(args, secret_values={"EXAMPLE_LLM_API_KEY": pulumi.Output.secret("sk-123")})
    envs = container(registrations)["envs"]
    assert is_rpc_secret(envs), "the env list carrying a secret must reach the engine as a secret"
    assert "EXAMPLE_LLM_API_KEY=sk-123" in unwrap_rpc_secret(envs)
    assert "EXAMPLE_LLM_API_KEY" not in outputs["env"]
    assert "sk-123" not in repr(outputs)


def test_a_plain_secret_value_is_made_secret() -> None:
    args = dev_args(secrets={"TOKEN": {"fromConfig": "token"}})
    registrations, _ = build(args, secret_values={"TOKEN": "plain-text"})
    assert is_rpc_secret(container(registrations)["envs"])


def test_optional_secret_without_a_value_is_left_out() -> None:
    args = dev_args(secrets={"EXAMPLE_LLM_API_KEY": {"fromConfig": "exampleLlmApiKey", "optional": True}})
    registrations, _ = build(args)
    envs = container(registrations)["envs"]
    assert not is_rpc_secret(envs)
    assert not any(e.startswith("EXAMPLE_LLM_API_KEY=") for e in envs)


def test_required_secret_without_a_value_names_the_config_command_or_the_argument() -> None:
    args = dev_args(secrets={"TOKEN": {"fromConfig": "apiToken"}})
    stack = StackConfig(namespace="hayhooks", target=Target.DOCKER, service=args)
    with pytest.raises(ConfigError) as error, stack.scope("service"):
        build(args)
    assert str(error.value) == (
        "hayhooks:service.secrets.TOKEN.fromConfig: no value given; set it with "
        "`pulumi config set --secret apiToken <value>` (or mark the secret `optional: true`)"
    )
    with pytest.raises(ConfigError) as error:
        build(args)
    assert str(error.value) == (
        "HayhooksContainer 'hh': secrets.TOKEN.fromConfig: no value given: the secret_values= argument is missing "
        "or has no 'TOKEN' entry; pass secret_values={'TOKEN': <value>} (or mark the secret `optional: true`)"
    )


def test_env_file_values_are_passed_as_secret_env_in_development(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    env_file.write_text('# local keys\nEXAMPLE_LLM_API_KEY=sk-local\n\nQUOTED="kept as is"\n')
    registrations, outputs = build(dev_args(envFile=str(env_file)))
    envs = container(registrations)["envs"]
    assert is_rpc_secret(envs)
    assert {"EXAMPLE_LLM_API_KEY=sk-local", 'QUOTED="kept as is"'} <= set(unwrap_rpc_secret(envs))
    assert "EXAMPLE_LLM_API_KEY" not in outputs["env"]


def test_env_file_path_is_relative_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("A_KEY=1\n")
    monkeypatch.chdir(tmp_path)
    registrations, _ = build(dev_args(envFile=".env"))
    assert "A_KEY=1" in unwrap_rpc_secret(container(registrations)["envs"])


# --------------------------------------------------------------------------------------------
# Command, workers, limits
# --------------------------------------------------------------------------------------------


def test_io_workload_runs_one_worker() -> None:
    registrations, _ = build(dev_args())
    assert container(registrations)["command"] == [
        "hayhooks",
        "run",
        "--host",
        "0.0.0.0",
        "--port",
        "1416",
        "--workers",
        "1",
    ]


@pytest.mark.parametrize(("cpus", "workers"), [(2.0, "5"), (1.5, "4"), (0.5, "2"), (4, "9")])
def test_cpu_workload_runs_two_workers_per_cpu_plus_one(cpus: float, workers: str) -> None:
    args = dev_args(workloadType="cpu", resources={"cpus": cpus}, server={"durableMode": False})
    registrations, _ = build(args)
    command = container(registrations)["command"]
    assert command[command.index("--workers") + 1] == workers


def test_memory_and_cpu_limits_default_to_the_guides_4g_and_2_cpus() -> None:
    inputs = container(build(dev_args())[0])
    assert inputs["memory"] == 4096
    assert inputs["cpus"] == "2.0"


@pytest.mark.parametrize(("memory", "mb"), [("512m", 512), ("2Gi", 2048), ("1g", 1024), ("8192M", 8192)])
def test_memory_is_given_to_docker_in_mb(memory: str, mb: int) -> None:
    inputs = container(build(dev_args(resources={"memory": memory, "cpus": 0.5}))[0])
    assert inputs["memory"] == mb
    assert inputs["cpus"] == "0.5"


def test_limits_can_be_removed_in_development() -> None:
    inputs = container(build(dev_args(resources={"memory": None, "cpus": None}))[0])
    assert "memory" not in inputs
    assert "cpus" not in inputs


# --------------------------------------------------------------------------------------------
# Health check
# --------------------------------------------------------------------------------------------


def test_healthcheck_uses_python_urllib_on_status_with_the_guides_timings() -> None:
    inputs = container(build(dev_args())[0])
    check = inputs["healthcheck"]
    assert check["tests"][:3] == ["CMD", "python", "-c"]
    script = check["tests"][3]
    assert "urllib.request" in script
    assert "http://127.0.0.1:1416/status" in script
    assert "curl" not in " ".join(check["tests"])
    assert (check["interval"], check["timeout"], check["retries"], check["startPeriod"]) == ("30s", "10s", 3, "40s")
    assert check["startInterval"] == "5s"
    assert inputs["wait"] is True
    # The start period, then `retries` failing checks of interval + timeout each.
    assert inputs["waitTimeout"] == 40 + 3 * (30 + 10)


def test_healthcheck_timings_and_wait_are_configurable() -> None:
    healthcheck = {
        "interval": "1m",
        "timeout": "5s",
        "retries": 5,
        "startPeriod": "2m",
        "startInterval": None,
        "wait": False,
    }
    inputs = container(build(dev_args(healthcheck=healthcheck, server={"port": 8080}))[0])
    check = inputs["healthcheck"]
    assert (check["interval"], check["timeout"], check["retries"], check["startPeriod"]) == ("1m", "5s", 5, "2m")
    assert "startInterval" not in check
    assert "http://127.0.0.1:8080/status" in check["tests"][3]
    assert inputs.get("wait") is False
    assert "waitTimeout" not in inputs


def test_healthcheck_script_exits_non_zero_when_nothing_answers() -> None:
    script = container(build(dev_args(healthcheck={"timeout": "2s"}))[0])["healthcheck"]["tests"][3]
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-c", script.replace("127.0.0.1:1416", f"127.0.0.1:{port}")],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 1
    assert "unhealthy:" in done.stderr


# --------------------------------------------------------------------------------------------
# How a change reaches the running container
# --------------------------------------------------------------------------------------------


def test_a_change_the_provider_cannot_apply_replaces_the_container_deleting_it_first() -> None:
    registered = of_type(build(dev_args())[0], CONTAINER)
    unapplied = set(registered.inputs) - FORCE_NEW - UPDATED_IN_PLACE - PROVIDER_SIDE
    assert unapplied == {"healthcheck", "tmpfs"}
    assert sorted(registered.replace_on_changes) == sorted(unapplied)
    # The name is fixed: the old container must be gone before the new one is created.
    assert registered.delete_before_replace is True


# --------------------------------------------------------------------------------------------
# Hardening, storage, ports, logs
# --------------------------------------------------------------------------------------------


def test_read_only_root_with_tmpfs_for_tmp_and_home_non_root_no_capabilities() -> None:
    inputs = container(build(dev_args())[0])
    assert inputs["readOnly"] is True
    assert set(inputs["tmpfs"]) == {"/tmp", "/home/hayhooks"}
    assert "uid=10001" in inputs["tmpfs"]["/home/hayhooks"]
    assert "gid=10001" in inputs["tmpfs"]["/home/hayhooks"]
    assert "mode=1777" in inputs["tmpfs"]["/tmp"]
    for options in inputs["tmpfs"].values():
        assert {"rw", "nosuid", "nodev", "noexec"} <= set(options.split(","))
    assert inputs["user"] == "10001:10001"
    assert inputs["capabilities"] == {"drops": ["ALL"]}
    assert inputs["securityOpts"] == ["no-new-privileges:true"]


def test_user_is_configurable_and_owns_home() -> None:
    inputs = container(build(dev_args(user="20000:30000"))[0])
    assert inputs["user"] == "20000:30000"
    assert "uid=20000,gid=30000" in inputs["tmpfs"]["/home/hayhooks"]


def test_pipelines_are_bind_mounted_read_only_from_an_absolute_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    inputs = container(build(dev_args(pipelinesPath="pipelines"))[0])
    assert inputs["volumes"] == [
        {"hostPath": str(REPO / "pipelines"), "containerPath": "/opt/hayhooks/pipelines", "readOnly": True}
    ]


def test_pipelines_mount_follows_the_configured_pipelines_dir() -> None:
    inputs = container(build(dev_args(server={"pipelinesDir": "/srv/pipelines"}))[0])
    assert inputs["volumes"][0]["containerPath"] == "/srv/pipelines"
    assert env_of(inputs)["HAYHOOKS_PIPELINES_DIR"] == "/srv/pipelines"


def test_port_is_published_on_loopback_by_default() -> None:
    registrations, outputs = build(dev_args())
    assert container(registrations)["ports"] == [
        {"internal": 1416, "external": 1416, "ip": "127.0.0.1", "protocol": "tcp"}
    ]
    assert outputs["url"] == "http://127.0.0.1:1416"


def test_publish_address_and_port_are_configurable() -> None:
    registrations, outputs = build(dev_args(publish={"hostIp": "0.0.0.0", "hostPort": 8080}))
    assert container(registrations)["ports"] == [
        {"internal": 1416, "external": 8080, "ip": "0.0.0.0", "protocol": "tcp"}
    ]
    assert outputs["url"] == "http://127.0.0.1:8080"
    _, outputs = build(dev_args(publish={"hostIp": "::1"}))
    assert outputs["url"] == "http://[::1]:1416"


def test_publishing_can_be_turned_off() -> None:
    registrations, outputs = build(dev_args(publish=None))
    assert "ports" not in container(registrations)
    assert outputs["url"] is None


def test_restart_stop_and_log_rotation() -> None:
    inputs = container(build(dev_args())[0])
    assert inputs["restart"] == "unless-stopped"
    assert inputs["logDriver"] == "json-file"
    assert inputs["logOpts"] == {"max-size": "10m", "max-file": "3"}
    # Docker waits longer than the server's own drain timeout (20 s) before it kills it.
    assert inputs["stopTimeout"] == 25
    assert inputs["stopSignal"] == "SIGTERM"


def test_log_options_are_configurable() -> None:
    inputs = container(build(dev_args(logOptions={"driver": "local", "maxSize": "50m", "maxFile": 5}))[0])
    assert inputs["logDriver"] == "local"
    assert inputs["logOpts"] == {"max-size": "50m", "max-file": "5"}


# --------------------------------------------------------------------------------------------
# Inputs and determinism
# --------------------------------------------------------------------------------------------


def test_model_and_camel_case_dict_give_the_same_inputs() -> None:
    as_dict, _ = build(dev_args())
    as_model, _ = build(HayhooksContainerArgs.model_validate(dev_args()))
    assert container(as_dict) == container(as_model)


def test_same_config_registers_identical_inputs() -> None:
    first, _ = build(dev_args(labels={"b": "2", "a": "1"}))
    second, _ = build(dev_args(labels={"a": "1", "b": "2"}))
    assert {n: r.inputs for n, r in first.items()} == {n: r.inputs for n, r in second.items()}


def test_bad_config_registers_nothing() -> None:
    registered: list[str] = []

    def program() -> None:
        try:
            HayhooksContainer("hh", dev_args(user="0:0"))
        except ConfigError as error:
            registered.append(str(error))

    assert register(program) == {}
    assert registered and "user" in registered[0]
