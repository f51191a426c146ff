"""Hayhooks' server settings and the environment variables it reads them from.

This module is the one place that knows the variable names and how the server parses them
(pydantic-settings, prefix `HAYHOOKS_`): lists are JSON arrays, enums lowercase, booleans
`true`/`false`, and an unset optional is left out rather than set empty.
"""

from __future__ import annotations

import ipaddress
import json
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from .model import ConfigModel
from .names import env_name

DEFAULT_PORT = 1416
MCP_PORT = 1417
A2A_PORT = 1418
WILDCARD = "*"
TELEMETRY_ENV = {"HAYSTACK_TELEMETRY_ENABLED": "False"}

# Variables whose presence breaks the server, hides a setting from this model, or that the component sets itself.
FORBIDDEN_ENV = {
    "WEB_CONCURRENCY": "above 1 it makes `hayhooks run` exit; workers are set by the component",
    "LOG": "legacy alias of HAYHOOKS_LOG_LEVEL; use server.logLevel",
    "HOME": "the component sets it to the server's writable home directory",
}

_STRANGER_ORIGINS = ("https://attacker.invalid", "http://attacker.invalid", "null")
_OWNED_ENV = {"FORWARDED_ALLOW_IPS", *TELEMETRY_ENV}
# `\Z`, not `$`: `$` also matches before a trailing newline, which would let "x\n" through.
_ORIGIN = re.compile(r"^(?P<scheme>https?)://(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?\Z")
_HOSTNAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\Z")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class LogLevel(StrEnum):
    """Loguru levels the server accepts in `HAYHOOKS_LOG_LEVEL`."""

    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    SUCCESS = "SUCCESS"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class LogFormat(StrEnum):
    """`HAYHOOKS_LOG_FORMAT`: `verbose` adds module, function and line to each record."""

    DEFAULT = "default"
    VERBOSE = "verbose"


class StartupDeployStrategy(StrEnum):
    """How pipelines load at start-up."""

    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"


class DeployConcurrency(StrEnum):
    """How run-time deploy/undeploy operations are synchronized."""

    SERIALIZED = "serialized"
    PARALLEL = "parallel"


def _origin(origin: str) -> str:
    """One origin exactly as a browser sends it in `Origin` (the server compares strings exactly)."""
    if origin == WILDCARD:
        return origin
    match = _ORIGIN.match(origin)
    if match is None:
        raise ValueError(
            f"{origin!r} is not an origin: write scheme://host[:port], e.g. "
            "https://app.example.com, with no path and no trailing slash, or '*'"
        )
    scheme, host, port = match.group("scheme", "host", "port")
    if host != host.lower():
        raise ValueError(f"{origin!r}: write the host in lowercase, as browsers send it (origins are compared exactly)")
    if not (_ipv6(host[1:-1]) if host.startswith("[") else _HOSTNAME.match(host)):
        raise ValueError(f"{origin!r}: {host!r} is neither a host name nor a bracketed IPv6 address")
    if port is not None:
        if port.startswith("0") or not 1 <= int(port) <= 65535:
            raise ValueError(f"{origin!r}: the port must be 1..65535, without leading zeros")
        if int(port) == _DEFAULT_PORTS[scheme]:
            raise ValueError(
                f"{origin!r}: browsers leave out the default port {port} of {scheme}, so this origin never "
                "matches; leave the port out"
            )
    return origin


def _ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _method(method: str) -> str:
    if method != WILDCARD and method not in _HTTP_METHODS:
        raise ValueError(
            f"{method!r} is not an HTTP method: use one of {', '.join(sorted(_HTTP_METHODS))} (uppercase) or '*'"
        )
    return method


def _header(header: str) -> str:
    if header != WILDCARD and not _TOKEN.match(header):
        raise ValueError(f"{header!r} is not an HTTP header name")
    return header


def user_env_name(name: str) -> str:
    """A variable a user may set (`server.extraEnv`, `secrets` of both targets, an env file): a valid
    name that neither the server's settings nor the component own."""
    env_name(name)
    if name in FORBIDDEN_ENV:
        raise ValueError(f"{name} is not allowed: {FORBIDDEN_ENV[name]}")
    if name.upper().startswith("HAYHOOKS_") or name in _OWNED_ENV:
        raise ValueError(
            f"{name} is a server setting owned by this model; set it through its typed key "
            "(an unknown HAYHOOKS_* variable is ignored silently by the server)"
        )
    return name


# Item types, so that an error names the entry (`cors.allowOrigins[1]`, `extraEnv.LOG`).
Origin = Annotated[str, AfterValidator(_origin)]
Method = Annotated[str, AfterValidator(_method)]
Header = Annotated[str, AfterValidator(_header)]
UserEnvName = Annotated[str, AfterValidator(user_env_name)]


