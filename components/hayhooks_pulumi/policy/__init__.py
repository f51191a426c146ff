"""The production guide as policy: pure checks of any stack that runs Hayhooks (ours or not).

`catalog` names the rules and the checks that enforce them; the checks read plain objects (a
rendered manifest, or a resource's camelCase inputs as Pulumi's policy engine sees them): `env`
the server's settings, `workload` a Kubernetes pod's container, `docker` a Docker container,
`edge`, `ingress` and `httproute` what routes to the server. `violations` runs them; `pack` adapts
them to a Pulumi CrossGuard policy pack (needs `pulumi-policy`); `check` runs them, with the schema
checks, over an offline render.
"""

from .catalog import Rule
from .edge import EdgeConfig
from .objects import Resource
from .violations import Violation, resource_violations, stack_violations

__all__ = ["EdgeConfig", "Resource", "Rule", "Violation", "resource_violations", "stack_violations"]
