"""An nginx config written the way ingress-nginx applies a rendered networking.k8s.io/v1 Ingress.

Modelled: one `server` per rule host; each path with its pathType (`Exact` -> `location = /p`,
`Prefix` -> `location = /p` plus `location /p/`); the basic-auth annotations (`auth-type`,
`auth-secret`, `auth-realm`) as `auth_basic` + `auth_basic_user_file`, with the Secret's `auth` key
written to a file as the controller does; `proxy-buffering`, `proxy-read-timeout`,
`proxy-send-timeout`, `proxy-body-size`; the proxy headers the controller sets; and, for every
path no rule routes and every unknown host, the controller's default backend (404).
CORS (`enable-cors` and `cors-*`) as the controller parses the annotations (each value checked by
its pattern; an invalid one falls back to the default, an invalid origin is skipped; credentials
default to true) and as its template writes the location: `if ($http_origin ~* (<origins>)$ )`
sets `$cors`, an OPTIONS request appends `options`, `$cors = "trueoptions"` answers 204 with the
CORS headers in nginx's rewrite phase, i.e. before the access phase that authenticates, and
`$cors = "true"` sets the headers on the answer. The template's `more_set_headers` (the
headers-more module, built into the controller, not into Debian's nginx) replaces a header the
server sent and applies to every status: emulated by `proxy_hide_header` for the CORS headers
and `add_header ... always`. `cors-allow-origin: *` is emulated with a variable of its own (the
template sets `$http_origin`, which stock nginx refuses).
Not modelled: TLS and the HTTP->HTTPS redirect (the test speaks plain HTTP on loopback, i.e. what
the controller does after TLS ends). An `nginx.ingress.kubernetes.io/*` annotation this module
does not know fails the emulation, so a new annotation cannot be silently ignored.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import socket
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.processes import (
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

NGINX_HINT = "install the Debian/Ubuntu package `nginx` (apt-get install -y nginx), or run `make host-packages` as root"
NGINX_USER = "nobody"


class EmulationError(Exception):
    """The Ingress uses something this emulation does not model: fail loudly, never guess."""


PREFIX = "nginx.ingress.kubernetes.io/"
KNOWN = {
    "auth-type",
    "auth-secret",
    "auth-secret-type",
    "auth-realm",
    "proxy-buffering",
    "proxy-read-timeout",
    "proxy-send-timeout",
    "proxy-body-size",
    "enable-cors",
    "cors-allow-origin",
    "cors-allow-methods",
    "cors-allow-headers",
    "cors-allow-credentials",
    "cors-expose-headers",
    "cors-max-age",
}
# ingress-nginx's CORS defaults and value patterns (internal/ingress/annotations/cors/main.go).
CORS_DEFAULT_METHODS = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
CORS_DEFAULT_HEADERS = (
    "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization"
)
CORS_DEFAULT_MAX_AGE = 1728000
CORS_ORIGIN = re.compile(r"^(https?://(\*\.)?[A-Za-z0-9\-\.]*(:[0-9]+)?|\*)?\Z")
CORS_METHODS = re.compile(r"^([A-Za-z]+,?\s?)+\Z")
CORS_HEADERS = re.compile(r"^([A-Za-z0-9\-\_]+,?\s?)+\Z")
CORS_EXPOSE_HEADERS = re.compile(r"^(([A-Za-z0-9\-\_]+|\*),?\s?)+\Z")
CORS_RESPONSE_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Max-Age",
)
# The access log names the upstream each request went to: "-" means nginx answered it itself.
LOG_FORMAT = "'$http_x_test_id $request_method $uri $status upstream=$upstream_addr'"


def annotations(ingress: dict[str, Any]) -> dict[str, str]:
    """The ingress-nginx annotations of the Ingress, without the prefix; unknown ones are an error."""
    found = {
        key.removeprefix(PREFIX): value
        for key, value in ingress["metadata"].get("annotations", {}).items()
        if key.startswith(PREFIX)
    }
    unknown = sorted(set(found) - KNOWN)
    if unknown:
        raise EmulationError(f"ingress-nginx annotations not emulated: {unknown}")
    return found


def auth_secret_ref(ingress: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, name) of the basic-auth Secret, or None when the Ingress has no basic auth."""
    notes = annotations(ingress)
    if notes.get("auth-type") is None:
        return None
    if notes["auth-type"] != "basic":
        raise EmulationError(f"auth-type {notes['auth-type']!r} is not emulated")
    if notes.get("auth-secret-type", "auth-file") != "auth-file":
        raise EmulationError("only auth-secret-type auth-file is emulated")
    namespace = ingress["metadata"].get("namespace", "default")
    secret = notes["auth-secret"]
    if "/" in secret:
        namespace, secret = secret.split("/", 1)
    return namespace, secret