class CorsSettings(ConfigModel):
    """CORS, checked by the server's Starlette middleware. The server's own defaults allow
    everything (`["*"]`), so every list is always written out, even when empty."""

    allow_origins: list[Origin] = Field(default_factory=list)
    """Origins allowed to call the API, e.g. `https://app.example.com` (scheme, host, optional
    port; no path, no trailing slash). Empty: no cross-origin browser access. `*`: any origin."""
    allow_methods: list[Method] = Field(default_factory=lambda: ["GET", "POST"])
    """HTTP methods allowed cross-origin (uppercase), or `*`."""
    allow_headers: list[Header] = Field(default_factory=lambda: ["Content-Type"])
    """Request headers allowed cross-origin, or `*`."""
    allow_credentials: bool = False
    """Allow cookies and `Authorization` on cross-origin requests. Never with origin `*`."""
    allow_origin_regex: str | None = None
    """A regular expression origins may match as well, e.g. `https://.*\\.example\\.com`.
    Unset means none (an empty string would be the empty regex, so it is refused)."""
    expose_headers: list[Header] = Field(default_factory=list)
    """Response headers the browser may read."""
    max_age: Annotated[int, Field(ge=0, le=86400)] = 600
    """Seconds a browser may cache a preflight answer (0..86400)."""

    @field_validator("allow_origins", "allow_methods", "allow_headers", "expose_headers")
    @classmethod
    def _lists(cls, values: list[str]) -> list[str]:
        return _unique(values)

    @field_validator("allow_credentials")
    @classmethod
    def _credentials(cls, credentials: bool, info: ValidationInfo) -> bool:
        if credentials and WILDCARD in info.data.get("allow_origins", ()):
            raise ValueError(
                "cannot be true with allowOrigins '*' (the server would echo any origin "
                "with credentials); list the origins instead"
            )
        return credentials

    @field_validator("allow_origin_regex")
    @classmethod
    def _regex(cls, regex: str | None, info: ValidationInfo) -> str | None:
        if regex is None:
            return None
        if not regex:
            raise ValueError("an empty regex matches every origin; leave the key out instead")
        try:
            pattern = re.compile(regex)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        if info.data.get("allow_credentials") and matches_any_origin(pattern.pattern):
            raise ValueError(
                f"{regex!r} matches any origin (e.g. {_STRANGER_ORIGINS[0]}), which with allowCredentials "
                "is the same as '*' with credentials; anchor it to your domain, e.g. https://[a-z0-9-]+\\.example\\.com"
            )
        return regex

    @property
    def any_origin(self) -> bool:
        """Any origin is allowed: '*' listed, or a regex that takes a stranger's origin."""
        return WILDCARD in self.allow_origins or (
            self.allow_origin_regex is not None and matches_any_origin(self.allow_origin_regex)
        )


class StartupDeploy(ConfigModel):
    """How the pipelines in the pipelines dir are loaded at start-up."""

    strategy: StartupDeployStrategy = StartupDeployStrategy.PARALLEL
    """`parallel` prepares pipelines concurrently then commits them in order; `sequential` loads one at a time."""
    workers: Annotated[int, Field(ge=1, le=32)] = 4
    """Threads used by the parallel strategy (1..32)."""


