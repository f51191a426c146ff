"""What `pulumi up` waits for before it goes on, and for how long: one home for the pulumi-kubernetes
await annotations and the timeouts derived from the plan.

pulumi-kubernetes waits on create and update for a Deployment (every replica updated and ready), a
Service with a selector (endpoints) and an Ingress (an address from its controller, and endpoints),
10 minutes by default; for a custom resource only with `pulumi.com/waitFor`. So an order given by
`depends_on` alone means "created before", not "working before": the waits below make it mean that for
the ExternalSecrets (synced) and the HTTPRoute (accepted by its Gateway). The SecurityPolicy is not
awaited: Envoy Gateway writes its status only once the route it targets exists, and the route is created
after it, so that Envoy Gateway translates the two together and the route is never served without its
policy. The other custom resources (Traefik Middleware, ReferenceGrant, SecretProviderClass) publish no
status; for them the order guarantees only that they exist before what reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from .edge.ingress.models import IngressArgs

if TYPE_CHECKING:
    from .plan import ServicePlan

SKIP_AWAIT = "pulumi.com/skipAwait"
WAIT_FOR = "pulumi.com/waitFor"
# The provider's own default, which a derived timeout never goes below.
PROVIDER_TIMEOUT_SECONDS = 600
# Per pod, on top of its start-up budget and first readiness check: scheduling and the image pull.
POD_MARGIN_SECONDS = 60

# What each controller publishes when it has done its part (pulumi-kubernetes reads these with RFC 9535
# JSONPath, the first match compared to the value).
EXTERNAL_SECRET_SYNCED = "condition=Ready"
ROUTE_ACCEPTED = 'jsonpath={.status.parents[0].conditions[?(@.type=="Accepted")].status}=True'


def _timeouts(seconds: int) -> pulumi.CustomTimeouts:
    return pulumi.CustomTimeouts(create=f"{seconds}s", update=f"{seconds}s")


def rollout_pods(plan: ServicePlan) -> int:
    """The most pods a rollout replaces, one at a time (`maxSurge: 1`, `maxUnavailable: 0`)."""
    scaling = plan.args.autoscaling
    return scaling.max_replicas if scaling.enabled else plan.args.replicas


def rollout_seconds(plan: ServicePlan) -> int:
    if plan.args.rollout.timeout_seconds is not None:
        return plan.args.rollout.timeout_seconds
    probes = plan.args.probes
    per_pod = probes.startup_budget_seconds + probes.readiness_period_seconds + POD_MARGIN_SECONDS
    return max(PROVIDER_TIMEOUT_SECONDS, rollout_pods(plan) * per_pod)


def rollout_timeouts(plan: ServicePlan) -> pulumi.CustomTimeouts:
    """The Deployment's and the Service's: the Service's endpoints appear as the first pods get ready."""
    return _timeouts(rollout_seconds(plan))


def external_secret_timeouts(plan: ServicePlan) -> pulumi.CustomTimeouts:
    store = plan.args.secret_store
    return _timeouts(store.ready_timeout_seconds if store is not None else PROVIDER_TIMEOUT_SECONDS)


def gateway_timeouts(plan: ServicePlan) -> pulumi.CustomTimeouts:
    gateway = plan.args.gateway
    return _timeouts(gateway.accepted_timeout_seconds if gateway is not None else PROVIDER_TIMEOUT_SECONDS)


def ingress_wait_annotations(ingress: IngressArgs) -> dict[str, str]:
    """Without `waitForAddress`, the provider's Ingress await (an address, endpoints) is skipped."""
    return {} if ingress.wait_for_address else {SKIP_AWAIT: "true"}
