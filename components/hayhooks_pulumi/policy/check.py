"""`python -m hayhooks_pulumi.policy.check --stack prod [--crd-dir DIR] [--config FILE] [--out DIR]
[--policy-config FILE] [--strict]`: render a stack offline, then check the render.

Fails (exit 1) with one report of every manifest invalid under the strict Kubernetes schemas (the
oldest supported release and the newest shipped), every custom resource invalid against its CRD,
and every violation of the policy pack's rules at a mandatory level; prints one summary line and
exits 0 when all is clean. Custom resources are checked against the CRDs the package ships unless
`--crd-dir` names another folder. Needs the `check` extra (kubernetes-validate, jsonschema).

`--policy-config` takes the file `pulumi preview --policy-pack-config` takes: enforcement levels
by policy name or `all`, and the policies' config, e.g.
`{"all": "advisory", "hayhooks-edge-auth": {"enforcementLevel": "mandatory", "trustedGateways": ["infra/public"]}}`.

`--strict` is for CI gates of production stacks: every warning fails too, the render's (the all-zero placeholder
digest) and every advisory violation.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..crds import CRD_DIR
from ..render.schemas import MissingCheckExtraError, require_check_extra
from .catalog import CATALOG, Rule
from .edge import EdgeConfig
from .objects import Resource
from .owners import component_of_records
from .violations import Violation, hayhooks_subjects, resource_violations, stack_violations

EXIT_FAILED = 1
EXIT_USAGE = 2
ALL_POLICIES = "all"
ENFORCEMENT_KEY = "enforcementLevel"


class Level(StrEnum):
    """Pulumi's enforcement levels; a remediation cannot run offline, so `remediate` fails like `mandatory`."""

    MANDATORY = "mandatory"
    ADVISORY = "advisory"
    REMEDIATE = "remediate"
    DISABLED = "disabled"

    @property
    def fails(self) -> bool:
        return self in (Level.MANDATORY, Level.REMEDIATE)


class PolicyConfigError(ValueError):
    pass


@dataclass(frozen=True)
class PolicyConfig:
    """Levels by rule (mandatory unless configured) and each rule's own config."""

    levels: Mapping[Rule, Level] = field(default_factory=dict)
    settings: Mapping[Rule, Mapping[str, Any]] = field(default_factory=dict)

    def level(self, rule: Rule) -> Level:
        return self.levels.get(rule, Level.MANDATORY)

    @classmethod
    def parse(cls, data: Any, source: str = "policy config") -> PolicyConfig:
        if not isinstance(data, Mapping):
            raise PolicyConfigError(f"{source}: expected a JSON object of policy names")
        default = Level.MANDATORY
        levels: dict[Rule, Level] = {}
        settings: dict[Rule, Mapping[str, Any]] = {}
        known = ", ".join([ALL_POLICIES, *Rule])
        for key, value in data.items():
            if key != ALL_POLICIES and key not in set(Rule):
                raise PolicyConfigError(f"{source}: {key!r} is not a policy of this pack (one of: {known})")
            level = value.get(ENFORCEMENT_KEY) if isinstance(value, Mapping) else value
            if level is not None and level not in set(Level):
                raise PolicyConfigError(f"{source}: {key}: {level!r} is not an enforcement level ({', '.join(Level)})")
            if key == ALL_POLICIES:
                default = Level(level) if level is not None else default
                continue
            if level is not None:
                levels[Rule(key)] = Level(level)
            if isinstance(value, Mapping):
                settings[Rule(key)] = {k: v for k, v in value.items() if k != ENFORCEMENT_KEY}
        return cls({rule: levels.get(rule, default) for rule in Rule}, settings)

    @classmethod
    def load(cls, path: Path | None) -> PolicyConfig:
        if path is None:
            return cls()
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise PolicyConfigError(f"{path}: {error}") from None
        return cls.parse(data, str(path))


@dataclass(frozen=True)
class Report:
    schema_issues: list[str]
    failing: list[Violation]
    advisory: list[Violation]
    subjects: list[str]
    manifests: int
    policies: int
    templates: int = 0
    """Secret templates among the manifests (validated as they are once filled in)."""
    warnings: list[str] = field(default_factory=list)
    """What the render warned of (`warning: ...` on its stderr), e.g. a placeholder digest."""
    strict: bool = False
    """Warnings and advisory violations fail too."""

    @property
    def strict_failures(self) -> bool:
        return self.strict and bool(self.warnings or self.advisory)

    @property
    def ok(self) -> bool:
        return not self.schema_issues and not self.failing and bool(self.subjects) and not self.strict_failures


def load_resources(render_dir: Path) -> list[Resource]:
    records = json.loads((render_dir / "resources.json").read_text())
    made_by = component_of_records(records)
    return [Resource(r["type"], r["inputs"], r["name"], component=made_by.get(r["name"])) for r in records]


def policy_violations(resources: Iterable[Resource], config: PolicyConfig) -> list[Violation]:
    """Every enabled rule over every resource, then the stack rules: what the policy pack reports."""
    resources = list(resources)
    # Each rule only runs where the catalog gives it a check: the resource rules on each resource, the edge
    # rules over the stack.
    enabled = [rule for rule in CATALOG if config.level(rule) is not Level.DISABLED]
    violations = [v for r in resources for v in resource_violations(r, enabled)]
    edge = EdgeConfig.from_config(config.settings.get(Rule.EDGE_AUTH))
    return violations + stack_violations(resources, edge, enabled)