def _go_quote_meta(text: str) -> str:
    """Go's regexp.QuoteMeta, which the controller applies to each origin."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", text)


def cors_settings(notes: Mapping[str, str]) -> dict[str, Any] | None:
    """The CORS config the controller parses from the annotations, or None without `enable-cors: "true"`."""
    if notes.get("enable-cors", "").lower() != "true":
        return None
    origins: list[str] = []
    if "cors-allow-origin" in notes:
        for origin in (part.strip() for part in notes["cors-allow-origin"].split(",")):
            if origin == "*":
                origins = ["*"]
                break
            if CORS_ORIGIN.match(origin):  # the controller logs an invalid origin and skips it
                origins.append(origin)
    else:
        origins = ["*"]

    def checked(key: str, pattern: re.Pattern[str], default: str) -> str:
        value = notes.get(key)
        return value if value is not None and pattern.match(value) else default

    credentials = notes.get("cors-allow-credentials", "true").lower()
    if credentials not in ("true", "false"):
        raise EmulationError(f"cors-allow-credentials {credentials!r} is not a boolean")
    try:
        max_age = int(notes.get("cors-max-age", CORS_DEFAULT_MAX_AGE))
    except ValueError:
        max_age = CORS_DEFAULT_MAX_AGE
    return {
        "origins": origins,
        "methods": checked("cors-allow-methods", CORS_METHODS, CORS_DEFAULT_METHODS),
        "headers": checked("cors-allow-headers", CORS_HEADERS, CORS_DEFAULT_HEADERS),
        "credentials": credentials == "true",
        "expose": checked("cors-expose-headers", CORS_EXPOSE_HEADERS, ""),
        "max_age": max_age,
    }


def cors_location(cors: dict[str, Any]) -> list[str]:
    """The location's CORS lines, as the controller's template writes them (see the module docstring)."""
    lines = ['set $cors "";', 'set $cors_origin "";']
    if cors["origins"] == ["*"]:
        lines += ['set $cors "true";', 'set $cors_origin "*";']
    elif cors["origins"]:
        pattern = "|".join(
            "(" + _go_quote_meta(origin).replace("\\*", r"[A-Za-z0-9\-]+", 1) + ")" for origin in cors["origins"]
        )
        lines.append(f'if ($http_origin ~* ({pattern})$ ) {{ set $cors "true"; set $cors_origin $http_origin; }}')
    lines.append("if ($request_method = 'OPTIONS') { set $cors \"${cors}options\"; }")
    headers = [
        "Access-Control-Allow-Origin $cors_origin",
        f"Access-Control-Allow-Methods '{cors['methods']}'",
        f"Access-Control-Allow-Headers '{cors['headers']}'",
        f"Access-Control-Max-Age {cors['max_age']}",
    ]
    if cors["credentials"]:
        headers.append("Access-Control-Allow-Credentials true")
    if cors["expose"]:
        headers.append(f"Access-Control-Expose-Headers '{cors['expose']}'")
    set_headers = " ".join(f"add_header {header} always;" for header in headers)
    lines += [
        f'if ($cors = "true") {{ {set_headers} }}',
        f'if ($cors = "trueoptions") {{ {set_headers} return 204; }}',
        *(f"proxy_hide_header {header};" for header in CORS_RESPONSE_HEADERS),
    ]
    return lines


def service_target(
    services: Sequence[dict[str, Any]], namespace: str, backend: dict[str, Any]
) -> tuple[str, int | str]:
    """(Service name, the container port it targets) of an Ingress backend, checked against the Services given."""
    ref = backend["service"]
    services = [
        s
        for s in services
        if s["metadata"]["name"] == ref["name"] and s["metadata"].get("namespace", "default") == namespace
    ]
    if not services:
        raise EmulationError(f"the Ingress routes to Service {ref['name']!r}, which is not among the Services given")
    port_ref = ref["port"]
    for port in services[0]["spec"]["ports"]:
        if port.get("name") == port_ref.get("name") or port["port"] == port_ref.get("number"):
            return ref["name"], port.get("targetPort", port["port"])
    raise EmulationError(f"Service {ref['name']} has no port {port_ref}")


def nginx_conf(
    services: Sequence[dict[str, Any]],
    ingress: dict[str, Any],
    *,
    prefix: Path,
    listen: int,
    upstream: Mapping[tuple[str, int | str], str],
    htpasswd_file: Path | None,
) -> str:
    """The whole nginx.conf: `upstream` maps (Service, target port) to the address nginx proxies to (a live
    server's `127.0.0.1:<port>`, or a real Service's `<clusterIP>:<port>`)."""
    notes = annotations(ingress)
    namespace = ingress["metadata"].get("namespace", "default")
    location_settings = [
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host $host;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Host $host;",
        "proxy_set_header X-Forwarded-Port $server_port;",
        "proxy_set_header X-Forwarded-Proto https;",
        "proxy_set_header X-Scheme https;",
        f"proxy_buffering {notes.get('proxy-buffering', 'off')};",
        f"proxy_read_timeout {notes.get('proxy-read-timeout', '60')}s;",
        f"proxy_send_timeout {notes.get('proxy-send-timeout', '60')}s;",
        f"client_max_body_size {notes.get('proxy-body-size', '1m')};",
    ]
    if auth_secret_ref(ingress) is not None:
        if htpasswd_file is None:
            raise EmulationError("the Ingress asks for basic auth: an htpasswd file is required")
        realm = notes.get("auth-realm", "")
        location_settings += [f'auth_basic "{realm}";', f"auth_basic_user_file {htpasswd_file};"]
    cors = cors_settings(notes)
    if cors is not None:
        location_settings += cors_location(cors)

    servers = []
    for rule in ingress["spec"].get("rules", []):
        host = rule.get("host")
        if host is None:
            raise EmulationError("a rule without host is not emulated")
        locations = []
        for path in rule["http"]["paths"]:
            target = service_target(services, namespace, path["backend"])
            if target not in upstream:
                raise EmulationError(f"no live endpoint for Service {target[0]} port {target[1]}")
            body = "\n".join(
                f"            {line}" for line in [*location_settings, f"proxy_pass http://{upstream[target]};"]
            )
            kind = path.get("pathType")
            if kind == "Exact":
                matchers = [f"= {path['path']}"]
            elif kind == "Prefix":
                base = path["path"].rstrip("/")
                matchers = [f"= {base}", f"{base}/"] if base else ["/"]
            else:
                raise EmulationError(f"pathType {kind!r} is not emulated")
            locations += [f"        location {m} {{\n{body}\n        }}" for m in matchers]
        if not any(loc.startswith("        location / {") for loc in locations):
            # ingress-nginx sends everything no path matches to its default backend, which answers 404.
            locations.append("        location / {\n            return 404;\n        }")
        servers.append(
            f"    server {{\n        listen 127.0.0.1:{listen};\n        server_name {host};\n"
            + "\n".join(locations)
            + "\n    }"
        )
    return f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{
    worker_connections 64;
}}
http {{
    log_format edge {LOG_FORMAT};
    access_log {prefix}/access.log edge;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server_tokens off;
    # Any other host: the controller's catch-all server and its default backend.
    server {{
        listen 127.0.0.1:{listen} default_server;
        server_name _;
        location / {{
            return 404;
        }}
    }}
{chr(10).join(servers)}
}}
"""


