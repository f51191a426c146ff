"""Incomplete or unsafe edge configs are refused before anything registers, each error naming its key."""

from __future__ import annotations

from typing import Any

import pytest
from hayhooks_pulumi import HayhooksService
from helpers.edges import OAUTH2_PROXY, OIDC, PARENT, gateway_args, ingress_args, oidc_args
from helpers.engine import register
from helpers.kubernetes import by_kind, problem_at, refusal

JWT = {"issuer": "https://idp.example.com", "audiences": ["hayhooks"], "jwksUri": "https://idp.example.com/keys"}


def without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


INCOMPLETE = [
    # Gateway API + Envoy Gateway
    (
        gateway_args({"oidc": without({**OIDC, "clientSecret": {"fromConfig": "x"}}, "issuer")}),
        "gateway.auth.oidc.issuer",
        "required",
    ),
    (
        gateway_args({"oidc": {**OIDC, "clientSecret": {"fromConfig": "x"}, "issuer": "http://idp"}}),
        "gateway.auth.oidc.issuer",
        "https://",
    ),
    (
        gateway_args({"oidc": without({**OIDC, "clientSecret": {"fromConfig": "x"}}, "clientId")}),
        "gateway.auth.oidc.clientId",
        "required",
    ),
    (gateway_args({"oidc": OIDC}), "gateway.auth.oidc.clientSecret", "required"),
    (gateway_args({"oidc": {**OIDC, "clientSecret": {}}}), "gateway.auth.oidc.clientSecret", "exactly one of"),
    (gateway_args({"jwt": without(JWT, "issuer")}), "gateway.auth.jwt.issuer", "required"),
    (gateway_args({"jwt": without(JWT, "jwksUri")}), "gateway.auth.jwt.jwksUri", "required"),
    (gateway_args({"jwt": {**JWT, "jwksUri": "http://idp.example.com/keys"}}), "gateway.auth.jwt.jwksUri", "https://"),
    (gateway_args({"apiKey": {"clients": []}}), "gateway.auth.apiKey.clients", "at least 1"),
    (gateway_args({"apiKey": {"clients": ["a", "a"]}}), "gateway.auth.apiKey.clients", "twice"),
    (gateway_args({"apiKey": {"clients": ["Front End"]}}), "gateway.auth.apiKey.clients", "not a DNS label"),
    (
        gateway_args({"apiKey": {"clients": ["a"], "header": "x api key"}}),
        "gateway.auth.apiKey.header",
        "not an HTTP header",
    ),
    (gateway_args({"apiKey": {"clients": ["a"], "headr": "x"}}), "gateway.auth.apiKey.headr", "unknown key"),
    (gateway_args({}), "gateway.auth", "exactly one of apiKey, basic, jwt, oidc, none"),
    (gateway_args({"basic": {}, "jwt": JWT}), "gateway.auth", "exactly one of"),
    (without(gateway_args({}), "gateway") | {"gateway": {"parentRefs": [PARENT]}}, "gateway.auth", "required"),
    (gateway_args({"basic": {}}, parentRefs=[]), "gateway.parentRefs", "at least 1"),
    (gateway_args({"basic": {}}, parentRefs=[{"namespace": "gw"}]), "gateway.parentRefs[0].name", "required"),
    (gateway_args({"basic": {}}, hostnames=["Hayhooks.Example.com"]), "gateway.hostnames", "not a host name"),
    (gateway_args({"basic": {}}, requestTimeout="5 minutes"), "gateway.requestTimeout", "should match"),
    ({**gateway_args({"basic": {}}), "ingress": {"host": "h.example.com"}}, "gateway", "not both"),
    # ingress-nginx / Traefik external auth
    (
        ingress_args(auth="external", externalAuth={"responseHeaders": ["X-User"]}),
        "ingress.externalAuth.address",
        "required",
    ),
    (ingress_args(controller="traefik", auth="external", externalAuth={}), "ingress.externalAuth.address", "required"),
    (ingress_args(auth="external"), "ingress.externalAuth", "required with auth: external"),
    (
        ingress_args(auth="basic", externalAuth={"address": OAUTH2_PROXY}),
        "ingress.externalAuth",
        "set only with auth: external",
    ),
    (
        ingress_args(auth="external", externalAuth={"address": "oauth2-proxy/auth"}),
        "ingress.externalAuth.address",
        "http(s) URL",
    ),
    (
        ingress_args(auth="external", externalAuth={"address": OAUTH2_PROXY, "responseHeaders": ["X User"]}),
        "ingress.externalAuth.responseHeaders",
        "not an HTTP header",
    ),
]


@pytest.mark.parametrize(("args", "path", "message"), INCOMPLETE)
def test_incomplete_variants_are_refused_naming_the_key(args: dict[str, Any], path: str, message: str) -> None:
    assert message in problem_at(args, path)


