"""Real nginx, configured the way ingress-nginx applies the rendered Ingress, in front of the live server.

The htpasswd is the component's own: `auth_secret_args` (the builder of the rendered basic-auth
Secret) fed a bcrypt hash of a password this module generates. nginx runs as its own process, as
an unprivileged user, on a free loopback port, with a temporary prefix, pid file and error log.
Its access log names the upstream of every request, so "404 at the proxy" is proved by the
request never having an upstream.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pwd
import secrets
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from hayhooks_pulumi.auth import htpasswd_line
from hayhooks_pulumi.kubernetes.edge.ingress.ingress import auth_secret_args
from hayhooks_pulumi.kubernetes.plan import plan_service
from hayhooks_pulumi.render.cli import offline_render
from hayhooks_pulumi.server.facts import DOCS_PATHS, UPLOAD_PATHS
from helpers.paths import REPO
from helpers.render import rendered_objects
from pulumi.runtime.sync_await import _sync_await

from .ingress_nginx import annotations, auth_secret_ref, nginx_conf
from .kubelet import EmulationError, Pod, Render
from .support import (
    LiveServer,
    Process,
    Response,
    free_port,
    http,
    require_program,
    scratch_dir,
    start_process,
    stop_process,
    wait_until,
)

pytestmark = pytest.mark.live

NGINX_HINT = "install the Debian/Ubuntu package `nginx` (apt-get install -y nginx), or run `make host-packages` as root"
NGINX_USER = "nobody"


@dataclass
class Edge:
    """nginx in front of the live server, with the credentials its htpasswd accepts."""

    port: int
    host: str
    username: str
    password: str
    htpasswd: str
    bcrypt_hash: str
    access_log: Path
    process: Process
    server: LiveServer

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        auth: tuple[str, str] | None = None,
        host: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[Response, str]:
        """The answer, and the upstream nginx sent the request to ("-" when nginx answered it itself)."""
        test_id = uuid.uuid4().hex
        headers = {**(headers or {}), "Host": host or self.host, "X-Test-Id": test_id}
        if auth is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        response = http(self.port, method, path, body, headers)
        found: list[str] = []

        def logged() -> bool:
            found[:] = [line for line in self.access_log.read_text().splitlines() if line.startswith(test_id + " ")]
            return bool(found)

        wait_until(f"access log line of {method} {path}", logged, timeout=5, proc=self.process)
        return response, found[0].rsplit("upstream=", 1)[1]

    @property
    def credentials(self) -> tuple[str, str]:
        return self.username, self.password

    @property
    def upstream(self) -> str:
        return f"127.0.0.1:{self.server.port}"


def endpoints(render: Render, pod: Pod, namespace: str) -> dict[tuple[str, int | str], str]:
    """What the Services' endpoints would be: each port of a Service that selects the pod -> its loopback port."""
    labels = pod.deployment["spec"]["template"]["metadata"]["labels"]
    found = {}
    for service in render.in_namespace("Service", namespace):
        selector = service["spec"].get("selector") or {}
        if not selector or not selector.items() <= labels.items():
            continue
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            found[(service["metadata"]["name"], target)] = f"127.0.0.1:{pod.host_port(target)}"
    return found


