"""`make check`: render, then strict schemas, CRDs and the policy rules over the render, for both stacks
and every example stack; a readable report and exit 1 when anything fails, one line and exit 0 when clean."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from hayhooks_pulumi.crds import CRD_DIR
from hayhooks_pulumi.policy.catalog import Rule
from hayhooks_pulumi.policy.check import (
    EXIT_FAILED,
    EXIT_USAGE,
    PolicyConfig,
    PolicyConfigError,
    check_render,
    format_report,
    load_resources,
)
from hayhooks_pulumi.policy.violations import hayhooks_subjects, resource_violations, stack_violations
from hayhooks_pulumi.render.schemas import kubernetes_versions
from helpers.paths import EXAMPLES, REPO
from helpers.render import Rendered

STACKS = sorted(path.name.split(".")[1] for path in REPO.glob("Pulumi.*.yaml"))


def check(stack: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`make check STACK=<stack> [CONFIG=...]` as the Makefile runs it, in a fresh interpreter."""
    command = [sys.executable, "-m", "hayhooks_pulumi.policy.check", "--stack", stack, "--out", str(out), *extra]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=180, check=False)


def loose_config(path: Path) -> Path:
    """prod's config with the development profile and everything it lets through that production refuses."""
    config = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    service = config["config"]["hayhooks:service"]
    service.update(profile="development", image="deepset/hayhooks:v2.1.0")
    service["server"].update(logLevel="DEBUG", showTracebacks=True)
    service["server"]["cors"].update(allowOrigins=["*"], allowCredentials=False)
    service["ingress"]["auth"] = "none"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """Both stacks and the loose config checked by the CLI once, in parallel (one interpreter each). The examples are
    checked on the session's renders (`stack_render`) instead of rendering each again."""
    root = tmp_path_factory.mktemp("check")
    jobs: dict[str, tuple[str, ...]] = {stack: () for stack in STACKS}
    jobs["loose"] = ("--config", str(loose_config(root / "loose.yaml")))

    def one(name: str) -> tuple[str, tuple[subprocess.CompletedProcess[str], Path]]:
        return name, (check(name, root / name, *jobs[name]), root / name)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, jobs))


def test_both_stacks_are_checked() -> None:
    assert STACKS == ["dev", "prod"]


@pytest.mark.parametrize(
    ("stack", "workload"), [("prod", "Deployment hayhooks/hayhooks"), ("dev", "docker container hayhooks")]
)
def test_a_clean_stack_passes_with_one_summary_line(checks: dict, stack: str, workload: str) -> None:
    result, _ = checks[stack]

    assert result.returncode == 0, result.stdout + result.stderr
    [line] = result.stdout.splitlines()
    assert re.fullmatch(
        rf"check passed: stack '{stack}': \d+ manifest\(s\)( and \d+ Secret template\(s\))? against Kubernetes "
        rf"1\.33\.0 and 1\.\d+\.\d+ and the "
        rf"CRDs in {re.escape(str(CRD_DIR.resolve()))}; 13 policies on {workload}: no violation",
        line,
    ), line


def test_a_passing_check_repeats_the_renders_placeholder_warning(checks: dict) -> None:
    # Once "check passed" with no word that prod's image digest is the all-zero placeholder.
    prod, _ = checks["prod"]
    assert prod.returncode == 0, prod.stdout + prod.stderr
    assert "warning: image: placeholder digest: replace before pulumi up" in prod.stderr, prod.stderr
    assert prod.stdout.startswith("check passed: stack 'prod'")
    dev, _ = checks["dev"]  # a tag, no digest: nothing to warn about
    assert dev.returncode == 0 and "placeholder" not in dev.stderr, dev.stderr