class ServerSettings(ConfigModel):
    """Every setting of the production guide, as the server reads it from its environment."""

    host: str = "0.0.0.0"
    """Address the server binds inside its container. `0.0.0.0` so probes and the Service reach it."""
    port: Annotated[int, Field(ge=1024, le=65535)] = DEFAULT_PORT
    """Port the server listens on (1024..65535: the container runs without capabilities)."""
    pipelines_dir: str = "/opt/hayhooks/pipelines"
    """Absolute path in the container where the pipelines are mounted read-only."""
    show_tracebacks: bool = False
    """Return Python tracebacks in error answers. Never in production."""
    log_level: LogLevel = LogLevel.INFO
    """Server log level."""
    log_format: LogFormat = LogFormat.DEFAULT
    """Log line format."""
    cors: CorsSettings = Field(default_factory=CorsSettings)
    """Cross-origin access from browsers."""
    startup_deploy: StartupDeploy = Field(default_factory=StartupDeploy)
    """How pipelines load at start-up."""
    deploy_concurrency: DeployConcurrency = DeployConcurrency.SERIALIZED
    """Synchronization of run-time deploy/undeploy (moot in durable mode, where those routes are gone)."""
    durable_mode: bool = True
    """Load the pipeline set once, read-only, and remove the code-upload routes. Required in production."""
    graceful_shutdown_timeout: Annotated[int, Field(ge=0, le=300)] = 20
    """Seconds in-flight requests may take to drain on shutdown (0..300)."""
    forwarded_allow_ips: str | None = None
    """Whose `X-Forwarded-*` headers uvicorn trusts: the proxy's addresses, or `*` when only the
    proxy can reach the server. Unset: on Kubernetes `*` when a public edge (ingress or gateway) and the
    NetworkPolicy are both on (only the edge's proxies reach the pods), else uvicorn's default `127.0.0.1`."""
    extra_env: dict[UserEnvName, str] = Field(default_factory=dict)
    """Further plain environment variables for pipelines (never secrets: use `secrets`)."""

    @field_validator("pipelines_dir")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/") or path.rstrip("/") == "":
            raise ValueError("must be an absolute path other than /, e.g. /opt/hayhooks/pipelines")
        return path.rstrip("/")

    @field_validator("extra_env")
    @classmethod
    def _extra_env(cls, env: dict[str, str]) -> dict[str, str]:
        return dict(sorted(env.items()))

    @field_validator("host")
    @classmethod
    def _host(cls, host: str) -> str:
        if host == "localhost":
            return host
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValueError(
                f"{host!r} is not an IP address: use 0.0.0.0 (all IPv4), :: (all), one address or localhost"
            ) from None
        return host

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _trusted_proxies(cls, value: str | None) -> str | None:
        if value is None:
            return None
        entries = [entry.strip() for entry in value.split(",")]
        for entry in entries:
            if entry == WILDCARD:
                continue
            try:
                ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry)
            except ValueError:
                # uvicorn keeps a malformed entry as a literal that never matches: the proxy goes untrusted.
                raise ValueError(
                    f"{entry!r} is not an IP address or network; write e.g. 10.0.0.0/8,192.168.1.5 or '*'"
                ) from None
        return ",".join(entries)


def matches_any_origin(regex: str) -> bool:
    """The middleware full-matches the regex; one that takes a stranger's origin acts as '*'."""
    pattern = re.compile(regex)
    return any(pattern.fullmatch(origin) for origin in _STRANGER_ORIGINS)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def server_env(settings: ServerSettings) -> dict[str, str]:
    """The environment variables the server parses, in a stable order, each exactly as it reads them."""
    cors = settings.cors
    env = {
        "HAYHOOKS_HOST": settings.host,
        "HAYHOOKS_PORT": str(settings.port),
        # Pinned so a Service link variable (HAYHOOKS_MCP_PORT=tcp://...) can never crash the server.
        "HAYHOOKS_MCP_PORT": str(MCP_PORT),
        "HAYHOOKS_A2A_PORT": str(A2A_PORT),
        "HAYHOOKS_PIPELINES_DIR": settings.pipelines_dir,
        "HAYHOOKS_SHOW_TRACEBACKS": _flag(settings.show_tracebacks),
        "HAYHOOKS_LOG_LEVEL": settings.log_level.value,
        "HAYHOOKS_LOG_FORMAT": settings.log_format.value,
        "HAYHOOKS_CORS_ALLOW_ORIGINS": json.dumps(cors.allow_origins),
        "HAYHOOKS_CORS_ALLOW_METHODS": json.dumps(cors.allow_methods),
        "HAYHOOKS_CORS_ALLOW_HEADERS": json.dumps(cors.allow_headers),
        "HAYHOOKS_CORS_ALLOW_CREDENTIALS": _flag(cors.allow_credentials),
        "HAYHOOKS_CORS_EXPOSE_HEADERS": json.dumps(cors.expose_headers),
        "HAYHOOKS_CORS_MAX_AGE": str(cors.max_age),
        "HAYHOOKS_STARTUP_DEPLOY_STRATEGY": settings.startup_deploy.strategy.value,
        "HAYHOOKS_STARTUP_DEPLOY_WORKERS": str(settings.startup_deploy.workers),
        "HAYHOOKS_DEPLOY_CONCURRENCY": settings.deploy_concurrency.value,
        "HAYHOOKS_DURABLE_MODE": _flag(settings.durable_mode),
        "HAYHOOKS_GRACEFUL_SHUTDOWN_TIMEOUT": str(settings.graceful_shutdown_timeout),
        **TELEMETRY_ENV,
    }
    if cors.allow_origin_regex is not None:
        env["HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX"] = cors.allow_origin_regex
    if settings.forwarded_allow_ips is not None:
        env["FORWARDED_ALLOW_IPS"] = settings.forwarded_allow_ips
    env.update(settings.extra_env)
    return env