@pytest.fixture(scope="module")
def edge(live_server: LiveServer, prod_render: Render, prod_config: dict[str, Any]) -> Iterator[Edge]:
    nginx = require_program("nginx", NGINX_HINT, extra_path="/usr/sbin:/sbin")
    ingress = prod_render.one("Ingress")
    namespace = ingress["metadata"]["namespace"]
    ref = auth_secret_ref(ingress)
    assert ref is not None, "the prod Ingress must ask for basic auth"
    # Secrets are rendered as templates (`*.yaml.template`), which the manifests' own reader leaves out.
    rendered_secret = rendered_objects(prod_render.root)[f"Secret/{ref[1]}"]
    assert rendered_secret["metadata"]["namespace"] == ref[0]

    # The Secret exactly as the component builds it, from a known password's bcrypt hash.
    name = prod_render.one("Deployment")["metadata"]["name"]
    with offline_render():  # planned as the render plans it: the stack file's digest is a placeholder
        plan = plan_service(name, {**prod_config, "pipelinesPath": str(REPO / prod_config["pipelinesPath"])})
    password = "live-" + secrets.token_urlsafe(18)
    bcrypt_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
    secret = auth_secret_args(plan, bcrypt_hash)
    # Auto-named (a new password is a new Secret): the Ingress names the one the provider created.
    assert (secret.metadata.namespace, secret.metadata.name) == (ref[0], None), (
        "the builder's Secret is not the rendered one"
    )
    assert set(secret.string_data) == set(rendered_secret["stringData"]) == {"auth"}, "ingress-nginx reads `auth`"
    htpasswd = _sync_await(secret.string_data["auth"].future())
    username = plan.args.ingress.basic_auth.username

    nobody = pwd.getpwnam(NGINX_USER)
    with scratch_dir("nginx-") as prefix, scratch_dir("nginx-logs-") as logs:
        os.chown(prefix, nobody.pw_uid, nobody.pw_gid)
        # Where the controller writes an auth-file Secret: /etc/ingress-controller/auth/<ns>-<ingress>.passwd
        passwd = prefix / f"{namespace}-{ingress['metadata']['name']}.passwd"
        passwd.write_text(htpasswd)
        os.chown(passwd, nobody.pw_uid, nobody.pw_gid)
        os.chmod(passwd, 0o400)
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(
            nginx_conf(
                prod_render,
                ingress,
                prefix=prefix,
                listen=port,
                upstream=endpoints(prod_render, live_server.pod, namespace),
                htpasswd_file=passwd,
            )
        )
        argv = [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"), "-g", "daemon off;"]
        process = start_process("nginx", argv, logs, user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[])
        try:

            def listening() -> bool:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
                return False

            wait_until("nginx listening", listening, timeout=15, proc=process)
            yield Edge(
                port=port,
                host=ingress["spec"]["rules"][0]["host"],
                username=username,
                password=password,
                htpasswd=htpasswd,
                bcrypt_hash=bcrypt_hash,
                access_log=prefix / "access.log",
                process=process,
                server=live_server,
            )
        finally:
            stop_process(process)
            error_log = prefix / "error.log"
            if error_log.exists() and "[emerg]" in error_log.read_text():
                print(error_log.read_text()[-3000:])


def test_ingress_routes_only_client_paths(prod_render: Render, prod_config: dict[str, Any]):
    ingress = prod_render.one("Ingress")
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    routed = {p["path"] for p in paths}
    assert {p["pathType"] for p in paths} == {"Exact"}
    assert {f"/{name}/run" for name in prod_config["requiredPipelines"]} <= routed
    assert not [p for p in routed if p.startswith(UPLOAD_PATHS)], routed
    expose = prod_config.get("ingress", {})
    assert ("/status" in routed) == expose.get("exposeStatus", True)
    assert bool(routed & set(DOCS_PATHS)) == expose.get("exposeDocs", False)


def test_htpasswd_comes_from_the_components_builder(edge: Edge, prod_render: Render):
    assert edge.htpasswd == htpasswd_line(edge.username, edge.bcrypt_hash)
    assert edge.htpasswd.startswith(f"{edge.username}:$2b$")
    assert edge.password not in edge.htpasswd
    outputs = (prod_render.root / "outputs.json").read_text()
    assert f'"basicAuthUsername": "{edge.username}"' in outputs, "the stack exports the user name nginx checks"


def test_no_credentials_is_401(edge: Edge):
    response, upstream = edge.request("POST", "/greeter/run", {"name": "Ada"})
    assert response.status == 401
    assert response.headers.get("www-authenticate") == 'Basic realm="Hayhooks"'
    assert upstream == "-"


def test_wrong_password_is_401(edge: Edge):
    for auth in ((edge.username, edge.password + "x"), (edge.username, ""), ("admin", edge.password)):
        response, upstream = edge.request("POST", "/greeter/run", {"name": "Ada"}, auth=auth)
        assert response.status == 401, f"{auth[0]}: {response.status}"
        assert upstream == "-"


def test_right_password_reaches_the_pipelines(edge: Edge):
    response, upstream = edge.request("POST", "/greeter/run", {"name": "Ada"}, auth=edge.credentials)
    assert response.status == 200, response.text
    assert response.json()["result"]["greeting"] == "Hello, Ada!"
    assert upstream == edge.upstream
    response, upstream = edge.request(
        "POST", "/qa-prompt/run", {"context": "c", "question": "q"}, auth=edge.credentials
    )
    assert response.status == 200, response.text
    assert response.json()["result"]["prompt_builder"]["prompt"].endswith("Question: q\nAnswer:")


def test_code_upload_paths_are_404_at_the_proxy(edge: Edge):
    for path in ("/deploy_files", "/deploy-yaml", "/undeploy/greeter"):
        response, upstream = edge.request("POST", path, {"name": "x"}, auth=edge.credentials)
        assert (response.status, upstream) == (404, "-"), f"{path} with credentials"
        response, upstream = edge.request("POST", path, {"name": "x"})
        assert response.status in (401, 404) and upstream == "-", f"{path} without credentials"


def test_status_is_reachable_only_where_the_ingress_routes_it(edge: Edge):
    response, upstream = edge.request("GET", "/status", auth=edge.credentials)
    assert response.status == 200 and upstream == edge.upstream
    assert sorted(response.json()["pipelines"]) == ["greeter", "qa-prompt"]
    response, upstream = edge.request("GET", "/status")
    assert response.status == 401 and upstream == "-"
    # Exact path: the per-pipeline status stays inside the cluster (the readiness probe's business).
    response, upstream = edge.request("GET", "/status/greeter", auth=edge.credentials)
    assert (response.status, upstream) == (404, "-")
    # Docs are not exposed: the server has them, the proxy does not route them.
    assert edge.server.request("GET", "/docs").status == 200
    for path in (*DOCS_PATHS, "/", "/traces"):
        response, upstream = edge.request("GET", path, auth=edge.credentials)
        assert (response.status, upstream) == (404, "-"), path


def test_other_hosts_get_the_default_backend(edge: Edge):
    response, upstream = edge.request("POST", "/greeter/run", {"name": "Ada"}, auth=edge.credentials, host="other")
    assert (response.status, upstream) == (404, "-")


def test_emulated_annotations_are_all_known(prod_render: Render):
    """The nginx config writer refuses annotations it does not model, so none is silently dropped."""
    try:
        found = annotations(prod_render.one("Ingress"))
    except EmulationError as error:
        pytest.fail(str(error), pytrace=False)
    assert found["proxy-buffering"] == "off"


# A browser's preflight before a cross-origin JSON POST with basic auth: no credentials, by the Fetch standard.
PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
FOREIGN_ORIGINS = (
    "https://attacker.example.net",
    "http://app.example.com",  # another scheme is another origin
    "https://app.example.com.attacker.example.net",
    "null",
)


def allowed_origins(prod_config: dict[str, Any]) -> list[str]:
    origins = prod_config["server"]["cors"]["allowOrigins"]
    assert origins, "the prod stack allows browser origins; this test checks the edge answers for them"
    return origins


def test_preflights_from_each_allowed_origin_are_answered_before_authentication(
    edge: Edge, prod_config: dict[str, Any]
) -> None:
    """Without the edge answering, nginx asks the preflight for credentials it never carries (401), and the browser
    never sends the real request."""
    cors = prod_config["server"]["cors"]
    for origin in allowed_origins(prod_config):
        for path in ("/greeter/run", "/v1/chat/completions"):
            response, upstream = edge.request("OPTIONS", path, headers={"Origin": origin, **PREFLIGHT})
            assert (response.status, upstream) == (204, "-"), f"{origin} {path}: {response.status} {response.text}"
            headers = response.headers
            assert headers["access-control-allow-origin"] == origin
            assert headers["access-control-allow-methods"] == ", ".join(cors["allowMethods"])
            allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
            assert allowed == {h.lower() for h in cors["allowHeaders"]}
            assert allowed >= set(PREFLIGHT["Access-Control-Request-Headers"].split(",")), "the browser would stop"
            assert headers.get("access-control-allow-credentials") == ("true" if cors.get("allowCredentials") else None)
            assert headers["access-control-max-age"] == str(cors.get("maxAge", 600))
            assert "www-authenticate" not in headers


def test_a_preflight_from_another_origin_gets_no_cors_answer(edge: Edge, prod_config: dict[str, Any]) -> None:
    for origin in FOREIGN_ORIGINS:
        response, upstream = edge.request("OPTIONS", "/greeter/run", headers={"Origin": origin, **PREFLIGHT})
        assert "access-control-allow-origin" not in response.headers, origin
        assert (response.status, upstream) == (401, "-"), origin


def cors_header_lines(edge: Edge, origin: str) -> list[tuple[str, str]]:
    """Every header line of an authenticated cross-origin POST, as sent (a repeated header stays repeated)."""
    token = base64.b64encode(f"{edge.username}:{edge.password}".encode()).decode()
    connection = HTTPConnection("127.0.0.1", edge.port, timeout=30)
    try:
        connection.request(
            "POST",
            "/greeter/run",
            body=json.dumps({"name": "Ada"}).encode(),
            headers={
                "Host": edge.host,
                "Origin": origin,
                "Content-Type": "application/json",
                "Authorization": f"Basic {token}",
            },
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        return [(name.lower(), value) for name, value in response.getheaders() if name.lower().startswith("access-")]
    finally:
        connection.close()


def test_an_authenticated_request_from_an_allowed_origin_carries_the_cors_headers(
    edge: Edge, prod_config: dict[str, Any]
) -> None:
    origin = allowed_origins(prod_config)[0]
    response, upstream = edge.request(
        "POST", "/greeter/run", {"name": "Ada"}, auth=edge.credentials, headers={"Origin": origin}
    )
    assert (response.status, upstream) == (200, edge.upstream), response.text
    assert response.json()["result"]["greeting"] == "Hello, Ada!"
    assert response.headers["access-control-allow-origin"] == origin
    assert response.headers["access-control-allow-credentials"] == "true"
    # The server answers CORS too: the edge's header replaces its own, never beside it (a browser refuses two).
    lines = cors_header_lines(edge, origin)
    assert [value for name, value in lines if name == "access-control-allow-origin"] == [origin]
    assert [value for name, value in lines if name == "access-control-allow-credentials"] == ["true"]
    # From another origin, neither the edge nor the server allows it.
    response, _ = edge.request(
        "POST", "/greeter/run", {"name": "Ada"}, auth=edge.credentials, headers={"Origin": FOREIGN_ORIGINS[0]}
    )
    assert response.status == 200 and "access-control-allow-origin" not in response.headers