def test_the_rendered_prod_stack_is_clean_under_the_validators(checks: dict) -> None:
    _, out = checks["prod"]
    resources = load_resources(out)

    assert [v for r in resources for v in resource_violations(r, list(Rule))] == []
    assert stack_violations(resources) == []
    assert hayhooks_subjects(resources) == ["Deployment hayhooks/hayhooks"]
    # The stack rules looked at the edge: without its auth annotations the Ingress is reported.
    for resource in resources:
        if resource.type == "kubernetes:networking.k8s.io/v1:Ingress":
            annotations = resource.props["metadata"]["annotations"]
            for key in [k for k in annotations if "/auth-" in k]:
                del annotations[key]
    assert [v.rule for v in stack_violations(resources)] == [Rule.EDGE_AUTH]


@pytest.mark.parametrize("name", [path.stem for path in EXAMPLES])
def test_every_example_stack_passes(example_renders: dict[str, Rendered], name: str) -> None:
    rendered = example_renders[name]
    assert rendered.result.returncode == 0, rendered.result.stderr
    report = check_render(rendered.out, CRD_DIR, PolicyConfig())

    assert report.ok, format_report(report, name, rendered.out, kubernetes_versions(), CRD_DIR)
    assert format_report(report, name, rendered.out, kubernetes_versions(), CRD_DIR).startswith(
        f"check passed: stack '{name}'"
    )


def test_policy_violations_fail_with_a_report(checks: dict) -> None:
    result, out = checks["loose"]

    assert result.returncode == EXIT_FAILED
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"check failed: stack 'loose' ({out}): ")
    assert lines[1:2] == ["policy violations (5):"]
    assert [line.split("] ")[0] for line in lines[2:]] == [
        "  [hayhooks-image-digest",
        "  [hayhooks-cors-no-wildcard",
        "  [hayhooks-no-tracebacks",
        "  [hayhooks-log-level",
        "  [hayhooks-edge-auth",
    ]
    assert (
        "  [hayhooks-log-level] Deployment hayhooks/hayhooks container hayhooks: HAYHOOKS_LOG_LEVEL='DEBUG' logs "
        "request payloads; use INFO or higher (set by server.logLevel of HayhooksService 'hayhooks')"
    ) in lines


def test_violations_in_the_packages_own_render_name_the_key_that_sets_them(checks: dict) -> None:
    # Once only the variable: `HAYHOOKS_SHOW_TRACEBACKS='true'`, which no stack file spells.
    result, _ = checks["loose"]
    keys = {
        line.split("] ")[0].strip(" ["): line.rsplit(" (set by ", 1)[-1]
        for line in result.stdout.splitlines()
        if line.startswith("  [")
    }
    assert keys == {
        "hayhooks-image-digest": "image of HayhooksService 'hayhooks')",
        "hayhooks-cors-no-wildcard": "server.cors.allowOrigins of HayhooksService 'hayhooks')",
        "hayhooks-no-tracebacks": "server.showTracebacks of HayhooksService 'hayhooks')",
        "hayhooks-log-level": "server.logLevel of HayhooksService 'hayhooks')",
        "hayhooks-edge-auth": "ingress.auth of HayhooksService 'hayhooks')",
    }, result.stdout


def test_enforcement_levels_from_a_policy_config(checks: dict) -> None:
    _, out = checks["loose"]
    crds = CRD_DIR

    advisory = check_render(out, crds, PolicyConfig.parse({"all": "advisory", "hayhooks-log-level": "mandatory"}))
    assert [v.rule for v in advisory.failing] == [Rule.LOG_LEVEL]
    assert Rule.NO_TRACEBACKS in {v.rule for v in advisory.advisory}

    lenient = check_render(out, crds, PolicyConfig.parse({"all": {"enforcementLevel": "advisory"}}))
    text = format_report(lenient, "loose", out, ["1.33.0"], crds)
    assert lenient.ok and text.startswith("check passed: stack 'loose'")
    assert "advisory violation(s)" in text.splitlines()[0]
    assert len(text.splitlines()) == 1 + len(lenient.advisory)

    disabled = check_render(out, crds, PolicyConfig.parse({"hayhooks-log-level": "disabled"}))
    assert Rule.LOG_LEVEL not in {v.rule for v in disabled.failing + disabled.advisory}
    assert disabled.policies == len(Rule) - 1


