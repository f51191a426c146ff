"""The CustomResourceDefinitions a service needs in its cluster, and who serves each.

Without the CRD, pulumi-kubernetes previews a custom resource green and fails at `up` ("apiVersion for
this resource does not exist"). So the component reads each CRD it needs (`checkCrds`), in preview as in
`up`, before anything that uses it: a missing one fails that read, which `pulumi preview` reports on the
resource named for the CRD, beside a line of the stack naming the operator and the version that serves it; one that
does not serve the version the component writes fails with that said. A program's services share each read, per
provider: one read of a CRD, however many services need it. Each read is a round trip through the engine and the
provider, and what waits for it also waits for the check of its served versions: in an update everything a service
makes (its passwords in the state too), so nothing is changed before a missing operator is reported (`up
--skip-preview` included); in a preview, which changes nothing, only the custom resources.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_kubernetes import _utilities as kubernetes_sdk

from .edge.gateway.reference_grants import REFERENCE_GRANT_API
from .edge.gateway.route import HTTP_ROUTE_API, cross_namespace
from .edge.gateway.security_policy import SECURITY_POLICY_API, uses_policy
from .edge.ingress.controllers import IngressController
from .edge.ingress.middlewares import TRAEFIK_API, uses_cors_middleware, uses_middleware
from .plan import ServicePlan
from .secrets.csi import SECRET_PROVIDER_CLASS_API, uses_csi
from .secrets.external import EXTERNAL_SECRETS_API, has_store_secrets


@dataclass(frozen=True)
class CrdRequirement:
    """A custom resource kind, by the apiVersion its builder writes, and who serves its CRD."""

    kind: str
    plural: str
    api_version: str
    operator: str
    minimum: str

    @property
    def crd(self) -> str:
        return f"{self.plural}.{self.api_version.split('/')[0]}"

    @property
    def version(self) -> str:
        return self.api_version.split("/")[1]

    @property
    def needs(self) -> str:
        return f"needs the CRD {self.crd} serving {self.version}: {self.operator} {self.minimum} or later"

    def served_problem(self, served: tuple[str, ...] | None) -> str | None:
        """Why a CRD serving these versions does not do; None when it does (or when nothing was read: the offline
        render)."""
        if served is None or self.version in served:
            return None
        return f"the CRD {self.crd} serves {', '.join(served) or 'no version'}, not {self.version}: {self.needs}"


EXTERNAL_SECRET = CrdRequirement(
    "ExternalSecret", "externalsecrets", EXTERNAL_SECRETS_API, "the External Secrets Operator", "0.16.2"
)
SECRET_PROVIDER_CLASS = CrdRequirement(
    "SecretProviderClass", "secretproviderclasses", SECRET_PROVIDER_CLASS_API, "the Secrets Store CSI driver", "1.0.0"
)
HTTP_ROUTE = CrdRequirement("HTTPRoute", "httproutes", HTTP_ROUTE_API, "the Gateway API CRDs", "1.0.0")
REFERENCE_GRANT = CrdRequirement(
    "ReferenceGrant", "referencegrants", REFERENCE_GRANT_API, "the Gateway API CRDs", "1.0.0"
)
# The schemas the package validates against are Envoy Gateway 1.9.0's; apiKeyAuth and `targetRefs` are newer
# than 1.0, so the release of those schemas is the minimum vouched for.
SECURITY_POLICY = CrdRequirement("SecurityPolicy", "securitypolicies", SECURITY_POLICY_API, "Envoy Gateway", "1.9.0")
MIDDLEWARE = CrdRequirement("Middleware", "middlewares", TRAEFIK_API, "Traefik", "2.10")
REQUIREMENTS = (EXTERNAL_SECRET, SECRET_PROVIDER_CLASS, HTTP_ROUTE, REFERENCE_GRANT, SECURITY_POLICY, MIDDLEWARE)


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


class CrdRead(pulumi.CustomResource):
    """A CRD as the cluster has it, read by name; `spec` is what the check reads.

    The SDK's generic resource, not pulumi-kubernetes' typed `CustomResourceDefinition.get`: the engine receives
    the same read (type, name, id, parent, provider, and the provider version the typed class sends), while the
    program skips importing the typed module, whose JSON-schema types made the first read cost a twentieth of
    a one-service render, and translating each CRD read into them."""

    TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"
    spec: pulumi.Output[Any]
    served: pulumi.Output[tuple[str, ...] | None]
    """The versions the CRD serves; None when nothing was read (the offline render). Taken from `spec` once per
    read: the services that share it check this, not the CRD's whole schema."""

    def __init__(self, name: str, crd: str, opts: pulumi.ResourceOptions) -> None:
        read = pulumi.ResourceOptions(id=crd, version=kubernetes_sdk.get_version())
        super().__init__(self.TYPE, name, {"spec": None}, opts=pulumi.ResourceOptions.merge(opts, read))
        self.served = self.spec.apply(served_versions)


def served_versions(spec: Any) -> tuple[str, ...] | None:
    """The served versions' names in a CRD's spec; None for no spec."""
    if not isinstance(spec, dict) or not spec:
        return None
    return tuple(version["name"] for version in spec.get("versions", []) if version.get("served"))


# Per running program (the engine connection identifies it; each mock-engine test has its own), per provider and
# CRD: the read, with the provider it was made with (kept, so that its id is not another's).
_READS: weakref.WeakKeyDictionary[Any, dict[tuple[int, str], tuple[Any, CrdRead]]] = weakref.WeakKeyDictionary()


def shared_read(name: str, crd: str, opts: pulumi.ResourceOptions, provider: pulumi.ProviderResource | None) -> CrdRead:
    """The program's read of `crd` through `provider` (None: the default provider), made now under `name` by the
    first service that needs it."""
    monitor = pulumi.runtime.settings.get_monitor()
    try:
        reads = _READS.setdefault(monitor, {}) if monitor is not None else None
    except TypeError:  # an engine connection that cannot be weakly referenced: a read per service
        reads = None
    key = (id(provider), crd)
    if reads is not None and key in reads:
        return reads[key][1]
    read = CrdRead(name, crd, opts)
    if reads is not None:
        reads[key] = (provider, read)
    return read
