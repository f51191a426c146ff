"""The `server` config both targets share: every setting of the production guide, typed and validated."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from ..model import ConfigModel
from ..types import Unit, absolute_path
from .cors import CorsSettings
from .env import AdvancedValue, UserEnvName, check_advanced
from .facts import DEFAULT_PORT, WILDCARD
from .releases import VERSION_PATTERN, newest, version_key
from .version import declared_version


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


ComponentName = Annotated[str, AfterValidator(_component_name)]


class ServerSettings(ConfigModel):
    """Every setting of the production guide, as the server reads it from its environment."""

    version: Annotated[str, AfterValidator(declared_version)] | None = Field(
        default=None, json_schema_extra={"pattern": VERSION_PATTERN}
    )
    """The Hayhooks release the image runs, e.g. `2.1.0`: its settings are checked against that release's (a
    setting it lacks is refused). Unset: the official image's tag says it (`deepset/hayhooks:v2.1.0@sha256:...`);
    set it for an image whose tag does not (your own build, an Output known only at deploy time), or for a release
    newer than the newest this package knows, which is then checked against the newest's settings, with a
    warning, and takes its new variables through `advanced`."""
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
    log_colors: bool | None = None
    """ANSI colour codes in the log lines. `false` writes `LOGURU_COLORIZE=false` and leaves uvicorn's own loggers
    out of `HAYHOOKS_INTERCEPTED_LOGGERS` (their start and stop lines carry colour codes whatever the terminal; their
    warnings and errors still reach stderr, as bare messages); `true` colours every line (`LOGURU_COLORIZE=true`).
    Unset: `false` in production, where log collectors would store the codes raw; the server's own behaviour in
    development (uvicorn's lines coloured)."""
    cors: CorsSettings = Field(default_factory=CorsSettings)
    """Cross-origin access from browsers."""
    startup_deploy: StartupDeploy = Field(default_factory=StartupDeploy)
    """How pipelines load at start-up."""
    deploy_concurrency: DeployConcurrency = DeployConcurrency.SERIALIZED
    """Synchronization of run-time deploy/undeploy (moot in durable mode, where those routes are gone)."""
    durable_mode: bool = True
    """Load the pipeline set once, read-only, and remove the code-upload routes. Required in production."""
    graceful_shutdown_timeout: Annotated[int, Field(ge=0, le=300), Unit.SECONDS] = 20
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
    """Any other setting of the Hayhooks release the stack runs, by its variable, e.g.
    `HAYHOOKS_ADDITIONAL_PYTHON_PATH: /opt/shared`, `HAYHOOKS_DURABLE_MAX_RUN_ATTEMPTS: 5`: a string, number,
    `true`/`false` or list of strings, as the setting's type is. Names and types are checked against that release's
    settings (a release newer than the package knows takes any HAYHOOKS_* name, with a warning); one with a typed
    key here, or a secret, is refused."""

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
    def _advanced(cls, values: dict[str, AdvancedValue], info: ValidationInfo) -> dict[str, AdvancedValue]:
        version = info.data.get("version")
        newer = version is not None and version_key(version) > newest().key
        for name, value in values.items():
            check_advanced(name, value, newer)
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


def redis_address(url: str) -> tuple[str, int] | None:
    """The host and port a valid `server.durableRedisUrl` connects to; None for a `unix://` socket."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return None
    return parts.hostname or REDIS_HOST, parts.port or REDIS_PORT