def test_invalid_manifests_fail_the_check(checks: dict, tmp_path: Path) -> None:
    _, prod = checks["prod"]
    render = shutil.copytree(prod, tmp_path / "prod")
    [deployment] = (render / "manifests").glob("*-deployment-hayhooks.yaml")
    body = yaml.safe_load(deployment.read_text())
    body["spec"]["replicaCount"] = 2  # not a Deployment field: the strict schema refuses it
    deployment.write_text(yaml.safe_dump(body))
    [secret] = (render / "manifests").glob("*-externalsecret-hayhooks-store.yaml")
    body = yaml.safe_load(secret.read_text())
    body["spec"]["refreshInterval"] = 60  # a string in the CRD
    secret.write_text(yaml.safe_dump(body))

    report = check_render(render, CRD_DIR, PolicyConfig())
    text = format_report(report, "prod", render, ["1.33.0", "1.37.0"], CRD_DIR)

    assert not report.ok and report.failing == []
    assert text.splitlines()[1] == f"invalid manifests ({len(report.schema_issues)}):"
    assert any(i.startswith(f"{deployment.name}: Kubernetes 1.33.0: ") for i in report.schema_issues)
    assert any(i.startswith(f"{secret.name}: spec.refreshInterval: ") for i in report.schema_issues)


def test_a_render_without_hayhooks_fails(checks: dict, tmp_path: Path) -> None:
    _, prod = checks["prod"]
    render = shutil.copytree(prod, tmp_path / "prod")
    records = json.loads((render / "resources.json").read_text())
    (render / "resources.json").write_text(json.dumps([r for r in records if not r["type"].endswith(":Deployment")]))

    report = check_render(render, CRD_DIR, PolicyConfig())
    assert not report.ok
    assert format_report(report, "prod", render, ["1.33.0"], CRD_DIR).endswith(
        "no Hayhooks workload found in the render: the policies had nothing to check"
    )


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"hayhooks-imagedigest": "advisory"}, "'hayhooks-imagedigest' is not a policy of this pack"),
        ({"all": "warn"}, "all: 'warn' is not an enforcement level (mandatory, advisory, remediate, disabled)"),
        (["advisory"], "expected a JSON object of policy names"),
    ],
)
def test_a_policy_config_with_typos_is_refused(config: object, problem: str) -> None:
    with pytest.raises(PolicyConfigError, match=re.escape(problem)):
        PolicyConfig.parse(config)


def test_cli_refuses_a_bad_policy_config_and_a_bad_stack_config(tmp_path: Path) -> None:
    levels = tmp_path / "levels.json"
    levels.write_text('{"hayhooks-logs": "advisory"}')
    bad_levels = check("prod", tmp_path / "a", "--policy-config", str(levels))
    stack = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    stack["config"]["hayhooks:service"]["server"]["cors"]["allowOrigins"] = ["https://app.example.com/"]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(stack))
    bad_stack = check("prod", tmp_path / "b", "--config", str(tmp_path / "bad.yaml"))

    assert bad_levels.returncode == EXIT_USAGE
    assert "'hayhooks-logs' is not a policy of this pack" in bad_levels.stderr
    assert bad_stack.returncode == EXIT_USAGE
    assert "hayhooks:service.server.cors.allowOrigins[0]" in bad_stack.stderr
    assert bad_stack.stderr.rstrip().endswith("check failed: stack 'prod' did not render (nothing was checked)")
    assert bad_stack.stdout == ""


