"""The edge variants under the SDK mock engine: Gateway API + Envoy Gateway (API keys, basic, JWT, OIDC),
ingress-nginx external auth, Traefik forwardAuth, ReferenceGrants and the NetworkPolicy each edge needs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hayhooks_pulumi import HayhooksService
from hayhooks_pulumi.auth import sha_hash
from hayhooks_pulumi.render.mocks import RecordingMonitor, RenderMocks, random_password
from hayhooks_pulumi.server.facts import UPLOAD_PATHS
from helpers.edges import OAUTH2_PROXY, PARENT, build, gateway_args, ingress_args, oidc_args
from helpers.engine import run
from helpers.kubernetes import by_kind, env_of, given_name, name_of_kind, of_kind
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret
from pulumi.runtime.sync_await import _sync_await

ORIGINS = ["https://app.example.com", "https://admin.example.com"]


def route_paths(route: dict[str, Any]) -> list[str]:
    return [m["path"]["value"] for rule in route["spec"]["rules"] for m in rule["matches"]]


def policy_spec(registrations: dict) -> dict[str, Any]:
    return by_kind(registrations, "SecurityPolicy")["spec"]


@pytest.fixture(scope="module")
def api_key() -> tuple[dict, dict]:
    return build(gateway_args({"apiKey": {"clients": ["frontend", "batch-jobs"]}}))


def test_route_attaches_to_the_named_listener_and_routes_exactly_the_ingress_paths(api_key) -> None:
    registrations, outputs = api_key
    route = by_kind(registrations, "HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["metadata"]["namespace"] == "hayhooks"
    assert route["spec"]["parentRefs"] == [PARENT]
    assert route["spec"]["hostnames"] == ["hayhooks.example.com"]
    ingress = by_kind(build(ingress_args())[0], "Ingress")
    ingress_paths = [p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]]
    assert route_paths(route) == ingress_paths
    assert all(m["path"]["type"] == "Exact" for rule in route["spec"]["rules"] for m in rule["matches"])
    assert not [p for p in route_paths(route) if p.startswith(UPLOAD_PATHS)]
    service = by_kind(registrations, "Service")
    (rule,) = route["spec"]["rules"]
    assert rule["backendRefs"] == [{"name": service["metadata"]["name"], "port": service["spec"]["ports"][0]["port"]}]
    assert rule["timeouts"] == {"request": "300s"}
    assert "filters" not in rule
    assert outputs["public_url"] == "https://hayhooks.example.com"
    assert not of_kind(registrations, "Ingress") and not of_kind(registrations, "ReferenceGrant")


def test_api_keys_one_generated_per_client_in_an_opaque_secret_and_a_secret_output(api_key) -> None:
    registrations, outputs = api_key
    generated = {n: r for n, r in registrations.items() if r.type == "random:index/randomPassword:RandomPassword"}
    assert set(generated) == {"hh-api-key-frontend", "hh-api-key-batch-jobs"}
    assert {r.inputs["length"] for r in generated.values()} == {48}
    assert {r.inputs["special"] for r in generated.values()} == {False}
    secret = by_kind(registrations, "Secret")
    assert secret["type"] == "Opaque" and is_rpc_secret(secret["stringData"])
    keys = {
        client: random_password(f"hh-api-key-{client}", {"length": 48})["result"]
        for client in ("frontend", "batch-jobs")
    }
    assert unwrap_rpc_secret(secret["stringData"]) == keys
    assert outputs["api_keys"] == keys
    assert _sync_await(outputs["api_keys_output"].is_secret()) is True
    spec = policy_spec(registrations)
    assert spec["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "hh"}]
    assert spec["apiKeyAuth"] == {
        "credentialRefs": [{"group": "", "kind": "Secret", "name": name_of_kind(registrations, "Secret")}],
        "extractFrom": [{"headers": ["x-api-key"]}],
        "sanitize": True,
    }
    assert by_kind(registrations, "SecurityPolicy")["apiVersion"] == "gateway.envoyproxy.io/v1alpha1"
    # The keys appear nowhere but in the secret-marked Secret data.
    for name, reg in registrations.items():
        inputs = {k: v for k, v in reg.inputs.items() if not (name == "hh-api-keys" and k == "stringData")}
        assert not any(key in json.dumps(inputs, default=str) for key in keys.values()), name
    assert outputs["basic_auth_username"] is None and outputs["basic_auth_password"] is None


def test_api_key_header_and_client_id_forwarding_are_configurable() -> None:
    auth = {"apiKey": {"clients": ["a"], "header": "authorization-key", "forwardClientIdHeader": "x-client-id"}}
    spec = policy_spec(build(gateway_args(auth))[0])["apiKeyAuth"]
    assert spec["extractFrom"] == [{"headers": ["authorization-key"]}]
    assert spec["forwardClientIDHeader"] == "x-client-id"


def test_basic_auth_htpasswd_holds_the_sha_hash_envoy_reads() -> None:
    registrations, outputs = build(gateway_args({"basic": {"username": "pipelines"}}))
    secret = by_kind(registrations, "Secret")
    assert is_rpc_secret(secret["stringData"])
    (line,) = unwrap_rpc_secret(secret["stringData"]).values()
    assert set(unwrap_rpc_secret(secret["stringData"])) == {".htpasswd"}
    password = random_password("hh-basic-auth-password", {"length": 32})["result"]
    assert line == f"pipelines:{sha_hash(password)}\n"
    assert policy_spec(registrations)["basicAuth"] == {
        "users": {"group": "", "kind": "Secret", "name": name_of_kind(registrations, "Secret")}
    }
    assert outputs["basic_auth_username"] == "pipelines" and outputs["basic_auth_password"] == password
    assert _sync_await(outputs["password_output"].is_secret()) is True
    assert outputs["api_keys"] is None


def test_jwt_checks_issuer_audiences_and_the_remote_key_set() -> None:
    jwks = "https://login.example.com/realms/ai/protocol/openid-connect/certs"
    auth = {"jwt": {"issuer": "https://login.example.com/realms/ai", "audiences": ["hayhooks"], "jwksUri": jwks}}
    registrations, _ = build(gateway_args(auth))
    (provider,) = policy_spec(registrations)["jwt"]["providers"]
    assert provider == {
        "name": "hh",
        "issuer": "https://login.example.com/realms/ai",
        "audiences": ["hayhooks"],
        "remoteJWKS": {"uri": jwks},
    }
    assert not of_kind(registrations, "Secret")


def test_oidc_policy_and_its_callback_and_logout_routed_to_envoy() -> None:
    registrations, _ = build(oidc_args({"fromSecret": {"name": "idp", "key": "client-secret"}}, scopes=["email"]))
    spec = policy_spec(registrations)["oidc"]
    assert spec == {
        "provider": {"issuer": "https://login.example.com/realms/ai"},
        "clientID": "hayhooks",
        "clientSecret": {"group": "", "kind": "Secret", "name": "idp"},
        "redirectURL": "https://hayhooks.example.com/oauth2/callback",
        "logoutPath": "/logout",
        "scopes": ["email"],
    }
    paths = route_paths(by_kind(registrations, "HTTPRoute"))
    assert paths[-2:] == ["/oauth2/callback", "/logout"]
    # An existing Secret is referenced, never copied.
    assert not of_kind(registrations, "Secret") and not of_kind(registrations, "ExternalSecret")


def test_oidc_client_secret_from_the_store_lands_alone_under_the_key_envoy_reads() -> None:
    registrations, _ = build(oidc_args({"fromStore": {"remoteKey": "prod/oidc", "property": "secret"}}))
    (external,) = of_kind(registrations, "ExternalSecret")
    assert external["spec"]["data"] == [
        {"secretKey": "client-secret", "remoteRef": {"key": "prod/oidc", "property": "secret"}}
    ]
    assert policy_spec(registrations)["oidc"]["clientSecret"]["name"] == external["spec"]["target"]["name"]
    assert external["spec"]["target"]["name"] == "hh-oidc-client"


def test_oidc_client_secret_from_config_stays_secret() -> None:
    plaintext = "oidc-client-secret-plaintext"
    args = oidc_args({"fromConfig": "oidcClientSecret"})
    registrations, _ = build(args, secret_values={"gateway.auth.oidc.clientSecret": plaintext})
    secret = registrations["hh-oidc-client"].inputs
    assert is_rpc_secret(secret["stringData"])
    assert unwrap_rpc_secret(secret["stringData"]) == {"client-secret": plaintext}
    assert policy_spec(registrations)["oidc"]["clientSecret"]["name"] == given_name(registrations["hh-oidc-client"])
    for name, reg in registrations.items():
        inputs = {k: v for k, v in reg.inputs.items() if not (name == "hh-oidc-client" and k == "stringData")}
        assert plaintext not in json.dumps(inputs, default=str), name


def test_oidc_client_secret_from_csi_is_synced_into_its_own_secret() -> None:
    registrations, _ = build(oidc_args({"fromCsi": {"objectName": "oidc-client"}}))
    spc = by_kind(registrations, "SecretProviderClass")
    assert spc["spec"]["secretObjects"] == [
        {
            "secretName": "hh-oidc-client",
            "type": "Opaque",
            "labels": spc["metadata"]["labels"],
            "data": [{"objectName": "oidc-client", "key": "client-secret"}],
        }
    ]
    assert policy_spec(registrations)["oidc"]["clientSecret"]["name"] == "hh-oidc-client"


def test_cors_filter_mirrors_the_server_settings() -> None:
    args = gateway_args({"apiKey": {"clients": ["a"]}}, cors=True)
    args["server"]["cors"] = {
        "allowOrigins": ORIGINS,
        "allowMethods": ["GET", "POST"],
        "allowHeaders": ["Content-Type", "X-Api-Key"],
        "exposeHeaders": ["X-Request-Id"],
        "allowCredentials": True,
        "maxAge": 900,
    }
    registrations, _ = build(args)
    (rule,) = by_kind(registrations, "HTTPRoute")["spec"]["rules"]
    assert rule["filters"] == [
        {
            "type": "CORS",
            "cors": {
                "allowOrigins": ORIGINS,
                "allowMethods": ["GET", "POST"],
                "allowHeaders": ["Content-Type", "X-Api-Key"],
                "exposeHeaders": ["X-Request-Id"],
                "allowCredentials": True,
                "maxAge": 900,
            },
        }
    ]
    env = env_of(registrations)
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_ORIGINS"]) == ORIGINS  # the server keeps its own settings


def test_many_pipelines_split_into_rules_of_at_most_64_matches(tmp_path: Path) -> None:
    for index in range(70):
        (tmp_path / f"p{index:02d}.yml").write_text("components: {}\ninputs: {q: p.q}\n")
    args = gateway_args({"apiKey": {"clients": ["a"]}}, cors=True)
    args["pipelinesPath"] = str(tmp_path)
    args["server"]["cors"]["allowOrigins"] = ORIGINS
    rules = by_kind(build(args)[0], "HTTPRoute")["spec"]["rules"]
    assert [len(rule["matches"]) for rule in rules] == [64, 13]
    assert all(rule["filters"][0]["type"] == "CORS" and rule["backendRefs"] for rule in rules)


def test_a_route_in_another_namespace_gets_reference_grants_for_exactly_what_it_reads() -> None:
    args = gateway_args({"apiKey": {"clients": ["a"]}}, routeNamespace="gateways")
    registrations, _ = build(args)
    route = by_kind(registrations, "HTTPRoute")
    policy = by_kind(registrations, "SecurityPolicy")
    assert route["metadata"]["namespace"] == policy["metadata"]["namespace"] == "gateways"
    assert route["spec"]["rules"][0]["backendRefs"][0]["namespace"] == "hayhooks"
    assert policy["spec"]["apiKeyAuth"]["credentialRefs"][0]["namespace"] == "hayhooks"
    # By resource name: the policy's grant is auto-named, as the Secret it admits is.
    grants = {n: r.inputs for n, r in registrations.items() if r.type.endswith(":ReferenceGrant")}
    assert {g["metadata"]["namespace"] for g in grants.values()} == {"hayhooks"}
    assert grants["hh-route-grant"]["metadata"]["name"] == "hh-route-grant"
    assert given_name(registrations["hh-policy-grant"])
    assert registrations["hh-policy-grant"].replace_on_changes == ["spec"]
    assert grants["hh-route-grant"]["spec"] == {
        "from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "gateways"}],
        "to": [{"group": "", "kind": "Service", "name": "http-hh"}],
    }
    assert grants["hh-policy-grant"]["spec"] == {
        "from": [{"group": "gateway.envoyproxy.io", "kind": "SecurityPolicy", "namespace": "gateways"}],
        "to": [{"group": "", "kind": "Secret", "name": name_of_kind(registrations, "Secret")}],
    }
    # A parentRef without namespace means the route's own: the Envoy proxies of gateways/eg.
    args["gateway"]["parentRefs"] = [{"name": "eg", "sectionName": "https"}]
    peers = by_kind(build(args)[0], "NetworkPolicy")["spec"]["ingress"][0]["from"]
    assert peers[0]["podSelector"]["matchLabels"]["gateway.envoyproxy.io/owning-gateway-namespace"] == "gateways"


def test_jwt_in_another_namespace_needs_only_the_route_grant() -> None:
    auth = {"jwt": {"issuer": "https://idp.example.com", "audiences": ["a"], "jwksUri": "https://idp.example.com/k"}}
    registrations, _ = build(gateway_args(auth, routeNamespace="gateways"))
    assert [g["metadata"]["name"] for g in of_kind(registrations, "ReferenceGrant")] == ["hh-route-grant"]


def test_network_policy_admits_only_the_envoy_proxies_of_the_parent_gateways() -> None:
    args = gateway_args({"apiKey": {"clients": ["a"]}})
    args["gateway"]["parentRefs"] = [
        PARENT,
        {**PARENT, "sectionName": "https-2"},
        {"name": "internal", "namespace": "gw"},
    ]
    args["profile"] = "development"
    registrations, _ = build(args)
    (rule,) = by_kind(registrations, "NetworkPolicy")["spec"]["ingress"]
    envoy = {"kubernetes.io/metadata.name": "envoy-gateway-system"}
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": envoy},
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "envoy",
                    "gateway.envoyproxy.io/owning-gateway-name": name,
                    "gateway.envoyproxy.io/owning-gateway-namespace": namespace,
                }
            },
        }
        for name, namespace in (("eg", "envoy-gateway-system"), ("internal", "gw"))
    ]
    assert env_of(registrations)["FORWARDED_ALLOW_IPS"] == "*"


@pytest.mark.parametrize(
    ("edge", "namespace", "pods"),
    [
        ({"controller": "nginx"}, "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
        ({"controller": "traefik"}, "traefik", {"app.kubernetes.io/name": "traefik"}),
    ],
)
def test_network_policy_defaults_follow_the_ingress_controller(edge, namespace, pods) -> None:
    (peer,) = by_kind(build(ingress_args(**edge))[0], "NetworkPolicy")["spec"]["ingress"][0]["from"]
    assert peer == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": pods},
    }


def test_network_policy_labels_given_override_the_edge_defaults() -> None:
    args = gateway_args({"apiKey": {"clients": ["a"]}})
    args["networkPolicy"] = {"ingressNamespaceLabels": {"team": "edge"}, "ingressPodLabels": {}}
    (peer,) = by_kind(build(args)[0], "NetworkPolicy")["spec"]["ingress"][0]["from"]
    assert peer == {"namespaceSelector": {"matchLabels": {"team": "edge"}}, "podSelector": {}}


def test_development_gateway_without_auth_has_a_route_and_no_policy() -> None:
    args = gateway_args({"none": True})
    args["profile"] = "development"
    registrations, _ = build(args)
    assert of_kind(registrations, "HTTPRoute") and not of_kind(registrations, "SecurityPolicy")
    assert not of_kind(registrations, "Secret")


def test_nginx_external_auth_asks_oauth2_proxy_without_snippets() -> None:
    external = {
        "address": OAUTH2_PROXY,
        "signinUrl": "https://$host/oauth2/start?rd=$escaped_request_uri",
        "responseHeaders": ["X-Auth-Request-User", "X-Auth-Request-Email"],
    }
    registrations, outputs = build(ingress_args(auth="external", externalAuth=external))
    annotations = by_kind(registrations, "Ingress")["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io"
    assert annotations[f"{prefix}/auth-url"] == OAUTH2_PROXY
    assert annotations[f"{prefix}/auth-signin"] == "https://$host/oauth2/start?rd=$escaped_request_uri"
    assert annotations[f"{prefix}/auth-response-headers"] == "X-Auth-Request-User,X-Auth-Request-Email"
    assert f"{prefix}/auth-type" not in annotations
    assert not any("snippet" in key for key in annotations)
    assert not of_kind(registrations, "Secret") and not of_kind(registrations, "RandomPassword")
    assert outputs["basic_auth_password"] is None


def test_traefik_forward_auth_middleware_trusts_only_the_listed_headers() -> None:
    external = {"address": OAUTH2_PROXY, "responseHeaders": ["X-Auth-Request-User"]}
    args = ingress_args(controller="traefik", auth="external", externalAuth=external)
    args["server"]["cors"]["allowOrigins"] = []  # no cross-origin browser access: no CORS middleware
    registrations, _ = build(args)
    middleware = by_kind(registrations, "Middleware")
    assert middleware["apiVersion"] == "traefik.io/v1alpha1"
    assert middleware["spec"] == {
        "forwardAuth": {"address": OAUTH2_PROXY, "authResponseHeaders": ["X-Auth-Request-User"]}
    }
    annotations = by_kind(registrations, "Ingress")["metadata"]["annotations"]
    assert annotations["traefik.ingress.kubernetes.io/router.middlewares"] == "hayhooks-hh-auth@kubernetescrd"
    assert not of_kind(registrations, "Secret")


def test_traefik_without_auth_has_no_middleware() -> None:
    args = ingress_args(controller="traefik", auth="none")
    args["profile"] = "development"
    registrations, _ = build(args)
    assert not of_kind(registrations, "Middleware")
    assert (
        "traefik.ingress.kubernetes.io/router.middlewares"
        not in by_kind(registrations, "Ingress")["metadata"]["annotations"]
    )


def test_switching_edges_keeps_the_basic_auth_password() -> None:
    ingress = build(ingress_args())[0]
    gateway = build(gateway_args({"basic": {}}))[0]
    name = "hh-basic-auth-password"
    assert ingress[name].inputs == gateway[name].inputs


class DependencyMonitor(RecordingMonitor):
    """Also keeps what each resource was registered to depend on (`dependsOn` and its inputs' resources)."""

    def __init__(self, mocks: RenderMocks) -> None:
        super().__init__(mocks)
        self.dependencies: dict[str, set[str]] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        found = set(request.dependencies)
        for urns in request.propertyDependencies.values():
            found |= set(urns.urns)
        self.dependencies[request.name] = found
        return response


def dependencies(args: dict[str, Any]) -> tuple[list[str], dict[str, set[str]], dict[str, str]]:
    """Registration order by name, each resource's dependencies (URNs), and each name's URN."""
    monitor = run(lambda: HayhooksService("hh", args), DependencyMonitor)
    order = [r.name for r in monitor.registrations]
    return order, monitor.dependencies, {r.name: r.urn for r in monitor.registrations}


@pytest.mark.parametrize(
    ("auth", "reads"),
    [
        ({"apiKey": {"clients": ["a"]}}, ["hh-api-keys", "hh-policy-grant"]),
        ({"basic": {}}, ["hh-basic-auth", "hh-policy-grant"]),
        (
            {"jwt": {"issuer": "https://idp.example.com", "audiences": ["a"], "jwksUri": "https://idp.example.com/k"}},
            [],
        ),
    ],
)
def test_the_route_goes_live_only_after_its_security_policy(auth: dict[str, Any], reads: list[str]) -> None:
    """A route registered before its policy would serve without authentication until the policy is accepted (and
    for good if it failed to create); on destroy the engine deletes dependents first, so the route goes first."""
    order, deps, urns = dependencies(gateway_args(auth, routeNamespace="gateways"))
    assert order.index("hh-security-policy") < order.index("hh-http-route")
    assert urns["hh-security-policy"] in deps["hh-http-route"]
    assert urns["hh-route-grant"] in deps["hh-http-route"]
    for name in reads:
        assert order.index(name) < order.index("hh-security-policy")
        assert urns[name] in deps["hh-security-policy"], name
    # The policy does not wait for the route: it names it by its name, known in advance.
    assert urns["hh-http-route"] not in deps["hh-security-policy"]


def test_a_route_without_policy_depends_on_its_grant_only() -> None:
    args = gateway_args({"none": True}, routeNamespace="gateways")
    args["profile"] = "development"
    order, deps, urns = dependencies(args)
    assert "hh-security-policy" not in order
    assert urns["hh-route-grant"] in deps["hh-http-route"]


NGINX = "nginx.ingress.kubernetes.io"
CORS = {
    "allowOrigins": ORIGINS,
    "allowMethods": ["GET", "POST"],
    "allowHeaders": ["Content-Type", "Authorization"],
    "exposeHeaders": ["X-Request-Id"],
    "allowCredentials": True,
    "maxAge": 900,
}


def with_cors(args: dict[str, Any], **cors: Any) -> dict[str, Any]:
    args["server"]["cors"] = {**CORS, **cors}
    return args


def ingress_annotations(registrations: dict) -> dict[str, str]:
    return by_kind(registrations, "Ingress")["metadata"]["annotations"]


@pytest.mark.parametrize(
    "edge",
    [{}, {"auth": "external", "externalAuth": {"address": OAUTH2_PROXY}}],
    ids=["basic", "external"],
)
def test_an_authenticating_nginx_ingress_answers_cors_mirroring_the_server(edge: dict[str, Any]) -> None:
    """A browser's preflight carries no credentials: behind nginx's auth it would get 401, so nginx answers it."""
    registrations, _ = build(with_cors(ingress_args(**edge)))
    cors = {k: v for k, v in ingress_annotations(registrations).items() if "cors" in k}
    assert cors == {
        f"{NGINX}/enable-cors": "true",
        f"{NGINX}/cors-allow-origin": "https://app.example.com, https://admin.example.com",
        f"{NGINX}/cors-allow-methods": "GET, POST",
        f"{NGINX}/cors-allow-headers": "Content-Type, Authorization",
        f"{NGINX}/cors-expose-headers": "X-Request-Id",
        f"{NGINX}/cors-allow-credentials": "true",
        f"{NGINX}/cors-max-age": "900",
    }
    env = env_of(registrations)
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_ORIGINS"]) == ORIGINS  # the server keeps its own settings


def test_nginx_cors_credentials_false_is_written_because_the_controller_defaults_to_true() -> None:
    args = with_cors(ingress_args(), allowCredentials=False, exposeHeaders=[])
    annotations = ingress_annotations(build(args)[0])
    assert annotations[f"{NGINX}/cors-allow-credentials"] == "false"
    assert f"{NGINX}/cors-expose-headers" not in annotations


@pytest.mark.parametrize(
    ("edge", "cors"),
    [({"auth": "none"}, {}), ({}, {"allowOrigins": [], "allowCredentials": False})],
    ids=["no-authentication", "no-origins"],
)
def test_nginx_leaves_cors_to_the_server_without_authentication_or_origins(edge, cors) -> None:
    args = with_cors(ingress_args(**edge), **cors)
    args["profile"] = "development"
    annotations = ingress_annotations(build(args)[0])
    assert not [key for key in annotations if "cors" in key]


def test_traefik_answers_cors_in_a_headers_middleware_before_the_authentication() -> None:
    registrations, _ = build(with_cors(ingress_args(controller="traefik")))
    cors = registrations["hh-cors-middleware"].inputs
    assert cors["apiVersion"] == "traefik.io/v1alpha1"
    assert cors["metadata"]["name"] == "hh-cors" and cors["metadata"]["namespace"] == "hayhooks"
    assert cors["spec"] == {
        "headers": {
            "accessControlAllowOriginList": ORIGINS,
            "accessControlAllowMethods": ["GET", "POST"],
            "accessControlAllowHeaders": ["Content-Type", "Authorization"],
            "accessControlExposeHeaders": ["X-Request-Id"],
            "accessControlAllowCredentials": True,
            "accessControlMaxAge": 900,
            "addVaryHeader": True,
        }
    }
    assert "basicAuth" in registrations["hh-auth-middleware"].inputs["spec"]
    # Traefik runs a router's middlewares in the listed order: CORS answers the preflight before the auth asks.
    assert (
        ingress_annotations(registrations)["traefik.ingress.kubernetes.io/router.middlewares"]
        == "hayhooks-hh-cors@kubernetescrd,hayhooks-hh-auth@kubernetescrd"
    )
    order, deps, urns = dependencies(with_cors(ingress_args(controller="traefik")))
    assert urns["hh-cors-middleware"] in deps["hh-ingress"]
    assert order.index("hh-cors-middleware") < order.index("hh-ingress")


def test_the_read_timeout_is_an_option() -> None:
    annotations = ingress_annotations(build(ingress_args(readTimeoutSeconds=900))[0])
    assert annotations[f"{NGINX}/proxy-read-timeout"] == "900"
    assert ingress_annotations(build(ingress_args())[0])[f"{NGINX}/proxy-read-timeout"] == "300"