@dataclass
class Edge:
    """Real nginx configured as ingress-nginx applies the Ingress, on a free loopback port."""

    port: int
    host: str
    upstream: str
    access_log: Path
    process: Process

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
        import base64

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


@contextlib.contextmanager
def running_edge(
    services: Sequence[dict[str, Any]],
    ingress: dict[str, Any],
    upstream: Mapping[tuple[str, int | str], str],
    htpasswd: str | None,
) -> Iterator[Edge]:
    """nginx in front of `upstream` as the Ingress says, as an unprivileged user, with a temporary prefix; the
    htpasswd (the Secret's `auth`) where the controller writes an auth-file Secret. Stopped when the block ends."""
    nginx = require_program("nginx", NGINX_HINT, extra_path="/usr/sbin:/sbin")
    namespace = ingress["metadata"].get("namespace", "default")
    nobody = pwd.getpwnam(NGINX_USER)
    with scratch_dir("nginx-") as prefix, scratch_dir("nginx-logs-") as logs:
        os.chown(prefix, nobody.pw_uid, nobody.pw_gid)
        passwd = None
        if htpasswd is not None:
            # /etc/ingress-controller/auth/<namespace>-<ingress>.passwd in the controller.
            passwd = prefix / f"{namespace}-{ingress['metadata']['name']}.passwd"
            passwd.write_text(htpasswd)
            os.chown(passwd, nobody.pw_uid, nobody.pw_gid)
            os.chmod(passwd, 0o400)
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(
            nginx_conf(services, ingress, prefix=prefix, listen=port, upstream=upstream, htpasswd_file=passwd)
        )
        argv = [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log"), "-g", "daemon off;"]
        process = start_process("nginx", argv, logs, user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[])
        try:

            def listening() -> bool:
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
                return False

            wait_until("nginx listening", listening, timeout=15, proc=process)
            [first] = list(upstream.values())[:1]
            yield Edge(port, ingress["spec"]["rules"][0]["host"], first, prefix / "access.log", process)
        finally:
            stop_process(process)
            error_log = prefix / "error.log"
            if error_log.exists() and "[emerg]" in error_log.read_text():
                print(error_log.read_text()[-3000:])
