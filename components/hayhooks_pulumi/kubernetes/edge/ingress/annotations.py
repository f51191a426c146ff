"""The annotations the component puts on its Ingress, from the args alone, each with the option that sets it.

A user annotation with a key the component sets would replace the component's value (the Ingress gets one value
per key), e.g. an empty `auth-type` or another middleware list switches authentication off; so `checks` refuses it
in every profile, naming that option. Production also refuses the annotations that weaken the edge's
authentication without replacing one of the component's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...args import HayhooksServiceArgs
from ...waits import ingress_wait_annotations
from .controllers import NGINX_PREFIX, TRAEFIK_MIDDLEWARES, TRAEFIK_TLS, IngressController
from .cors import ingress_mirrors_cors, nginx_cors_annotations
from .models import AuthType, IngressArgs

AUTH_SECRET_ANNOTATION = f"{NGINX_PREFIX}/auth-secret"
# Name suffixes of the objects the annotations point at (the service's name, a dash, the suffix).
AUTH_MIDDLEWARE = "auth"
CORS_MIDDLEWARE = "cors"


@dataclass(frozen=True)
class Owned:
    """An annotation the component sets, and the option that sets it (what a user changes instead), or, for a
    value no option changes, why."""

    value: str
    option: str | None
    why: str = ""


def authenticates(ingress: IngressArgs) -> bool:
    return ingress.auth is not AuthType.NONE


def mirrors_cors(args: HayhooksServiceArgs) -> bool:
    """The Ingress answers CORS itself (see `cors.ingress_mirrors_cors`)."""
    return args.ingress is not None and ingress_mirrors_cors(args.server.cors, authenticates(args.ingress))


def traefik_middlewares(args: HayhooksServiceArgs) -> list[str]:
    """Suffixes of the Traefik Middlewares of the router, in the order they run: CORS answers preflights before
    the authentication, which would refuse them (a preflight carries no credentials)."""
    ingress = args.ingress
    if ingress is None or ingress.controller is not IngressController.TRAEFIK:
        return []
    middlewares = []
    if mirrors_cors(args):
        middlewares.append(CORS_MIDDLEWARE)
    if authenticates(ingress):
        middlewares.append(AUTH_MIDDLEWARE)
    return middlewares


def component_annotations(args: HayhooksServiceArgs, namespace: str, child: Callable[[str], str]) -> dict[str, Owned]:
    """Every annotation the component sets on the Ingress; `child` names a child object by its suffix."""
    ingress = args.ingress
    assert ingress is not None
    result: dict[str, Owned] = {}
    if ingress.controller is IngressController.NGINX:
        result[f"{NGINX_PREFIX}/proxy-buffering"] = Owned(
            "off", None, "streamed answers (SSE) must reach the client as they are produced"
        )
        result[f"{NGINX_PREFIX}/proxy-read-timeout"] = Owned(
            str(ingress.read_timeout_seconds), "ingress.readTimeoutSeconds"
        )
        if ingress.auth is AuthType.BASIC:
            result[f"{NGINX_PREFIX}/auth-type"] = Owned("basic", "ingress.auth")
            # The htpasswd Secret's name is the provider's (auto-named): `ingress.annotations` fills it in.
            result[AUTH_SECRET_ANNOTATION] = Owned("", "ingress.auth")
            result[f"{NGINX_PREFIX}/auth-realm"] = Owned(ingress.basic_auth.realm, "ingress.basicAuth.realm")
        elif ingress.auth is AuthType.EXTERNAL:
            result.update(_nginx_external_auth(ingress))
        if mirrors_cors(args):
            cors = nginx_cors_annotations(args.server.cors)
            result.update({key: Owned(value, "server.cors (mirrored)") for key, value in cors.items()})
    else:
        middlewares = traefik_middlewares(args)
        if middlewares:
            references = ",".join(f"{namespace}-{child(suffix)}@kubernetescrd" for suffix in middlewares)
            result[TRAEFIK_MIDDLEWARES] = Owned(references, "ingress.auth and server.cors")
        if ingress.tls_secret_name:
            result[TRAEFIK_TLS] = Owned("true", "ingress.tlsSecretName")
    for key, value in ingress_wait_annotations(ingress).items():
        result[key] = Owned(value, "ingress.waitForAddress")
    return result


def _nginx_external_auth(ingress: IngressArgs) -> dict[str, Owned]:
    """ingress-nginx's external auth annotations (an `auth_request` to the service); never a snippet."""
    external = ingress.external_auth
    assert external is not None
    result = {f"{NGINX_PREFIX}/auth-url": Owned(external.address, "ingress.externalAuth.address")}
    if external.signin_url is not None:
        result[f"{NGINX_PREFIX}/auth-signin"] = Owned(external.signin_url, "ingress.externalAuth.signinUrl")
    if external.response_headers:
        result[f"{NGINX_PREFIX}/auth-response-headers"] = Owned(
            ",".join(external.response_headers), "ingress.externalAuth.responseHeaders"
        )
    return result


def _suffix(suffix: str) -> str:
    return suffix


def owned_annotations(args: HayhooksServiceArgs) -> dict[str, Owned]:
    """The annotations the component sets, for their keys and options (which do not depend on object names)."""
    ingress = args.ingress
    if ingress is None or (ingress.auth is AuthType.EXTERNAL and ingress.external_auth is None):
        return {}  # no Ingress, or an incomplete one the plan refuses on its own
    return component_annotations(args, "", _suffix)