@pytest.mark.parametrize(
    "value",
    [
        'http://auth/x"; return 200; "',  # would end the value inside nginx's generated config
        "http://auth/x;proxy_pass http://evil",
        "http://auth/x\nmore_set_headers",
        "http://auth/{x}",
        "http://auth/ x",
        "http://auth/x#frag",
    ],
)
def test_external_auth_urls_cannot_inject_proxy_config(value: str) -> None:
    for key in ("address", "signinUrl"):
        external = {"address": OAUTH2_PROXY, key: value}
        assert "controller can take safely" in problem_at(
            ingress_args(auth="external", externalAuth=external), f"ingress.externalAuth.{key}"
        )


PRODUCTION = [
    (gateway_args({"none": True}), "gateway.auth.none", "needs authentication"),
    (
        gateway_args({"basic": {}}, parentRefs=[without(PARENT, "sectionName")]),
        "gateway.parentRefs[0].sectionName",
        "plain-HTTP listener",
    ),
    (gateway_args({"jwt": without(JWT, "audiences")}), "gateway.auth.jwt.audiences", "at least one in production"),
    (
        gateway_args(
            {
                "oidc": {
                    **OIDC,
                    "clientSecret": {"fromSecret": {"name": "s", "key": "client-secret"}},
                    "redirectUrl": "http://h.example.com/cb",
                }
            }
        ),
        "gateway.auth.oidc.redirectUrl",
        "https in production",
    ),
    (ingress_args(auth="none"), "ingress.auth", "basic or external"),
]


@pytest.mark.parametrize(("args", "path", "message"), PRODUCTION)
def test_production_refuses_a_public_edge_without_authentication(args: dict[str, Any], path: str, message: str) -> None:
    assert message in problem_at(args, path)


@pytest.mark.parametrize(("args", "path", "message"), PRODUCTION)
def test_development_allows_what_production_refuses_at_the_edge(args: dict[str, Any], path: str, message: str) -> None:
    registrations = register(lambda: HayhooksService("hh", {**args, "profile": "development"}))
    assert any(r.type.endswith((":HTTPRoute", ":Ingress")) for r in registrations.values())


def test_oidc_client_secret_needs_its_source() -> None:
    args = oidc_args({"fromStore": {"remoteKey": "prod/oidc"}})
    del args["secretStore"]
    assert "required by gateway.auth.oidc.clientSecret.fromStore" in problem_at(args, "secretStore")
    args = oidc_args({"fromCsi": {"objectName": "oidc"}})
    del args["secretProviderClass"]
    assert "required by gateway.auth.oidc.clientSecret.fromCsi" in problem_at(args, "secretProviderClass")
    message = problem_at(oidc_args({"fromConfig": "oidcSecret"}), "gateway.auth.oidc.clientSecret.fromConfig")
    assert "the secret_values= argument is missing or has no 'gateway.auth.oidc.clientSecret' entry" in message


def test_oidc_client_secret_must_be_where_envoy_reads_it() -> None:
    args = oidc_args({"fromSecret": {"name": "idp", "key": "secret"}})
    assert "'client-secret'" in problem_at(args, "gateway.auth.oidc.clientSecret.fromSecret.key")
    args = oidc_args({"fromCsi": {"objectName": "oidc", "sync": False}})
    assert "from a Secret" in problem_at(args, "gateway.auth.oidc.clientSecret.fromCsi.sync")


def test_oidc_needs_a_callback_url_it_can_derive_or_is_given() -> None:
    args = oidc_args({"fromSecret": {"name": "idp", "key": "client-secret"}})
    args["gateway"]["hostnames"] = ["*.example.com"]
    assert "no concrete host" in problem_at(args, "gateway.auth.oidc.redirectUrl")


@pytest.mark.parametrize(
    "oidc", [{"logoutPath": "/status"}, {"redirectUrl": "https://hayhooks.example.com/greeter/run"}]
)
def test_oidc_paths_never_shadow_a_server_path(oidc: dict[str, str]) -> None:
    args = oidc_args({"fromSecret": {"name": "idp", "key": "client-secret"}}, **oidc)
    assert "is a path of the server" in problem_at(args, "gateway.auth.oidc")