def test_make_check_passes_stack_config_and_policy_config() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "check", "STACK=prod", "CONFIG=examples/x.yaml", "POLICY_CONFIG=levels.json", "CRDS=/crds"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    command = " ".join(dry_run.stdout.replace("\\\n", " ").split())

    assert (
        "-m hayhooks_pulumi.policy.check --stack prod --out build/prod --crd-dir /crds --config examples/x.yaml "
        "--policy-config levels.json" in command
    )


def test_the_installed_package_checks_a_stack_offline_with_its_own_crds(tmp_path: Path) -> None:
    """What a consumer has after `pip install 'hayhooks-pulumi[check]'`: the wheel, no repository beside it."""
    # Built from a copy: an in-tree build would leave build/ and *.egg-info in components/.
    source = shutil.copytree(
        REPO / "components",
        tmp_path / "components",
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)]
    subprocess.run([*command, str(source)], check=True, capture_output=True, timeout=120)
    [wheel] = tmp_path.glob("hayhooks_pulumi-*.whl")
    site = tmp_path / "site"
    shutil.unpack_archive(wheel, site, "zip")
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py"):
        shutil.copy(REPO / name, project / name)
    shutil.copytree(REPO / "pipelines", project / "pipelines")

    # PYTHONPATH puts the unpacked wheel before the repository's editable install.
    result = subprocess.run(
        [sys.executable, "-m", "hayhooks_pulumi.policy.check", "--stack", "prod"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert f"the CRDs in {site / 'hayhooks_pulumi' / 'crds'};" in result.stdout


def test_without_the_check_extra_the_check_names_the_extra_and_renders_nothing(tmp_path: Path) -> None:
    program = (
        "import sys; sys.modules['kubernetes_validate'] = None\n"
        "from hayhooks_pulumi.policy.check import main\n"
        f"sys.exit(main(['--stack', 'prod', '--out', {str(tmp_path / 'out')!r}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == EXIT_USAGE
    assert result.stderr == (
        "error: the schema checks need kubernetes_validate: pip install 'hayhooks-pulumi[check]'\n"
    )
    assert not (tmp_path / "out").exists()


def test_strict_mode_fails_on_the_placeholder_digest_and_passes_a_clean_stack(tmp_path: Path) -> None:
    prod = check("prod", tmp_path / "prod", "--strict")
    assert prod.returncode == EXIT_FAILED, prod.stdout + prod.stderr
    lines = prod.stdout.splitlines()
    assert lines[0].startswith("check failed (strict): stack 'prod'"), lines
    assert lines[1] == "warnings, which strict mode fails on (1):"
    assert lines[2].startswith("  warning: image: placeholder digest"), lines
    dev = check("dev", tmp_path / "dev", "--strict")
    assert dev.returncode == 0, dev.stdout + dev.stderr
    assert dev.stdout.startswith("check passed (strict): stack 'dev'")


def test_strict_mode_fails_on_an_advisory_violation(checks: dict) -> None:
    _, out = checks["loose"]
    lenient = PolicyConfig.parse({"all": "advisory"})
    assert check_render(out, CRD_DIR, lenient).ok
    strict = check_render(out, CRD_DIR, lenient, strict=True)
    assert not strict.ok and strict.advisory
    text = format_report(strict, "loose", out, ["1.33.0"], CRD_DIR)
    assert f"advisory, failing in strict mode ({len(strict.advisory)}):" in text.splitlines()


def test_make_check_passes_strict_on_and_echoes_one_line() -> None:
    def echoed(*variables: str) -> list[str]:
        result = subprocess.run(
            ["make", "--no-print-directory", "-n", "check", "STACK=prod", *variables],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return [line for line in result.stdout.splitlines() if "hayhooks_pulumi.policy.check" in line]

    [strict] = echoed("STRICT=1")
    assert strict.endswith(" --strict") and "\\" not in strict
    [plain] = echoed()
    assert "--strict" not in plain and "\\" not in plain and "  " not in plain
    [off] = echoed("STRICT=0")
    assert "--strict" not in off
