"""The GitHub workflows, the CI setup and the Renovate config, read as data, so a typo is caught here
rather than on the first pull request: triggers, the fork guard, the stack matrix, the policy pack,
the approval before prod, the CRD lock, and the Renovate pattern against the real stack files."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from helpers.paths import REPO

GITHUB = REPO / ".github"
STACKS = sorted(path.name.split(".")[1] for path in REPO.glob("Pulumi.*.yaml"))
FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository"
# The major of each action when this was written: a floor, so Renovate's next-major bumps pass.
ACTIONS = {
    "actions/checkout": "v7",
    "actions/setup-go": "v6",
    "actions/setup-python": "v7",
    "actions/upload-artifact": "v7",
    "pulumi/actions": "v7",
}


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def all_uses() -> list[str]:
    found = []
    for path in [*(GITHUB / "workflows").glob("*.yml"), GITHUB / "actions" / "setup" / "action.yml"]:
        data = yaml.safe_load(path.read_text())
        jobs = data.get("jobs", {}).values() if "jobs" in data else [data["runs"]]
        found += [s["uses"] for job in jobs for s in job["steps"] if "uses" in s]
    return found


@pytest.fixture(scope="module")
def preview() -> dict[str, Any]:
    return workflow("preview.yml")


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return workflow("deploy.yml")


def test_preview_runs_on_pull_requests_with_read_only_defaults(preview: dict[str, Any]) -> None:
    assert set(preview["on"]) == {"pull_request"}
    assert preview["permissions"] == {"contents": "read"}


def test_preview_runs_the_tests(preview: dict[str, Any]) -> None:
    test = preview["jobs"]["test"]

    assert "make test" in runs(test)
    # The live and end-to-end parts: Go for the toolchain, the Debian packages, and root for the node.
    [setup] = uses(test, "./.github/actions/setup")
    assert setup["with"] == {"e2e": "true"}
    assert "sudo" in runs(test)
    action = yaml.safe_load((GITHUB / "actions" / "setup" / "action.yml").read_text())
    e2e_steps = [step for step in action["runs"]["steps"] if step.get("if") == "inputs.e2e == 'true'"]
    assert any(step.get("uses", "").startswith("actions/setup-go@") for step in e2e_steps)
    assert any("e2e/packages.sh" in step.get("run", "") for step in e2e_steps)


def test_preview_checks_each_stack_and_uploads_its_render(preview: dict[str, Any]) -> None:
    check = preview["jobs"]["check"]

    assert check["strategy"]["matrix"]["stack"] == STACKS
    assert "make check STACK=${{ matrix.stack }}" in runs(check)
    [upload] = uses(check, "actions/upload-artifact")
    assert upload["with"]["path"] == "build/${{ matrix.stack }}"
    assert upload["with"]["name"] == "render-${{ matrix.stack }}"
    assert upload["if"] == "always()"  # the manifests are worth reading most when the check fails


def test_preview_checks_the_production_stacks_strictly(preview: dict[str, Any]) -> None:
    # A placeholder digest or an advisory violation in a production stack is a deployment that will fail: the PR
    # check fails on it (`make check STRICT=1`), the development stack's check does not.
    check = preview["jobs"]["check"]
    assert "STRICT=${{ matrix.strict }}" in runs(check)
    strict = {entry["stack"]: entry["strict"] for entry in check["strategy"]["matrix"]["include"]}
    profiles = {
        stack: yaml.safe_load((REPO / f"Pulumi.{stack}.yaml").read_text())["config"]["hayhooks:service"]["profile"]
        for stack in STACKS
    }
    assert strict == {stack: "1" if profile == "production" else "" for stack, profile in profiles.items()}


def test_preview_runs_pulumi_preview_with_the_policy_pack_for_each_stack(preview: dict[str, Any]) -> None:
    job = preview["jobs"]["preview"]
    [pulumi] = uses(job, "pulumi/actions")

    assert job["needs"] == "check"
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert job["permissions"]["pull-requests"] == "write"
    assert pulumi["with"] == {
        "command": "preview",
        "stack-name": "${{ matrix.stack }}",
        "cloud-url": "${{ secrets.PULUMI_BACKEND_URL }}",
        "comment-on-pr": True,
        "policyPacks": "policies/hayhooks-policy-pack",
        "diff": True,
    }
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    # The pack's own virtualenv is made before Pulumi needs it, from its folder (relative requirements).
    [venv] = [s for s in steps(job) if s.get("working-directory") == "policies"]
    assert "venv/bin/pip install" in venv["run"] and "-r requirements.txt" in venv["run"]


def test_forks_skip_the_preview_with_a_notice(preview: dict[str, Any]) -> None:
    job = preview["jobs"]["preview"]
    notice = preview["jobs"]["fork-notice"]

    assert job["if"] == FORK_GUARD
    assert notice["if"] == FORK_GUARD.replace("==", "!=")
    assert "::notice" in runs(notice)
    # Without a configured backend (or secrets), every later step is skipped, with a notice too.
    [gate] = [s for s in steps(job) if s.get("id") == "backend"]
    assert gate["env"]["PULUMI_BACKEND_URL"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert "::notice" in gate["run"]
    later = steps(job)[steps(job).index(gate) + 1 :]
    assert later and all(s.get("if") == "steps.backend.outputs.ready == 'true'" for s in later)


def test_deploy_runs_on_main_dev_first_then_prod_behind_approval(deploy: dict[str, Any]) -> None:
    jobs = deploy["jobs"]

    assert deploy["on"] == {"push": {"branches": ["main"]}}
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert "make test" in runs(jobs["check"]) and "make check STACK=prod" in runs(jobs["check"])
    assert jobs["dev"]["needs"] == "check" and "environment" not in jobs["dev"]
    assert jobs["prod"]["needs"] == "dev"
    assert jobs["prod"]["environment"] == "production"
    for stack in ("dev", "prod"):
        [pulumi] = uses(jobs[stack], "pulumi/actions")
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["stack-name"] == stack
        assert pulumi["with"]["policyPacks"] == "policies/hayhooks-policy-pack"
        assert pulumi["with"]["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert set(deploy["env"]) >= {"PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN"}


def test_deploy_gives_dev_its_docker_engine_and_nothing_that_assumes_it_is_local(deploy: dict[str, Any]) -> None:
    dev = deploy["jobs"]["dev"]

    # The runner's own engine, or the one DOCKER_HOST names: HayhooksContainer copies the pipelines to an
    # engine elsewhere, which cannot bind-mount this checkout (tests/unit/docker/test_remote_engine.py).
    assert dev["runs-on"] == "${{ vars.DEV_RUNNER || 'ubuntu-24.04' }}"
    assert dev["env"]["DOCKER_HOST"] == "${{ secrets.DOCKER_HOST }}"
    [pulumi] = uses(dev, "pulumi/actions")
    assert "config-map" not in pulumi["with"]  # a docker:host set here would override DOCKER_HOST
    assert "docker:host" not in runs(dev)


def test_every_action_is_pinned_to_a_major_at_least_the_known_one() -> None:
    found = all_uses()
    external = {u.split("@")[0]: u.split("@")[1] for u in found if not u.startswith("./")}

    assert set(external) == set(ACTIONS)
    for action, ref in external.items():
        assert re.fullmatch(r"v\d+", ref), f"{action}@{ref}: pin a major tag such as v7"
        assert int(ref[1:]) >= int(ACTIONS[action][1:]), f"{action}@{ref} is older than {ACTIONS[action]}"
    assert all(u == "./.github/actions/setup" for u in found if u.startswith("./"))


def test_the_setup_action_builds_what_a_developer_has() -> None:
    action = yaml.safe_load((GITHUB / "actions" / "setup" / "action.yml").read_text())
    run = "\n".join(s.get("run", "") for s in action["runs"]["steps"])

    assert action["runs"]["using"] == "composite"
    assert "make setup" in run
    # The CRD schemas ship in the package: CI needs nothing from upstream to validate a render.
    assert "crds" not in run


# ---------------------------------------------------------------- Renovate


@pytest.fixture(scope="module")
def renovate() -> dict[str, Any]:
    return json.loads((REPO / "renovate.json").read_text())


def image_manager(renovate: dict[str, Any]) -> dict[str, Any]:
    [manager] = [m for m in renovate["customManagers"] if m["customType"] == "regex"]
    return manager


def python_pattern(pattern: str) -> re.Pattern[str]:
    """Renovate's (JavaScript/RE2) named groups `(?<name>...)` in Python's spelling."""
    return re.compile(re.sub(r"\(\?<(\w+)>", r"(?P<\1>", pattern))


def test_renovate_finds_the_pinned_image_of_the_prod_stack(renovate: dict[str, Any]) -> None:
    manager = image_manager(renovate)
    [pattern] = [python_pattern(p) for p in manager["matchStrings"]]
    [match] = pattern.finditer((REPO / "Pulumi.prod.yaml").read_text())

    assert match.groupdict() == {
        "depName": "deepset/hayhooks",
        "currentValue": "v2.1.0",
        "currentDigest": "sha256:" + "0" * 64,
    }
    assert manager["datasourceTemplate"] == "docker"


def test_renovate_finds_the_tag_of_the_dev_stack_and_registry_images(renovate: dict[str, Any]) -> None:
    [pattern] = [python_pattern(p) for p in image_manager(renovate)["matchStrings"]]
    [dev] = pattern.finditer((REPO / "Pulumi.dev.yaml").read_text())
    digest = "sha256:" + "b" * 64
    [mirror] = pattern.finditer(f"    image: 'registry.example.com:5000/ai/hayhooks:v2.1.0-rc1@{digest}'\n")

    assert dev.groupdict() == {"depName": "deepset/hayhooks", "currentValue": "v2.1.0", "currentDigest": None}
    assert mirror.groupdict() == {
        "depName": "registry.example.com:5000/ai/hayhooks",
        "currentValue": "v2.1.0-rc1",
        "currentDigest": digest,
    }


def test_renovate_reads_the_stack_files_and_examples(renovate: dict[str, Any]) -> None:
    patterns = [re.compile(p.strip("/")) for p in image_manager(renovate)["managerFilePatterns"]]
    files = [p.relative_to(REPO).as_posix() for p in [*REPO.glob("Pulumi.*.yaml"), *REPO.glob("examples/*.yaml")]]

    assert files and all(any(p.search(f) for p in patterns) for f in files)
    assert not any(p.search("Pulumi.yaml") for p in patterns)


def test_renovate_groups_the_image_with_the_server_package(renovate: dict[str, Any]) -> None:
    rules = renovate["packageRules"]
    image = [r for r in rules if r.get("matchDepNames") == ["deepset/hayhooks"]]
    package = [r for r in rules if r.get("matchPackageNames") == ["hayhooks"]]

    assert image and package and image[0]["groupName"] == package[0]["groupName"]
    assert image[0]["automerge"] is False


def test_preview_posts_the_render_diff_of_each_stack_beside_pulumi_preview(preview: dict[str, Any]) -> None:
    job = preview["jobs"]["render-diff"]

    assert job["strategy"]["matrix"]["stack"] == STACKS
    # It needs no secret: it runs for forks too (no `if`), which get it in the job summary.
    assert "if" not in job and "secrets." not in json.dumps(job)
    [checkout] = uses(job, "actions/checkout")
    assert checkout["with"]["fetch-depth"] == 0  # the base commit, for the diff's worktree
    [compare] = [s for s in steps(job) if "hayhooks_pulumi.render.diff" in s.get("run", "")]
    assert compare["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert '--base "$BASE_SHA" --format markdown' in compare["run"]
    assert 'if [ "$status" -gt 1 ]; then exit "$status"; fi' in compare["run"]  # 1 (changes) is a result
    assert "$GITHUB_STEP_SUMMARY" in compare["run"]
    [post] = [s for s in steps(job) if "gh api" in s.get("run", "")]
    assert post["if"] == FORK_GUARD and job["permissions"]["pull-requests"] == "write"
    assert "<!-- hayhooks-render-diff:$STACK -->" in post["run"] and "--method PATCH" in post["run"]
    assert job["env"]["STACK"] == "${{ matrix.stack }}"