@pytest.mark.parametrize(
    ("cors", "path", "message"),
    [
        (
            {"allowOrigins": [], "allowOriginRegex": "https://[a-z]+\\.example\\.com"},
            "server.cors.allowOriginRegex",
            "no origin regex",
        ),
        ({"allowOrigins": []}, "server.cors.allowOrigins", "nothing to mirror"),
        ({"allowOrigins": ["https://[::1]:8443"]}, "server.cors.allowOrigins[0]", "host names only"),
        ({"allowOrigins": ["https://app.example.com"], "maxAge": 0}, "server.cors.maxAge", "at least 1 second"),
        (
            {"allowOrigins": ["https://app.example.com"], "allowHeaders": ["*", "X-Api-Key"]},
            "server.cors.allowHeaders",
            "'*' alone",
        ),
    ],
)
def test_cors_the_gateway_cannot_mirror_is_refused(cors: dict[str, Any], path: str, message: str) -> None:
    args = gateway_args({"basic": {}}, cors=True)
    args["server"]["cors"] = cors
    assert message in problem_at(args, path)


def test_too_many_paths_for_one_route_are_refused(tmp_path) -> None:
    for index in range(130):
        (tmp_path / f"p{index:03d}.yml").write_text("components: {}\ninputs: {q: p.q}\n")
    args = gateway_args({"basic": {}})
    args["pipelinesPath"] = str(tmp_path)
    assert "more than an HTTPRoute holds (128)" in problem_at(args, "pipelinesPath")


def test_every_edge_problem_is_reported_at_once() -> None:
    args = gateway_args({"jwt": without(JWT, "audiences")}, parentRefs=[without(PARENT, "sectionName")])
    error, _ = refusal(args)
    assert {p.path for p in error.problems} == {"gateway.auth.jwt.audiences", "gateway.parentRefs[0].sectionName"}


NGINX = "nginx.ingress.kubernetes.io"
MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares"
EXTERNAL = {"auth": "external", "externalAuth": {"address": OAUTH2_PROXY, "signinUrl": "https://auth.example.com/s"}}

# (ingress settings, the user annotation, the option the error names)
OWNED = [
    ({}, {f"{NGINX}/auth-type": ""}, "from ingress.auth"),
    ({}, {f"{NGINX}/auth-secret": "mine"}, "from ingress.auth"),
    ({}, {f"{NGINX}/auth-realm": "x"}, "from ingress.basicAuth.realm"),
    (EXTERNAL, {f"{NGINX}/auth-url": "http://other/auth"}, "from ingress.externalAuth.address"),
    (EXTERNAL, {f"{NGINX}/auth-signin": "https://other/s"}, "from ingress.externalAuth.signinUrl"),
    ({}, {f"{NGINX}/proxy-read-timeout": "900"}, "from ingress.readTimeoutSeconds"),
    ({}, {f"{NGINX}/proxy-buffering": "on"}, "streamed answers (SSE)"),
    ({}, {f"{NGINX}/enable-cors": "false"}, "from server.cors"),
    ({}, {f"{NGINX}/cors-allow-origin": "*"}, "from server.cors"),
    ({"controller": "traefik"}, {MIDDLEWARES: ""}, "from ingress.auth and server.cors"),
    ({"controller": "traefik"}, {"traefik.ingress.kubernetes.io/router.tls": "false"}, "from ingress.tlsSecretName"),
]


@pytest.mark.parametrize("profile", ["production", "development"])
@pytest.mark.parametrize(("edge", "annotation", "option"), OWNED)
def test_an_annotation_the_component_sets_is_refused_naming_its_option(
    edge: dict[str, Any], annotation: dict[str, str], option: str, profile: str
) -> None:
    """It would replace the component's value (an Ingress has one value per key): e.g. an empty auth-type or
    another middleware list switches authentication off."""
    args = ingress_args(**edge, annotations=annotation)
    args["profile"] = profile
    (key,) = annotation
    error, registrations = refusal(args)
    assert [p.path for p in error.problems] == [f"ingress.annotations.{key}"]
    assert option in error.problems[0].message
    assert registrations == {}


@pytest.mark.parametrize(
    ("edge", "annotations", "refused"),
    [
        # satisfy: any lets an address in whitelist-source-range (0.0.0.0/0: everyone) through without credentials.
        ({}, {f"{NGINX}/satisfy": "any", f"{NGINX}/whitelist-source-range": "0.0.0.0/0"}, ["satisfy", "whitelist"]),
        ({}, {f"{NGINX}/satisfy": "any"}, ["satisfy"]),
        ({}, {f"{NGINX}/auth-tls-verify-client": "optional_no_ca"}, ["auth-tls-verify-client"]),
        (EXTERNAL, {f"{NGINX}/auth-type": "", f"{NGINX}/auth-secret": "x"}, ["auth-type", "auth-secret"]),
        ({}, {MIDDLEWARES: "kube-system-open@kubernetescrd"}, [MIDDLEWARES]),
    ],
    ids=["satisfy-any-whitelist", "satisfy", "auth-tls", "auth-type-beside-external", "middlewares-on-nginx"],
)
def test_production_refuses_annotations_that_weaken_the_edge_authentication(
    edge: dict[str, Any], annotations: dict[str, str], refused: list[str]
) -> None:
    args = ingress_args(**edge, annotations=annotations)
    error, registrations = refusal(args)
    paths = [p.path for p in error.problems]
    assert len(paths) == len(refused)
    assert all(path.startswith("ingress.annotations.") for path in paths)
    assert all(any(part in path for path in paths) for part in refused), paths
    assert all("refused in production" in p.message for p in error.problems)
    assert registrations == {}
    # Development allows them (a local cluster may want them); the component's own keys stay refused.
    args["profile"] = "development"
    assert any(r.type.endswith(":Ingress") for r in register(lambda: HayhooksService("hh", args)).values())


