"""Mistakes a newcomer made (issue 10), each refused by the render before anything is written: exit 2, a message
naming the file or config key and what is allowed, no traceback. Rendered as `make render` does."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hayhooks_pulumi import ConfigError, HayhooksContainer, HayhooksService
from hayhooks_pulumi.kubernetes.plan import plan_service
from hayhooks_pulumi.stack_config import StackConfig, Target
from helpers.engine import register
from helpers.kubernetes import base_args
from helpers.paths import REPO
from helpers.render import render


def _prod(tmp_path: Path, change=None) -> Path:
    """Pulumi.prod.yaml, changed by `change(document)`, written under tmp_path."""
    document = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    if change is not None:
        change(document)
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _refused(result: subprocess.CompletedProcess[str], out: Path) -> list[str]:
    """The problem lines of a refusal, after checking it is one."""
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback (most recent call last)" not in result.stderr, result.stderr
    assert not out.exists()
    return [line.strip() for line in result.stderr.splitlines()]


def test_a_pipeline_wrapper_that_does_not_compile_is_refused(tmp_path: Path) -> None:
    pipelines = shutil.copytree(REPO / "pipelines", tmp_path / "pipelines")
    (pipelines / "greeter" / "pipeline_wrapper.py").write_text("from hayhooks import BasePipelineWrapper\nclass :\n")

    def change(document: dict) -> None:
        document["config"]["hayhooks:service"]["pipelinesPath"] = str(pipelines)

    out = tmp_path / "out"
    lines = _refused(render("prod", out, _prod(tmp_path, change)), out)
    assert any(
        line.startswith("hayhooks:service.pipelinesPath: greeter/pipeline_wrapper.py does not compile (line 2")
        for line in lines
    ), lines


PROD_TEXT = (REPO / "Pulumi.prod.yaml").read_text()


def _line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_a_key_written_twice_is_refused_naming_its_config_path_and_both_lines(tmp_path: Path) -> None:
    # A second `server:` block under hayhooks:service: PyYAML kept it alone, dropping the CORS origins silently.
    text = PROD_TEXT.replace("    resources:\n", "    server:\n      logLevel: WARNING\n    resources:\n", 1)
    text += "  hayhooks:target: docker\n"  # and a top-level key twice
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    lines = _refused(render("prod", out, config), out)
    assert f"error: cannot read {config} (nothing was written):" in lines
    first, second = _line_of(text, "    server:"), _line_of(text, "      logLevel: WARNING") - 1
    assert f"hayhooks:service.server: written twice, at lines {first} and {second}" in "\n".join(lines), lines
    target = [number for number, line in enumerate(text.splitlines(), 1) if line.startswith("  hayhooks:target:")]
    assert f"hayhooks:target: written twice, at lines {target[0]} and {target[1]}" in "\n".join(lines), lines


def test_a_yaml_syntax_error_exits_2_naming_file_line_and_column(tmp_path: Path) -> None:
    # Once: exit 1 and "the program failed: ParserError ... in <unicode string>".
    text = PROD_TEXT.replace("      durableMode: true\n", "      durableMode: true\n     stray: 1\n", 1)
    config = tmp_path / "Pulumi.prod.yaml"
    config.write_text(text)
    out = tmp_path / "out"
    lines = _refused(render("prod", out, config), out)
    assert lines[0] == f"error: cannot read {config} (nothing was written):"
    line = _line_of(text, "     stray: 1")
    assert lines[1].startswith(f"line {line}, column 6: expected <block end>"), lines
    assert "<unicode string>" not in "\n".join(lines) and "program failed" not in "\n".join(lines)


def _refusal(program: Callable[[], Any]) -> ConfigError:
    """The ConfigError `program` raises under the mock engine, after checking nothing registered."""
    errors: list[ConfigError] = []

    def run() -> None:
        try:
            program()
        except ConfigError as error:
            errors.append(error)

    assert register(run) == {}
    assert errors, "the args were accepted"
    return errors[0]


def test_a_programs_bad_args_name_the_component_and_its_name_not_a_stack_key() -> None:
    # Once phrased as if read from a stack file the program never read: `hayhooks:service.replicas: ...`.
    error = _refusal(lambda: HayhooksService("search", base_args(replicas=0)))
    assert str(error).startswith("HayhooksService 'search': replicas: "), str(error)
    assert "hayhooks:" not in str(error)
    assert [p.path for p in error.problems] == ["replicas"]  # still relative: the plugin reports them per property
    docker = base_args(profile="development", resources={"memory": "lots"})
    del docker["ingress"]
    error = _refusal(lambda: HayhooksContainer("local", docker))
    assert str(error).startswith("HayhooksContainer 'local': resources.memory: "), str(error)


def test_a_missing_secret_values_argument_says_so_and_a_stack_says_which_key_to_set() -> None:
    args = base_args(secrets={"LLM_KEY": {"fromConfig": "llmKey"}})
    error = _refusal(lambda: HayhooksService("search", args))
    (message,) = error.lines
    assert message.startswith("HayhooksService 'search': secrets.LLM_KEY.fromConfig: no value given: the ")
    assert "secret_values= argument is missing or has no 'LLM_KEY' entry" in message
    assert "pulumi config set" not in message
    # Read from a stack's config: the value is a config key to set, and the path is the stack key's.
    stack = StackConfig(namespace="hayhooks", target=Target.KUBERNETES, service=args)

    def from_stack() -> None:
        with stack.scope("service"):
            HayhooksService("hayhooks", stack.service, secret_values=stack.secret_values)

    (message,) = _refusal(from_stack).lines
    assert message == (
        "hayhooks:service.secrets.LLM_KEY.fromConfig: no value given; set it with "
        "`pulumi config set --secret llmKey <value>`"
    )


def test_a_consumer_programs_refusal_renders_naming_the_component(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: assistants\nruntime: python\n")
    (project / "Pulumi.prod.yaml").write_text("config: {}\n")
    args = base_args(replicas=1, secrets={"LLM_KEY": {"fromConfig": "llmKey"}})
    (project / "__main__.py").write_text(
        textwrap.dedent(
            f"""
            from hayhooks_pulumi import HayhooksService

            HayhooksService("search", {args!r})
            """
        )
    )
    out = tmp_path / "out"
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--stack", "prod", "--project-dir", str(project)]
    result = subprocess.run([*command, "--out", str(out)], capture_output=True, text=True, timeout=120, check=False)
    lines = _refused(result, out)
    assert lines[0] == "error: invalid component args (nothing was written):", lines
    assert "HayhooksService 'search': replicas: must be at least 2 in production" in "\n".join(lines), lines
    assert any(
        line.startswith("HayhooksService 'search': secrets.LLM_KEY.fromConfig: no value given: the secret_values=")
        for line in lines
    ), lines
    assert not any("hayhooks:service" in line for line in lines), lines


def test_every_mistake_of_a_stack_file_is_reported_in_one_run(tmp_path: Path) -> None:
    # Once two problems were reported, then three more after those were fixed: each layer stopped the next.
    def change(document: dict) -> None:
        config = document["config"]
        config["hayhooks:replicas"] = 3  # a stack key of no meaning (the stack's own check)
        service = config["hayhooks:service"]
        server = service["server"]
        server["cors"]["allowOrigin"] = ["https://x.example.com"]  # an unknown key (the model)
        server["startupDeploy"]["workers"] = 64  # a value out of range (the model)
        server["extraEnv"] = {"HAYHOOKS_LOG_LEVLE": "INFO"}  # a typo of a variable (the model)
        service["requiredPipelines"] = ["greeter", "qa-promt"]  # a pipeline that is not there (the plan)
        server["showTracebacks"] = True  # refused in production (the rules)
        del service["ingress"]["tlsSecretName"]  # required in production (the rules)

    out = tmp_path / "out"
    lines = _refused(render("prod", out, _prod(tmp_path, change)), out)
    paths = [line.split(": ", 1)[0] for line in lines[1:]]
    assert sorted(paths) == sorted(
        [
            "hayhooks:replicas",
            "hayhooks:service.server.cors.allowOrigin",
            "hayhooks:service.server.startupDeploy.workers",
            "hayhooks:service.server.extraEnv.HAYHOOKS_LOG_LEVLE",
            "hayhooks:service.requiredPipelines[1]",
            "hayhooks:service.server.showTracebacks",
            "hayhooks:service.ingress.tlsSecretName",
        ]
    ), lines
    assert "did you mean HAYHOOKS_LOG_LEVEL?" in "\n".join(lines)


def test_a_check_that_needs_a_wrong_value_is_skipped_and_the_others_still_run() -> None:
    # `replicas` is wrong, so the production rule on it (which would judge the default standing in) is skipped.
    error = _refusal(lambda: HayhooksService("hh", base_args(replicas="two", server={"showTracebacks": True})))
    assert [p.path for p in error.problems] == ["replicas", "server.showTracebacks"], error.lines
    assert "is not a whole number" in error.problems[0].message and "pods" in error.problems[0].message
    # Wrong list items are each reported, though the list is left out whole; what the rules say of it is skipped.
    origins = ["https://a.example.com/", "*", "ftp://b.example.com"]
    error = _refusal(lambda: HayhooksService("hh", base_args(server={"cors": {"allowOrigins": origins}})))
    assert [p.path for p in error.problems] == ["server.cors.allowOrigins[0]", "server.cors.allowOrigins[2]"]
    # A wrong required key takes its parent along: nothing is said about the ingress it belongs to.
    error = _refusal(lambda: HayhooksService("hh", base_args(ingress={"host": 5, "auth": "none"})))
    assert [p.path for p in error.problems] == ["ingress.host"], error.lines


def test_a_wrong_profile_is_reported_without_production_refusals_standing_in() -> None:
    """A typo in `profile` must not bring the production default's refusals along with it."""
    config = {
        "profile": "developmnt",
        "image": "deepset/hayhooks:v2.1.0",
        "pipelinesPath": str(REPO / "pipelines"),
        "server": {"logLevel": "DEBUG", "extraEnv": {"OPENAI_API_KEY": "sk-test"}},
    }
    with pytest.raises(ConfigError) as refused:
        plan_service("hh", config)
    paths = [problem.path for problem in refused.value.problems]
    assert paths == ["profile"], refused.value


