"""The public edge: an Ingress that routes only what clients need, behind authentication."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..auth import htpasswd_line
from .args import AuthType, IngressArgs, IngressController
from .metadata import object_meta
from .plan import PORT_NAME, ServicePlan
from .routes import CLIENT_PATHS, DOCS_PATHS, UPLOAD_PATHS, client_paths

__all__ = ["CLIENT_PATHS", "DOCS_PATHS", "UPLOAD_PATHS", "routed_paths"]

TRAEFIK_API = "traefik.io/v1alpha1"
NGINX_PREFIX = "nginx.ingress.kubernetes.io"
# The key each controller reads the htpasswd from.
HTPASSWD_KEY = {IngressController.NGINX: "auth", IngressController.TRAEFIK: "users"}


def ingress_spec(plan: ServicePlan) -> IngressArgs:
    assert plan.args.ingress is not None
    return plan.args.ingress


def routed_paths(plan: ServicePlan) -> list[str]:
    """Exact paths of the public edge (Ingress or HTTPRoute): each pipeline's run endpoint, the
    OpenAI-compatible API, status, optionally docs; never the code-upload routes."""
    edge = plan.edge
    assert edge is not None
    return client_paths(plan.pipelines.names, expose_status=edge.expose_status, expose_docs=edge.expose_docs)


def auth_secret_name(plan: ServicePlan) -> str:
    return plan.child("basic-auth")


def middleware_name(plan: ServicePlan) -> str:
    return plan.child("auth")


def uses_basic_auth(plan: ServicePlan) -> bool:
    return plan.args.ingress is not None and plan.args.ingress.auth is AuthType.BASIC


def uses_middleware(plan: ServicePlan) -> bool:
    """Traefik authenticates through a Middleware (basicAuth or forwardAuth)."""
    ingress = plan.args.ingress
    return ingress is not None and ingress.controller is IngressController.TRAEFIK and ingress.auth is not AuthType.NONE


def auth_secret_args(plan: ServicePlan, bcrypt_hash: pulumi.Input[str]) -> k8s.core.v1.SecretInitArgs:
    """The htpasswd Secret, built from the generated password's bcrypt hash (stable across runs)."""
    ingress = ingress_spec(plan)
    username = ingress.basic_auth.username
    content = pulumi.Output.from_input(bcrypt_hash).apply(lambda h: htpasswd_line(username, h))
    return k8s.core.v1.SecretInitArgs(
        metadata=object_meta(plan, auth_secret_name(plan)),
        type="Opaque",
        string_data={HTPASSWD_KEY[ingress.controller]: pulumi.Output.secret(content)},
    )


def traefik_middleware(plan: ServicePlan) -> dict[str, Any]:
    """Keyword arguments of a Traefik Middleware CustomResource: basicAuth or forwardAuth."""
    ingress = ingress_spec(plan)
    if ingress.auth is AuthType.EXTERNAL:
        external = ingress.external_auth
        assert external is not None
        forward: dict[str, Any] = {"address": external.address}
        if external.response_headers:
            forward["authResponseHeaders"] = list(external.response_headers)
        if external.signin_url is not None:
            forward["authSigninURL"] = external.signin_url
        spec: dict[str, Any] = {"forwardAuth": forward}
    else:
        spec = {
            "basicAuth": {
                "secret": auth_secret_name(plan),
                "realm": ingress.basic_auth.realm,
                "removeHeader": True,
            }
        }
    return {
        "api_version": TRAEFIK_API,
        "kind": "Middleware",
        "metadata": object_meta(plan, middleware_name(plan)),
        "spec": spec,
    }


def annotations(plan: ServicePlan) -> dict[str, str]:
    ingress = ingress_spec(plan)
    result: dict[str, str] = {}
    if ingress.controller is IngressController.NGINX:
        # Streaming answers (SSE) must reach the client as they are produced.
        result[f"{NGINX_PREFIX}/proxy-buffering"] = "off"
        result[f"{NGINX_PREFIX}/proxy-read-timeout"] = "300"
        if ingress.auth is AuthType.BASIC:
            result[f"{NGINX_PREFIX}/auth-type"] = "basic"
            result[f"{NGINX_PREFIX}/auth-secret"] = auth_secret_name(plan)
            result[f"{NGINX_PREFIX}/auth-realm"] = ingress.basic_auth.realm
        elif ingress.auth is AuthType.EXTERNAL:
            result.update(_nginx_external_auth(ingress))
    else:
        if uses_middleware(plan):
            result["traefik.ingress.kubernetes.io/router.middlewares"] = (
                f"{plan.namespace}-{middleware_name(plan)}@kubernetescrd"
            )
        if ingress.tls_secret_name:
            result["traefik.ingress.kubernetes.io/router.tls"] = "true"
    return {**result, **ingress.annotations}


def _nginx_external_auth(ingress: IngressArgs) -> dict[str, str]:
    """ingress-nginx's external auth annotations (an `auth_request` to the service); never a snippet."""
    external = ingress.external_auth
    assert external is not None
    result = {f"{NGINX_PREFIX}/auth-url": external.address}
    if external.signin_url is not None:
        result[f"{NGINX_PREFIX}/auth-signin"] = external.signin_url
    if external.response_headers:
        result[f"{NGINX_PREFIX}/auth-response-headers"] = ",".join(external.response_headers)
    return result


def ingress_args(plan: ServicePlan) -> k8s.networking.v1.IngressInitArgs:
    ingress = ingress_spec(plan)
    backend = k8s.networking.v1.IngressBackendArgs(
        service=k8s.networking.v1.IngressServiceBackendArgs(
            name=plan.service_name, port=k8s.networking.v1.ServiceBackendPortArgs(name=PORT_NAME)
        )
    )
    return k8s.networking.v1.IngressInitArgs(
        metadata=object_meta(plan, plan.name, annotations(plan)),
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
