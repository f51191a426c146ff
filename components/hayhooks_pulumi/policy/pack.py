"""The rules as a Pulumi CrossGuard policy pack: one policy per rule, mandatory unless configured.

Needs `pulumi-policy`. `policies()` returns the policy objects (to test them, or to add them to
another pack); `serve()` runs the pack and never returns (the entry point of `policies/__main__.py`).
Each policy's enforcement level is set with Pulumi's policy config, e.g.
`pulumi preview --policy-pack policies --policy-pack-config levels.json` with
`{"all": "advisory", "hayhooks-image-digest": "mandatory"}`.
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .catalog import CATALOG, Rule, RuleSpec, Scope
from .edge import EdgeConfig
from .objects import Resource
from .owners import component_of_urn
from .violations import resource_violations, stack_violations

PACK_NAME = "hayhooks-production-guide"
DEFAULT_ENFORCEMENT = EnforcementLevel.MANDATORY

_STRING_LIST = {"type": "array", "items": {"type": "string"}, "default": []}
# Config of the auth rule: authentication the stack relies on but does not define.
EDGE_AUTH_SCHEMA = PolicyConfigSchema(
    properties={
        "trustedMiddlewares": {
            **_STRING_LIST,
            "description": "Traefik middleware references (as in router.middlewares, e.g. sso@file) that "
            "authenticate but are defined outside the stack.",
        },
        "trustedGateways": {
            **_STRING_LIST,
            "description": "Gateways (namespace/name) whose routes an authentication policy outside the stack covers.",
        },
    }
)


def _resource_validation(rule: Rule) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = Resource(args.resource_type, args.props, args.name, args.urn, component_of_urn(args.urn))
        for violation in resource_violations(resource, (rule,)):
            report_violation(f"{violation.subject}: {violation.text}", None)

    return validate


def _stack_validation(rule: Rule) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [Resource(r.resource_type, r.props, r.name, r.urn, component_of_urn(r.urn)) for r in args.resources]
        for violation in stack_violations(resources, EdgeConfig.from_config(args.get_config()), (rule,)):
            report_violation(f"{violation.subject}: {violation.text}", violation.urn)

    return validate


def _policy(rule: Rule, spec: RuleSpec) -> Policy:
    if spec.scope is Scope.RESOURCE:
        return ResourceValidationPolicy(
            name=rule.value, description=spec.description, validate=_resource_validation(rule)
        )
    return StackValidationPolicy(
        name=rule.value,
        description=spec.description,
        validate=_stack_validation(rule),
        config_schema=EDGE_AUTH_SCHEMA if rule is Rule.EDGE_AUTH else None,
    )


def policies() -> list[Policy]:
    """One policy per rule of the catalog, in its order: a ResourceValidationPolicy for each rule checked per
    resource (the workload rules), a StackValidationPolicy for each rule over the stack (the edge rules)."""
    return [_policy(rule, spec) for rule, spec in CATALOG.items()]


def serve() -> None:
    """Run the pack for the Pulumi engine (blocks: this is how a policy pack process lives)."""
    PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=DEFAULT_ENFORCEMENT)