def test_production_allows_an_address_allow_list_that_adds_to_the_authentication() -> None:
    """Without satisfy, nginx requires both (satisfy all): the range only narrows who may try."""
    args = ingress_args(annotations={f"{NGINX}/whitelist-source-range": "10.0.0.0/8"})
    annotations = by_kind(register(lambda: HayhooksService("hh", args)), "Ingress")["metadata"]["annotations"]
    assert annotations[f"{NGINX}/whitelist-source-range"] == "10.0.0.0/8"
    assert annotations[f"{NGINX}/auth-type"] == "basic"


@pytest.mark.parametrize("controller", ["nginx", "traefik"])
def test_an_origin_regex_cannot_be_mirrored_by_an_authenticating_ingress(controller: str) -> None:
    args = ingress_args(controller=controller)
    args["server"]["cors"] = {"allowOrigins": [], "allowOriginRegex": "https://[a-z]+\\.example\\.com"}
    message = problem_at(args, "server.cors.allowOriginRegex")
    assert "no origin regex" in message and "list the origins in allowOrigins" in message
    # Without authentication the preflight reaches the server, which matches its regex itself.
    args["ingress"]["auth"] = "none"
    args["profile"] = "development"
    assert any(r.type.endswith(":Ingress") for r in register(lambda: HayhooksService("hh", args)).values())


@pytest.mark.parametrize(
    ("controller", "cors", "path", "message"),
    [
        ("nginx", {"allowOrigins": ["https://[::1]:8443"]}, "server.cors.allowOrigins[0]", "host names only"),
        ("nginx", {"allowHeaders": ["*"]}, "server.cors.allowHeaders", "its own default list"),
        ("nginx", {"allowHeaders": []}, "server.cors.allowHeaders", "empty cannot be mirrored"),
        ("nginx", {"allowMethods": []}, "server.cors.allowMethods", "empty cannot be mirrored"),
        ("traefik", {"allowMethods": []}, "server.cors.allowMethods", "empty cannot be mirrored"),
        ("nginx", {"allowHeaders": ["X.Trace"]}, "server.cors.allowHeaders[0]", "letters, digits, '-' and '_'"),
        ("nginx", {"exposeHeaders": ["X.Trace"]}, "server.cors.exposeHeaders[0]", "letters, digits, '-' and '_'"),
        ("traefik", {"allowHeaders": ["*"], "allowCredentials": True}, "server.cors.allowHeaders", "credentials"),
        ("traefik", {"allowMethods": ["*"], "allowCredentials": True}, "server.cors.allowMethods", "credentials"),
    ],
)
def test_cors_the_ingress_cannot_mirror_is_refused(
    controller: str, cors: dict[str, Any], path: str, message: str
) -> None:
    args = ingress_args(controller=controller)
    args["profile"] = "development"
    args["server"]["cors"] = {"allowOrigins": ["https://app.example.com"], **cors}
    assert message in problem_at(args, path)


def test_traefik_mirrors_what_nginx_cannot() -> None:
    args = ingress_args(controller="traefik")
    args["profile"] = "development"
    args["server"]["cors"] = {"allowOrigins": ["https://[::1]:8443"], "allowHeaders": ["*"], "exposeHeaders": ["X.T"]}
    registrations = register(lambda: HayhooksService("hh", args))
    headers = registrations["hh-cors-middleware"].inputs["spec"]["headers"]
    assert headers["accessControlAllowOriginList"] == ["https://[::1]:8443"]
    assert headers["accessControlAllowHeaders"] == ["*"] and headers["accessControlExposeHeaders"] == ["X.T"]


@pytest.mark.parametrize("profile", ["production", "development"])
def test_a_wildcard_ingress_host_is_refused_it_has_no_url(profile: str) -> None:
    # Once accepted, and the stack exported publicUrl: https://*.example.com.
    args = ingress_args(host="*.example.com")
    args["profile"] = profile
    message = problem_at(args, "ingress.host")
    assert "'*.example.com' is a wildcard" in message and "https://*.example.com" in message
    assert "e.g. hayhooks.example.com" in message
