"""The Ingress edge: an Ingress that routes only what clients need, behind authentication, and its htpasswd
Secret."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ....auth import htpasswd_line
from ...metadata import object_meta
from ...plan import ServicePlan
from ...workload.service import PORT_NAME
from ..routes import routed_paths
from ..secret_keys import HTPASSWD_KEY
from .annotations import AUTH_SECRET_ANNOTATION, component_annotations
from .models import AuthType, IngressArgs


def ingress_spec(plan: ServicePlan) -> IngressArgs:
    assert plan.args.ingress is not None
    return plan.args.ingress


def uses_basic_auth(plan: ServicePlan) -> bool:
    return plan.args.ingress is not None and plan.args.ingress.auth is AuthType.BASIC


def auth_secret_args(plan: ServicePlan, bcrypt_hash: pulumi.Input[str]) -> k8s.core.v1.SecretInitArgs:
    """The htpasswd Secret, built from the generated password's bcrypt hash (stable across runs); auto-named,
    so a new password is a new Secret that the Ingress names before the old one goes (see
    `secrets.opaque.opaque_secret_args`)."""
    ingress = ingress_spec(plan)
    username = ingress.basic_auth.username
    content = pulumi.Output.from_input(bcrypt_hash).apply(lambda h: htpasswd_line(username, h))
    return k8s.core.v1.SecretInitArgs(
        metadata=object_meta(plan, None),
        type="Opaque",
        string_data={HTPASSWD_KEY[ingress.controller]: pulumi.Output.secret(content)},
    )


def ingress_annotations(plan: ServicePlan, auth_secret: pulumi.Input[str] | None) -> dict[str, pulumi.Input[str]]:
    """The component's annotations and the user's (which the plan refuses where they share a key); ingress-nginx's
    `auth-secret` names the htpasswd Secret by the name it got."""
    owned: dict[str, pulumi.Input[str]] = {
        key: value.value for key, value in component_annotations(plan.args, plan.namespace, plan.child).items()
    }
    if AUTH_SECRET_ANNOTATION in owned:
        assert auth_secret is not None, "basic auth at ingress-nginx needs the name of its htpasswd Secret"
        owned[AUTH_SECRET_ANNOTATION] = auth_secret
    return {**owned, **ingress_spec(plan).annotations}


def ingress_args(plan: ServicePlan, auth_secret: pulumi.Input[str] | None = None) -> k8s.networking.v1.IngressInitArgs:
    """`auth_secret`: the name the htpasswd Secret got, with basic auth."""
    ingress = ingress_spec(plan)
    backend = k8s.networking.v1.IngressBackendArgs(
        service=k8s.networking.v1.IngressServiceBackendArgs(
            name=plan.service_name, port=k8s.networking.v1.ServiceBackendPortArgs(name=PORT_NAME)
        )
    )
    return k8s.networking.v1.IngressInitArgs(
        metadata=object_meta(plan, plan.name, ingress_annotations(plan, auth_secret)),
        spec=k8s.networking.v1.IngressSpecArgs(
            ingress_class_name=ingress.class_name or ingress.controller.value,
            tls=[k8s.networking.v1.IngressTLSArgs(hosts=[ingress.host], secret_name=ingress.tls_secret_name)]
            if ingress.tls_secret_name
            else None,
            rules=[
                k8s.networking.v1.IngressRuleArgs(
                    host=ingress.host,
                    http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                        paths=[
                            k8s.networking.v1.HTTPIngressPathArgs(path=path, path_type="Exact", backend=backend)
                            for path in routed_paths(plan)
                        ]
                    ),
                )
            ],
        ),
    )


def public_url(plan: ServicePlan) -> str | None:
    ingress = plan.args.ingress
    if ingress is None:
        return None
    scheme = "https" if ingress.tls_secret_name else "http"
    return f"{scheme}://{ingress.host}"
