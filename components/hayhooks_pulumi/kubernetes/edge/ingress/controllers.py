"""The ingress controllers the Ingress is written for, and the names each reads: its annotations' prefix (nginx),
its router's annotations (Traefik), what it is called in messages."""

from __future__ import annotations

from enum import StrEnum


class IngressController(StrEnum):
    """The ingress controller that serves the Ingress; decides annotations and auth objects."""

    NGINX = "nginx"
    TRAEFIK = "traefik"


NGINX_PREFIX = "nginx.ingress.kubernetes.io"
TRAEFIK_ROUTER = "traefik.ingress.kubernetes.io/router"
TRAEFIK_MIDDLEWARES = f"{TRAEFIK_ROUTER}.middlewares"
TRAEFIK_TLS = f"{TRAEFIK_ROUTER}.tls"
# What each controller is called in messages.
CONTROLLER_NAMES = {IngressController.NGINX: "ingress-nginx", IngressController.TRAEFIK: "Traefik"}
