"""The CustomResourceDefinitions a service needs in its cluster, and who serves each.

Without the CRD, pulumi-kubernetes previews a custom resource green and fails at `up` ("apiVersion for
this resource does not exist"). So the component reads each CRD it needs (`checkCrds`), in preview as in
`up`, before anything that uses it: a missing one fails that read, which `pulumi preview` reports on the
resource named for the CRD, beside a line naming the operator and the version that serves it; one that
does not serve the version the component writes fails with that said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .args import IngressController
from .csi import uses_csi
from .gateway import cross_namespace
from .ingress import uses_cors_middleware, uses_middleware
from .plan import ServicePlan
from .secrets import has_store_secrets
from .security_policy import uses_policy


@dataclass(frozen=True)
class CrdRequirement:
    crd: str
    version: str
    operator: str
    minimum: str

    @property
    def needs(self) -> str:
        return f"needs the CRD {self.crd} serving {self.version}: {self.operator} {self.minimum} or later"

    def served_problem(self, spec: dict[str, Any] | None) -> str | None:
        """Why the CRD as read does not do; None when it does (or when nothing was read: the offline render)."""
        if not spec:
            return None
        served = [v["name"] for v in spec.get("versions", []) if v.get("served")]
        if self.version in served:
            return None
        return f"the CRD {self.crd} serves {', '.join(served) or 'no version'}, not {self.version}: {self.needs}"


EXTERNAL_SECRET = CrdRequirement("externalsecrets.external-secrets.io", "v1", "the External Secrets Operator", "0.16.2")
SECRET_PROVIDER_CLASS = CrdRequirement(
    "secretproviderclasses.secrets-store.csi.x-k8s.io", "v1", "the Secrets Store CSI driver", "1.0.0"
)
HTTP_ROUTE = CrdRequirement("httproutes.gateway.networking.k8s.io", "v1", "the Gateway API CRDs", "1.0.0")
REFERENCE_GRANT = CrdRequirement(
    "referencegrants.gateway.networking.k8s.io", "v1beta1", "the Gateway API CRDs", "1.0.0"
)
# The schemas the package validates against are Envoy Gateway 1.9.0's; apiKeyAuth and `targetRefs` are newer
# than 1.0, so the release of those schemas is the minimum vouched for.
SECURITY_POLICY = CrdRequirement("securitypolicies.gateway.envoyproxy.io", "v1alpha1", "Envoy Gateway", "1.9.0")
MIDDLEWARE = CrdRequirement("middlewares.traefik.io", "v1alpha1", "Traefik", "2.10")


def required_crds(plan: ServicePlan) -> list[CrdRequirement]:
    """The CRDs of the custom resources this service registers."""
    args = plan.args
    needed = []
    oidc = args.gateway.auth.oidc if args.gateway is not None else None
    if has_store_secrets(plan) or (oidc is not None and oidc.client_secret.from_store is not None):
        needed.append(EXTERNAL_SECRET)
    if uses_csi(plan):
        needed.append(SECRET_PROVIDER_CLASS)
    if args.gateway is not None:
        needed.append(HTTP_ROUTE)
        if cross_namespace(plan):
            needed.append(REFERENCE_GRANT)
        if uses_policy(plan):
            needed.append(SECURITY_POLICY)
    traefik = args.ingress is not None and args.ingress.controller is IngressController.TRAEFIK
    if traefik and (uses_middleware(plan) or uses_cors_middleware(plan)):
        needed.append(MIDDLEWARE)
    return needed
