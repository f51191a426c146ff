"""The production guide as policy: pure checks of any stack that runs Hayhooks (ours or not).

`rules` holds the checks over plain objects (a rendered manifest, or a resource's camelCase
inputs as Pulumi's policy engine sees them); `pack` adapts them to a Pulumi CrossGuard policy
pack (needs `pulumi-policy`); `check` runs them, with the schema checks, over an offline render.
"""

from .rules import EdgeConfig, Resource, Rule, Violation, resource_violations, stack_violations

__all__ = ["EdgeConfig", "Resource", "Rule", "Violation", "resource_violations", "stack_violations"]