def test_the_mistakes_issue_19_found_passing_are_each_refused_naming_the_key(tmp_path: Path) -> None:
    # Each once rendered and checked green; now the render refuses them all, before anything is written.
    def change(document: dict) -> None:
        config = document["config"]
        config["kubernetes:namespace"] = "hayhooks"  # a key that does nothing
        service = config["hayhooks:service"]
        service["replicas"] = 3  # beside the autoscaler, which owns the count
        service["disruptionBudget"] = {"minAvailable": 2}  # = autoscaling.minReplicas: a drain never finishes
        service["resources"] = {"memoryRequest": "64Mi", "memoryLimit": "100Mi"}  # the server needs more to start
        service["server"]["durableStore"] = "memory"  # one store per pod, with several pods
        service["ingress"]["host"] = "*.example.com"  # no URL to call
        service["secrets"]["openai_api_key"] = {"fromStore": {"remoteKey": "prod/llm", "property": "key"}}
        service["cache"] = {"env": ["hf_home"]}  # never the HF_HOME a library reads
        service["rollout"] = {"timeoutSeconds": "10 minutes"}  # an integer of seconds

    out = tmp_path / "out"
    lines = _refused(render("prod", out, _prod(tmp_path, change)), out)
    found = {line.split(": ", 1)[0]: line.split(": ", 1)[1] for line in lines[1:] if ": " in line}
    expected = {
        "kubernetes:namespace": "hayhooks:service.namespace.name",
        "hayhooks:service.replicas": "autoscaling.minReplicas",
        "hayhooks:service.disruptionBudget.minAvailable": "never finishes",
        "hayhooks:service.resources.memoryLimit": "OOM-killed at start",
        "hayhooks:service.server.durableStore": "'redis'",
        "hayhooks:service.ingress.host": "is a wildcard",
        "hayhooks:service.secrets.openai_api_key": "did you mean OPENAI_API_KEY?",
        "hayhooks:service.cache.env[0]": "did you mean HF_HOME?",
        "hayhooks:service.rollout.timeoutSeconds": "write 600 for 10 minutes",
    }
    for path, fragment in expected.items():
        assert path in found and fragment in found[path], (path, lines)