def check_render(
    render_dir: Path, crd_dir: Path, config: PolicyConfig, warnings: list[str] | None = None, strict: bool = False
) -> Report:
    from ..render.schemas import validate_render

    resources = load_resources(render_dir)
    violations = policy_violations(resources, config)
    return Report(
        warnings=list(warnings or []),
        strict=strict,
        schema_issues=[str(issue) for issue in validate_render(render_dir, crd_dir)],
        failing=[v for v in violations if config.level(v.rule).fails],
        advisory=[v for v in violations if not config.level(v.rule).fails],
        subjects=hayhooks_subjects(resources),
        manifests=len(list((render_dir / "manifests").glob("*.yaml"))),
        templates=len(list((render_dir / "manifests").glob("*.yaml.template"))),
        policies=sum(config.level(rule) is not Level.DISABLED for rule in Rule),
    )


def format_report(report: Report, stack: str, render_dir: Path, versions: list[str], crd_dir: Path) -> str:
    templates = f" and {report.templates} Secret template(s)" if report.templates else ""
    checked = (
        f"{report.manifests} manifest(s){templates} against Kubernetes {' and '.join(versions)} and the CRDs in "
        f"{crd_dir}; {report.policies} policies on {', '.join(report.subjects) or 'no Hayhooks workload'}"
    )
    mode = " (strict)" if report.strict else ""
    if report.ok:
        advisory = f", {len(report.advisory)} advisory violation(s)" if report.advisory else ""
        lines = [f"check passed{mode}: stack {stack!r}: {checked}: no violation{advisory}"]
        lines += [f"  advisory: {v}" for v in report.advisory]
        return "\n".join(lines)
    lines = [f"check failed{mode}: stack {stack!r} ({render_dir}): {checked}"]
    if report.strict and report.warnings:
        lines.append(f"warnings, which strict mode fails on ({len(report.warnings)}):")
        lines += [f"  {warning}" for warning in report.warnings]
    if report.schema_issues:
        lines.append(f"invalid manifests ({len(report.schema_issues)}):")
        lines += [f"  {issue}" for issue in report.schema_issues]
    if report.failing:
        lines.append(f"policy violations ({len(report.failing)}):")
        lines += [f"  {v}" for v in report.failing]
    if report.advisory:
        failing = "failing in strict mode" if report.strict else "not failing"
        lines.append(f"advisory, {failing} ({len(report.advisory)}):")
        lines += [f"  {v}" for v in report.advisory]
    if not report.subjects:
        lines.append("no Hayhooks workload found in the render: the policies had nothing to check")
    return "\n".join(lines)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hayhooks-pulumi-check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="stack name, e.g. prod")
    parser.add_argument(
        "--crd-dir", type=Path, default=CRD_DIR, help="folder of CRD schemas (default: the package's own)"
    )
    parser.add_argument("--config", type=Path, help="stack config file (default: Pulumi.<stack>.yaml)")
    parser.add_argument("--out", type=Path, help="render directory (default: build/<stack>), replaced whole")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(), help="the Pulumi project (default: .)")
    parser.add_argument("--policy-config", type=Path, help="enforcement levels and policy config (JSON)")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on every warning too: the render's (a placeholder digest) and advisory violations (CI gates)",
    )
    return parser.parse_args(argv)


def _render(args: argparse.Namespace, project_dir: Path, out: Path) -> tuple[int, list[str]]:
    """The render CLI, its progress output (stdout) kept back unless it fails; its warnings (what a successful
    render writes to stderr, e.g. the placeholder digest) always passed on, and returned."""
    from ..render.cli import main as render_main

    argv = ["--stack", args.stack, "--project-dir", str(project_dir), "--out", str(out), "--quiet"]
    if args.config is not None:
        argv += ["--config", str(args.config.resolve())]
    progress, warnings = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(progress), contextlib.redirect_stderr(warnings):
        status = render_main(argv)
    if status != 0:
        sys.stderr.write(progress.getvalue())
    sys.stderr.write(warnings.getvalue())
    return status, [line for line in warnings.getvalue().splitlines() if line.startswith("warning: ")]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    project_dir = args.project_dir.resolve()
    out = (args.out or project_dir / "build" / args.stack).resolve()
    crd_dir = args.crd_dir.resolve()
    if not crd_dir.is_dir():
        print(f"error: --crd-dir {crd_dir} is not a folder (leave it out to use the package's CRDs)", file=sys.stderr)
        return EXIT_USAGE
    try:
        require_check_extra()
    except MissingCheckExtraError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = PolicyConfig.load(args.policy_config.resolve() if args.policy_config else None)
    except PolicyConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    status, warnings = _render(args, project_dir, out)
    if status != 0:
        print(f"check failed: stack {args.stack!r} did not render (nothing was checked)", file=sys.stderr)
        return status

    from ..render.schemas import kubernetes_versions

    report = check_render(out, crd_dir, config, warnings, args.strict)
    print(format_report(report, args.stack, out, kubernetes_versions(), crd_dir))
    return 0 if report.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
