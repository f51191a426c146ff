"""The public edge: an Ingress that routes only what clients need, behind authentication."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..auth import htpasswd_line
from .args import AuthType, IngressArgs, IngressController
from .metadata import object_meta
from .plan import PORT_NAME, ServicePlan

TRAEFIK_API = "traefik.io/v1alpha1"
NGINX_PREFIX = "nginx.ingress.kubernetes.io"
# The key each controller reads the htpasswd from.
HTPASSWD_KEY = {IngressController.NGINX: "auth", IngressController.TRAEFIK: "users"}
# Never routed: /deploy_files, /deploy-yaml, /undeploy/* run arbitrary code; /traces, /files, /draw
# are local tooling. Everything below is what API clients use.
CLIENT_PATHS = (
    "/chat/completions",
    "/v1/chat/completions",
    "/responses",
    "/v1/responses",
    "/models",
    "/v1/models",
)
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")
UPLOAD_PATHS = ("/deploy_files", "/deploy-yaml", "/undeploy")


def ingress_spec(plan: ServicePlan) -> IngressArgs:
    assert plan.args.ingress is not None
    return plan.args.ingress


def routed_paths(plan: ServicePlan) -> list[str]:
    """Exact paths: each pipeline's run endpoint, the OpenAI-compatible API, status, optionally docs."""
    ingress = ingress_spec(plan)
    paths = [f"/{name}/run" for name in plan.pipelines.names] + list(CLIENT_PATHS)
    if ingress.expose_status:
        paths.append("/status")
    if ingress.expose_docs:
        paths.extend(DOCS_PATHS)
    return paths


def auth_secret_name(plan: ServicePlan) -> str:
    return plan.child("basic-auth")


def middleware_name(plan: ServicePlan) -> str:
    return plan.child("auth")


def uses_basic_auth(plan: ServicePlan) -> bool:
    return plan.args.ingress is not None and plan.args.ingress.auth is AuthType.BASIC


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
    """Keyword arguments of a Traefik basicAuth Middleware CustomResource."""
    ingress = ingress_spec(plan)
    return {
        "api_version": TRAEFIK_API,
        "kind": "Middleware",
        "metadata": object_meta(plan, middleware_name(plan)),
        "spec": {
            "basicAuth": {
                "secret": auth_secret_name(plan),
                "realm": ingress.basic_auth.realm,
                "removeHeader": True,
            }
        },
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
    else:
        if ingress.auth is AuthType.BASIC:
            result["traefik.ingress.kubernetes.io/router.middlewares"] = (
                f"{plan.namespace}-{middleware_name(plan)}@kubernetescrd"
            )
        if ingress.tls_secret_name:
            result["traefik.ingress.kubernetes.io/router.tls"] = "true"
    return {**result, **ingress.annotations}


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
