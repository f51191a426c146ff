"""OpenID Connect at the gateway: where Envoy Gateway reads the client secret, the callback URL, and the paths
Envoy answers itself."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .models import GatewayArgs

if TYPE_CHECKING:  # the plan imports this module to check the OIDC settings
    from ...plan import ServicePlan

# The key of `secret_values` that holds the value of a `fromConfig` OIDC client secret (env secrets use their name).
OIDC_CLIENT_SECRET_VALUE = "gateway.auth.oidc.clientSecret"

# Envoy Gateway's own default callback path; the OIDC filter answers it, Hayhooks never sees it.
OIDC_CALLBACK_PATH = "/oauth2/callback"


def oidc_redirect_url(gateway: GatewayArgs) -> str | None:
    """The OIDC callback URL: the configured one, else the first concrete host name's default callback."""
    oidc = gateway.auth.oidc
    if oidc is None:
        return None
    if oidc.redirect_url is not None:
        return oidc.redirect_url
    host = next((h for h in gateway.hostnames if not h.startswith("*")), None)
    return f"https://{host}{OIDC_CALLBACK_PATH}" if host else None


def gateway_extra_paths(gateway: GatewayArgs) -> list[str]:
    """Paths the gateway answers itself but must route to reach its filters: OIDC's callback and logout."""
    oidc = gateway.auth.oidc
    if oidc is None:
        return []
    redirect = oidc_redirect_url(gateway)
    paths = [urlsplit(redirect).path or "/"] if redirect else []
    return [*paths, oidc.logout_path]


def oidc_client_secret_name(plan: ServicePlan) -> str | None:
    """The Secret Envoy Gateway reads the OIDC client secret from: the user's own (`fromSecret`), else ours."""
    oidc = plan.args.gateway.auth.oidc if plan.args.gateway else None
    if oidc is None:
        return None
    source = oidc.client_secret.from_secret
    return source.name if source is not None else plan.child("oidc-client")
