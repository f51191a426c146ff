"""The keys of the Secrets the edges read their credentials from, as each controller names them.

Names only, importing no model: the render's writer describes these keys in its Secret templates, and loading the
writer must not load the Kubernetes models (a Docker stack's render never needs them).
"""

from __future__ import annotations

from .ingress.controllers import IngressController

# The key each ingress controller reads the htpasswd from.
HTPASSWD_KEY = {IngressController.NGINX: "auth", IngressController.TRAEFIK: "users"}
# The key Envoy Gateway's basicAuth reads the htpasswd from, and only `{SHA}` hashes in it.
ENVOY_HTPASSWD_KEY = ".htpasswd"
# The key Envoy Gateway reads an OIDC client secret from.
OIDC_SECRET_KEY = "client-secret"
