"""Hayhooks' server settings and the environment variables it reads them from.

This module is the one place that knows the variable names and how the server parses them
(pydantic-settings, prefix `HAYHOOKS_`): lists are JSON arrays, enums lowercase, booleans
`true`/`false`, and an unset optional is left out rather than set empty.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator

from .model import ConfigModel
from .types import HTTP_TOKEN, absolute_path, env_name

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


class SettingKind(StrEnum):
    """How a setting of the server is written into its variable."""

    STR = "str"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    LIST = "list"
    """A JSON array (pydantic-settings parses list settings as JSON)."""


# The fields of Hayhooks' `AppSettings` (variable `HAYHOOKS_<FIELD>`), for the pinned version: generated from
# `hayhooks.settings.AppSettings.model_fields`; tests/test_settings.py keeps it equal to the installed server's.
# A constant, not an import: hayhooks is the image's, never a dependency of this package.
HAYHOOKS_VERSION = "2.1.0"
APP_SETTINGS: dict[str, SettingKind] = {
    "root_path": SettingKind.STR,
    "pipelines_dir": SettingKind.STR,
    "additional_python_path": SettingKind.STR,
    "host": SettingKind.STR,
    "port": SettingKind.INT,
    "graceful_shutdown_timeout": SettingKind.INT,
    "use_https": SettingKind.BOOL,
    "mcp_host": SettingKind.STR,
    "mcp_port": SettingKind.INT,
    "a2a_host": SettingKind.STR,
    "a2a_port": SettingKind.INT,
    "a2a_external_url": SettingKind.STR,
    "a2a_v0_3_compat": SettingKind.BOOL,
    "disable_ssl": SettingKind.BOOL,
    "files_to_ignore_patterns": SettingKind.LIST,
    "show_tracebacks": SettingKind.BOOL,
    "streaming_components": SettingKind.STR,
    "deploy_concurrency": SettingKind.STR,
    "startup_deploy_strategy": SettingKind.STR,
    "startup_deploy_workers": SettingKind.INT,
    "durable_mode": SettingKind.BOOL,
    "monitoring_enabled": SettingKind.BOOL,
    "durable_release_running_on_shutdown": SettingKind.BOOL,
    "durable_store": SettingKind.STR,
    "durable_redis_url": SettingKind.STR,
    "durable_redis_key_prefix": SettingKind.STR,
    "durable_redis_max_viewers": SettingKind.INT,
    "durable_terminal_ttl_seconds": SettingKind.INT,
    "durable_max_nonterminal_executions": SettingKind.INT,
    "durable_max_payload_bytes": SettingKind.INT,
    "durable_max_progress_events": SettingKind.INT,
    "durable_max_progress_event_bytes": SettingKind.INT,
    "durable_max_stream_chunks": SettingKind.INT,
    "durable_max_stream_chunk_bytes": SettingKind.INT,
    "durable_worker_concurrency": SettingKind.INT,
    "durable_poll_interval_seconds": SettingKind.FLOAT,
    "durable_maintenance_interval_seconds": SettingKind.FLOAT,
    "durable_shutdown_grace_seconds": SettingKind.FLOAT,
    "durable_lease_duration_ms": SettingKind.INT,
    "durable_lease_commit_safety_ms": SettingKind.INT,
    "durable_max_run_attempts": SettingKind.INT,
    "durable_max_application_retries": SettingKind.INT,
    "durable_retry_base_delay_seconds": SettingKind.FLOAT,
    "durable_retry_max_delay_seconds": SettingKind.FLOAT,
    "cors_allow_origins": SettingKind.LIST,
    "cors_allow_methods": SettingKind.LIST,
    "cors_allow_headers": SettingKind.LIST,
    "cors_allow_credentials": SettingKind.BOOL,
    "cors_allow_origin_regex": SettingKind.STR,
    "cors_expose_headers": SettingKind.LIST,
    "cors_max_age": SettingKind.INT,
    "intercepted_loggers": SettingKind.LIST,
    "access_log_excluded_path_prefixes": SettingKind.LIST,
    "tracing_excluded_spans": SettingKind.LIST,
    "tracing_enabled": SettingKind.BOOL,
    "tracing_token": SettingKind.STR,
    "tracing_default_limit": SettingKind.INT,
    "tracing_max_limit": SettingKind.INT,
    "tracing_buffer_capacity": SettingKind.INT,
    "tracing_include_haystack_spans": SettingKind.BOOL,
    "tracing_slow_component_ms": SettingKind.INT,
    "tracing_include_payload_values": SettingKind.BOOL,
    "chainlit_enabled": SettingKind.BOOL,
    "chainlit_path": SettingKind.STR,
    "chainlit_app": SettingKind.STR,
    "chainlit_default_model": SettingKind.STR,
    "chainlit_request_timeout": SettingKind.FLOAT,
    "chainlit_custom_elements_dir": SettingKind.STR,
}
# Variables the server's logger reads itself (`os.getenv` in hayhooks/server/logger.py), not AppSettings.
LOGGER_SETTINGS = {"HAYHOOKS_LOG_LEVEL": "server.logLevel", "HAYHOOKS_LOG_FORMAT": "server.logFormat"}
# The variables a typed key of `ServerSettings` (or the component) sets, with that key: `advanced` may not set them.
TYPED_SETTINGS = {
    **LOGGER_SETTINGS,
    "HAYHOOKS_HOST": "server.host",
    "HAYHOOKS_PORT": "server.port",
    "HAYHOOKS_MCP_PORT": "the component (pinned against Service link variables)",
    "HAYHOOKS_A2A_PORT": "the component (pinned against Service link variables)",
    "HAYHOOKS_PIPELINES_DIR": "server.pipelinesDir",
    "HAYHOOKS_SHOW_TRACEBACKS": "server.showTracebacks",
    "HAYHOOKS_CORS_ALLOW_ORIGINS": "server.cors.allowOrigins",
    "HAYHOOKS_CORS_ALLOW_METHODS": "server.cors.allowMethods",
    "HAYHOOKS_CORS_ALLOW_HEADERS": "server.cors.allowHeaders",
    "HAYHOOKS_CORS_ALLOW_CREDENTIALS": "server.cors.allowCredentials",
    "HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX": "server.cors.allowOriginRegex",
    "HAYHOOKS_CORS_EXPOSE_HEADERS": "server.cors.exposeHeaders",
    "HAYHOOKS_CORS_MAX_AGE": "server.cors.maxAge",
    "HAYHOOKS_STARTUP_DEPLOY_STRATEGY": "server.startupDeploy.strategy",
    "HAYHOOKS_STARTUP_DEPLOY_WORKERS": "server.startupDeploy.workers",
    "HAYHOOKS_DEPLOY_CONCURRENCY": "server.deployConcurrency",
    "HAYHOOKS_DURABLE_MODE": "server.durableMode",
    "HAYHOOKS_GRACEFUL_SHUTDOWN_TIMEOUT": "server.gracefulShutdownTimeout",
    "HAYHOOKS_ROOT_PATH": "server.rootPath",
    "HAYHOOKS_TRACING_ENABLED": "server.tracing.enabled",
    "HAYHOOKS_DURABLE_STORE": "server.durableStore",
    "HAYHOOKS_DURABLE_REDIS_URL": "server.durableRedisUrl",
    "HAYHOOKS_STREAMING_COMPONENTS": "server.streamingComponents",
}
# Settings only a Secret may carry (`secrets.<NAME>` of either target): a token, and a URL that may hold a password.
REDIS_URL_SECRET = "HAYHOOKS_DURABLE_REDIS_URL"
SECRET_SETTINGS = {
    "HAYHOOKS_TRACING_TOKEN": "the bearer token of the trace API (`server.tracing`)",
    REDIS_URL_SECRET: "the durable store's Redis URL with a password (else `server.durableRedisUrl`)",
}

# Names that hold a credential by convention, case-insensitive: `*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*_SECRET_KEY`,
# `*_ACCESS_KEY`, `*_PRIVATE_KEY`, `*_CREDENTIALS`, `*_PASSPHRASE`, `*PASSWORD*` (each also alone, e.g. `API_KEY`).
# Production refuses them as plain values (`server.extraEnv`): they belong in `secrets`.
CREDENTIAL_NAME = re.compile(
    r"(?:\A|_)(?:API_?KEY|TOKEN|SECRET|(?:SECRET|ACCESS|PRIVATE)_KEY|CREDENTIALS?|PASSPHRASE)\Z|PASSW(?:OR)?D",
    re.IGNORECASE,
)
# Names the pattern matches that hold no credential by their owner's convention (a file's path).
NOT_CREDENTIALS = frozenset({"GOOGLE_APPLICATION_CREDENTIALS"})


def is_credential_name(name: str) -> bool:
    return bool(CREDENTIAL_NAME.search(name)) and name.upper() not in NOT_CREDENTIALS


_STRANGER_ORIGINS = ("https://attacker.invalid", "http://attacker.invalid", "null")
_OWNED_ENV = {"FORWARDED_ALLOW_IPS", *TELEMETRY_ENV}
# `\Z`, not `$`: `$` also matches before a trailing newline, which would let "x\n" through.
_ORIGIN = re.compile(r"^(?P<scheme>https?)://(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?\Z")
_HOSTNAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\Z")
_DEFAULT_PORTS = {"http": 80, "https": 443}
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
    if header != WILDCARD and not HTTP_TOKEN.match(header):
        raise ValueError(f"{header!r} is not an HTTP header name")
    return header


def user_env_name(name: str) -> str:
    """A variable a user may set (`server.extraEnv`, `secrets` of both targets, an env file): a valid
    name that neither the server's settings nor the component own. A HAYHOOKS_* name is refused naming where it
    belongs: its typed key, `secrets`, `server.advanced`, or, when the server has no such setting, the nearest one
    (the server would ignore a typo silently)."""
    env_name(name)
    if name in FORBIDDEN_ENV:
        raise ValueError(f"{name} is not allowed: {FORBIDDEN_ENV[name]}")
    if name in _OWNED_ENV:
        raise ValueError(f"{name} is a server setting owned by this model; set it through its typed key")
    if name.upper().startswith("HAYHOOKS_"):
        # The server's settings are case-insensitive: `hayhooks_port` is HAYHOOKS_PORT.
        refusal = _setting_refusal(name.upper())
        raise ValueError(refusal or f"{name} is a setting of the server: set it in server.advanced (checks its type)")
    return name


# Item types, so that an error names the entry (`cors.allowOrigins[1]`, `extraEnv.LOG`).
Origin = Annotated[str, AfterValidator(_origin)]
Method = Annotated[str, AfterValidator(_method)]
Header = Annotated[str, AfterValidator(_header)]
UserEnvName = Annotated[str, AfterValidator(user_env_name)]


def secret_env_name(name: str) -> str:
    """A secret variable: one a user may set, or a server setting that only a Secret may carry."""
    return name if name in SECRET_SETTINGS else user_env_name(name)


SecretEnvName = Annotated[str, AfterValidator(secret_env_name)]


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


class TracingSettings(ConfigModel):
    """Hayhooks' trace API (`/traces`: spans of recent pipeline runs, kept in the server's memory). The server turns
    it on by default; here it is off unless asked for: the edge never routes `/traces`, and off loopback the server
    answers it only with a token, which comes from `secrets.HAYHOOKS_TRACING_TOKEN` (sent as
    `Authorization: Bearer <token>`), so without one it would cost memory and serve nobody."""

    enabled: bool = False
    """Serve `/traces` and record spans for it."""


class DurableStore(StrEnum):
    """Where durable pipelines (wrappers with durable runs) keep their executions."""

    REDIS = "redis"
    """Shared by every replica (`durableRedisUrl`); the server's default."""
    MEMORY = "memory"
    """In the process: lost on restart and not shared between replicas. For development."""


_ROOT_PATH = re.compile(r"^(/[A-Za-z0-9._~-]+)+\Z")
_REDIS_SCHEMES = ("redis", "rediss", "unix")
# What redis-py connects to where a `redis://` or `rediss://` URL names no host or port.
REDIS_HOST = "localhost"
REDIS_PORT = 6379
ALL_COMPONENTS = "all"


def _component_name(name: str) -> str:
    # The server splits HAYHOOKS_STREAMING_COMPONENTS on commas and strips each name.
    if not name or "," in name or name != name.strip():
        raise ValueError(f"{name!r} is not a component name (no commas or surrounding spaces)")
    return name


def _as_variable(value: object) -> object:
    """A YAML scalar or list as the variable's text: true/false, a number, a JSON array (pydantic-settings' forms)."""
    if isinstance(value, bool):
        return _flag(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return json.dumps(value)
    return value


ComponentName = Annotated[str, AfterValidator(_component_name)]
# A string in the Pulumi schema (one type per key); stack files and Python may give a bool, number or list too.
AdvancedValue = Annotated[str, BeforeValidator(_as_variable)]


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
    NetworkPolicy are both on and `networkPolicy.allowFrom` is empty (only the edge's proxies reach the pods), else
    uvicorn's default `127.0.0.1`."""
    root_path: str | None = None
    """The path prefix clients reach the server under when a proxy strips it, e.g. `/hayhooks` (FastAPI's
    `root_path`: the docs and OpenAPI links carry it); unset: none."""
    tracing: TracingSettings = Field(default_factory=TracingSettings)
    """The trace API, off by default."""
    durable_store: DurableStore | None = None
    """Store of durable pipelines' executions: `redis` or `memory`; unset: the server's default (`redis`).
    Request-bound pipelines need none."""
    durable_redis_url: str | None = None
    """The Redis of the durable store, e.g. `redis://redis.data.svc:6379/0`; unset: the server's
    `redis://localhost:6379/0`. A URL with a password belongs in `secrets.HAYHOOKS_DURABLE_REDIS_URL` instead. On
    Kubernetes the NetworkPolicy's egress opens to it (see `networkPolicy.egress`)."""
    streaming_components: list[ComponentName] | None = None
    """Components that stream their output in OpenAI-compatible answers, by name; `[all]`: every one able to;
    unset: the last one able to."""
    extra_env: dict[UserEnvName, str] = Field(default_factory=dict)
    """Further plain environment variables for pipelines, never secrets (use `secrets`): production refuses a name
    that holds a credential by convention (`*_API_KEY`, `*_TOKEN`, `*_SECRET`, `*PASSWORD*`, `*_CREDENTIALS`,
    `*_PRIVATE_KEY`, ...)."""
    advanced: dict[str, AdvancedValue] = Field(default_factory=dict)
    """Any other setting of Hayhooks 2.1.0 by its variable, e.g. `HAYHOOKS_ADDITIONAL_PYTHON_PATH: /opt/shared`,
    `HAYHOOKS_DURABLE_MAX_RUN_ATTEMPTS: 5`: a string, number, `true`/`false` or list of strings, as the
    setting's type is. Names and types are checked against the server's settings; one with a typed key here, or
    a secret, is refused."""

    @field_validator("pipelines_dir")
    @classmethod
    def _absolute(cls, path: str) -> str:
        return absolute_path(path, "/opt/hayhooks/pipelines")

    @field_validator("extra_env")
    @classmethod
    def _extra_env(cls, env: dict[str, str]) -> dict[str, str]:
        return dict(sorted(env.items()))

    @field_validator("root_path")
    @classmethod
    def _root_path(cls, path: str | None) -> str | None:
        if path is not None and not _ROOT_PATH.match(path):
            raise ValueError(f"{path!r} is not a path prefix: write e.g. /hayhooks (a leading slash, none at the end)")
        return path

    @field_validator("durable_redis_url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        # A password is refused first, and no message repeats what stands before the host: it may be one.
        if parts.password is not None or "@" in parts.netloc:
            raise ValueError(
                "holds credentials, which would be plain text in the pod spec and the stack outputs; "
                "set the URL as a secret, secrets.HAYHOOKS_DURABLE_REDIS_URL, and leave this unset"
            )
        shown = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        if parts.scheme not in _REDIS_SCHEMES or not (parts.netloc or parts.path):
            raise ValueError(f"{shown!r} is not a Redis URL: write e.g. redis://redis.data.svc:6379/0 (or rediss://)")
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError(f"{shown!r}: the port must be a number 1..65535")
        return url

    @field_validator("streaming_components")
    @classmethod
    def _components(cls, names: list[str] | None) -> list[str] | None:
        if names is not None and len(set(names)) != len(names):
            raise ValueError("lists a component twice")
        if names is not None and ALL_COMPONENTS in names and len(names) > 1:
            raise ValueError(f"{ALL_COMPONENTS!r} stands alone: it streams every component able to")
        return names

    @field_validator("advanced")
    @classmethod
    def _advanced(cls, values: dict[str, AdvancedValue]) -> dict[str, AdvancedValue]:
        for name, value in values.items():
            _check_advanced(name, value)
        return dict(sorted(values.items()))

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


def _setting_refusal(name: str) -> str | None:
    """Why the server's variable `name` may not be set as a plain variable (`server.advanced`, `server.extraEnv`):
    a secret, a setting with a typed key, or no setting at all (a typo: the server ignores it silently, so it is
    refused, with the nearest name). None: a setting of the server's without a typed key."""
    if name in SECRET_SETTINGS:
        return f"{name} is {SECRET_SETTINGS[name]}: set it in secrets.{name}, never as plain text"
    if name in TYPED_SETTINGS:
        return f"{name} is set by {TYPED_SETTINGS[name]}; use that key"
    if not name.startswith("HAYHOOKS_") or name.removeprefix("HAYHOOKS_").lower() not in APP_SETTINGS:
        # Compared without the prefix every candidate shares, which would make any HAYHOOKS_X look close.
        known = {variable.removeprefix("HAYHOOKS_"): variable for variable in _server_variables()}
        close = difflib.get_close_matches(name.upper().removeprefix("HAYHOOKS_"), list(known), n=1)
        hint = f"; did you mean {known[close[0]]}?" if close else ""
        typo = " (the server ignores it silently, so a typo is refused)" if name.startswith("HAYHOOKS_") else ""
        return f"{name} is not a setting of Hayhooks {HAYHOOKS_VERSION}{typo}{hint}"
    return None


def _server_variables() -> list[str]:
    """Every variable the server reads its settings from."""
    return [*(f"HAYHOOKS_{field.upper()}" for field in APP_SETTINGS), *LOGGER_SETTINGS]


def _check_advanced(name: str, value: AdvancedValue) -> None:
    refusal = _setting_refusal(name)
    if refusal is not None:
        raise ValueError(refusal)
    kind = APP_SETTINGS[name.removeprefix("HAYHOOKS_").lower()]
    if not _reads_as(kind, value):
        raise ValueError(f"{name} takes {_KIND_FORMS[kind]}, not {value!r}")


_KIND_FORMS = {
    SettingKind.STR: "a string",
    SettingKind.BOOL: "true or false",
    SettingKind.INT: "an integer",
    SettingKind.FLOAT: "a number",
    SettingKind.LIST: "a list of strings",
}


def _reads_as(kind: SettingKind, text: str) -> bool:
    """Whether the server's settings parse `text` as `kind` (bounds are the server's to check)."""
    if kind is SettingKind.BOOL:
        return text in ("true", "false")
    if kind is SettingKind.INT:
        return re.fullmatch(r"-?[0-9]+", text) is not None
    if kind is SettingKind.FLOAT:
        return re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text) is not None
    if kind is SettingKind.LIST:
        try:
            parsed = json.loads(text)
        except ValueError:
            return False
        return isinstance(parsed, list) and all(isinstance(item, str) for item in parsed)
    return True


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
    # Written out always: the server's own default serves /traces.
    env["HAYHOOKS_TRACING_ENABLED"] = _flag(settings.tracing.enabled)
    optional = {
        "HAYHOOKS_ROOT_PATH": settings.root_path,
        "HAYHOOKS_DURABLE_STORE": None if settings.durable_store is None else settings.durable_store.value,
        "HAYHOOKS_DURABLE_REDIS_URL": settings.durable_redis_url,
        "HAYHOOKS_STREAMING_COMPONENTS": _streaming(settings.streaming_components),
    }
    env.update({name: value for name, value in optional.items() if value is not None})
    if settings.forwarded_allow_ips is not None:
        env["FORWARDED_ALLOW_IPS"] = settings.forwarded_allow_ips
    env.update(settings.advanced)
    env.update(settings.extra_env)
    return env


def redis_address(url: str) -> tuple[str, int] | None:
    """The host and port a valid `server.durableRedisUrl` connects to; None for a `unix://` socket."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return None
    return parts.hostname or REDIS_HOST, parts.port or REDIS_PORT


def _streaming(components: list[str] | None) -> str | None:
    """The server splits the variable on commas (not JSON); `all` alone streams every component."""
    return None if components is None else ",".join(components)
