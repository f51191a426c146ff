"""Every setting of the Hayhooks server, once: the variable it is read from, its type, and what sets it here.

One row per setting. A row with a `key` is typed: `server_env` writes it from that key of `ServerSettings`, and
`server.advanced` refuses it naming the key. A row with `fixed` is written by the component itself. Any other row
of the server's `AppSettings` is open to `server.advanced`, checked against its kind. Adding a setting of a new
Hayhooks release is one row here (plus, when typed, its field on `ServerSettings`).

Rows that are written come first, in the order the variables are written: the order is part of the rendered
container spec, and changing it would roll every Deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .facts import A2A_PORT, MCP_PORT


class SettingKind(StrEnum):
    """How a setting of the server is written into its variable."""

    STR = "str"
    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    LIST = "list"
    """A JSON array (pydantic-settings parses list settings as JSON)."""


class Reader(StrEnum):
    """Who reads the variable in the server's process."""

    APP = "app"
    """A field of `hayhooks.settings.AppSettings` (pydantic-settings, prefix `HAYHOOKS_`, case-insensitive)."""
    LOGGER = "logger"
    """`os.getenv` in `hayhooks/server/logger.py`."""
    UVICORN = "uvicorn"
    """uvicorn's own option, read from its environment."""
    HAYSTACK = "haystack"
    """Haystack's, not the server's."""
    LOGURU = "loguru"
    """loguru's default for the log sink the server adds (`colorize`), read when the server imports loguru."""


@dataclass(frozen=True)
class Setting:
    env: str
    """The variable."""
    kind: SettingKind
    """Its type as the reader parses it."""
    key: str | None = None
    """The key of `ServerSettings` that sets it (camelCase, dotted: `cors.allowOrigins`)."""
    fixed: str | None = None
    """The value the component always writes."""
    owner: str | None = None
    """Why the component writes `fixed`, for the refusal of anyone else setting it."""
    secret: str | None = None
    """What it holds when it may also come from a Secret (`secrets.<env>`), which a credential must."""
    reader: Reader = Reader.APP

    @property
    def field(self) -> str:
        """The `AppSettings` field (`HAYHOOKS_CORS_MAX_AGE` -> `cors_max_age`)."""
        return self.env.removeprefix("HAYHOOKS_").lower()

    @property
    def set_by(self) -> str | None:
        """What sets it here, as refusals name it."""
        return f"server.{self.key}" if self.key is not None else self.owner


_PINNED = "the component (pinned against Service link variables)"

SETTINGS: tuple[Setting, ...] = (
    # Written, in this order.
    Setting("HAYHOOKS_HOST", SettingKind.STR, key="host"),
    Setting("HAYHOOKS_PORT", SettingKind.INT, key="port"),
    Setting("HAYHOOKS_MCP_PORT", SettingKind.INT, fixed=str(MCP_PORT), owner=_PINNED),
    Setting("HAYHOOKS_A2A_PORT", SettingKind.INT, fixed=str(A2A_PORT), owner=_PINNED),
    Setting("HAYHOOKS_PIPELINES_DIR", SettingKind.STR, key="pipelinesDir"),
    Setting("HAYHOOKS_SHOW_TRACEBACKS", SettingKind.BOOL, key="showTracebacks"),
    Setting("HAYHOOKS_LOG_LEVEL", SettingKind.STR, key="logLevel", reader=Reader.LOGGER),
    Setting("HAYHOOKS_LOG_FORMAT", SettingKind.STR, key="logFormat", reader=Reader.LOGGER),
    Setting("HAYHOOKS_CORS_ALLOW_ORIGINS", SettingKind.LIST, key="cors.allowOrigins"),
    Setting("HAYHOOKS_CORS_ALLOW_METHODS", SettingKind.LIST, key="cors.allowMethods"),
    Setting("HAYHOOKS_CORS_ALLOW_HEADERS", SettingKind.LIST, key="cors.allowHeaders"),
    Setting("HAYHOOKS_CORS_ALLOW_CREDENTIALS", SettingKind.BOOL, key="cors.allowCredentials"),
    Setting("HAYHOOKS_CORS_EXPOSE_HEADERS", SettingKind.LIST, key="cors.exposeHeaders"),
    Setting("HAYHOOKS_CORS_MAX_AGE", SettingKind.INT, key="cors.maxAge"),
    Setting("HAYHOOKS_STARTUP_DEPLOY_STRATEGY", SettingKind.STR, key="startupDeploy.strategy"),
    Setting("HAYHOOKS_STARTUP_DEPLOY_WORKERS", SettingKind.INT, key="startupDeploy.workers"),
    Setting("HAYHOOKS_DEPLOY_CONCURRENCY", SettingKind.STR, key="deployConcurrency"),
    Setting("HAYHOOKS_DURABLE_MODE", SettingKind.BOOL, key="durableMode"),
    Setting("HAYHOOKS_GRACEFUL_SHUTDOWN_TIMEOUT", SettingKind.INT, key="gracefulShutdownTimeout"),
    # Haystack would otherwise send usage data from every pod.
    Setting("HAYSTACK_TELEMETRY_ENABLED", SettingKind.STR, fixed="False", reader=Reader.HAYSTACK),
    Setting("HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX", SettingKind.STR, key="cors.allowOriginRegex"),
    # Written even when false: the server's own default serves /traces.
    Setting("HAYHOOKS_TRACING_ENABLED", SettingKind.BOOL, key="tracing.enabled"),
    Setting("HAYHOOKS_ROOT_PATH", SettingKind.STR, key="rootPath"),
    Setting("HAYHOOKS_DURABLE_STORE", SettingKind.STR, key="durableStore"),
    Setting(
        "HAYHOOKS_DURABLE_REDIS_URL",
        SettingKind.STR,
        key="durableRedisUrl",
        secret="the durable store's Redis URL with a password (else `server.durableRedisUrl`)",
    ),
    # A string the server splits on commas, not a JSON array.
    Setting("HAYHOOKS_STREAMING_COMPONENTS", SettingKind.STR, key="streamingComponents"),
    Setting("FORWARDED_ALLOW_IPS", SettingKind.STR, key="forwardedAllowIps", reader=Reader.UVICORN),
    Setting("LOGURU_COLORIZE", SettingKind.BOOL, key="logColors", reader=Reader.LOGURU),
    # Secrets only.
    Setting("HAYHOOKS_TRACING_TOKEN", SettingKind.STR, secret="the bearer token of the trace API (`server.tracing`)"),
    # Open to `server.advanced`: the rest of `AppSettings`, in its order.
    Setting("HAYHOOKS_ADDITIONAL_PYTHON_PATH", SettingKind.STR),
    Setting("HAYHOOKS_USE_HTTPS", SettingKind.BOOL),
    Setting("HAYHOOKS_MCP_HOST", SettingKind.STR),
    Setting("HAYHOOKS_A2A_HOST", SettingKind.STR),
    Setting("HAYHOOKS_A2A_EXTERNAL_URL", SettingKind.STR),
    Setting("HAYHOOKS_A2A_V0_3_COMPAT", SettingKind.BOOL),
    Setting("HAYHOOKS_DISABLE_SSL", SettingKind.BOOL),
    Setting("HAYHOOKS_FILES_TO_IGNORE_PATTERNS", SettingKind.LIST),
    Setting("HAYHOOKS_MONITORING_ENABLED", SettingKind.BOOL),
    Setting("HAYHOOKS_DURABLE_RELEASE_RUNNING_ON_SHUTDOWN", SettingKind.BOOL),
    Setting("HAYHOOKS_DURABLE_REDIS_KEY_PREFIX", SettingKind.STR),
    Setting("HAYHOOKS_DURABLE_REDIS_MAX_VIEWERS", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_TERMINAL_TTL_SECONDS", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_MAX_NONTERMINAL_EXECUTIONS", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_MAX_PAYLOAD_BYTES", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_MAX_PROGRESS_EVENTS", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_MAX_PROGRESS_EVENT_BYTES", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_MAX_STREAM_CHUNKS", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_MAX_STREAM_CHUNK_BYTES", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_WORKER_CONCURRENCY", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_POLL_INTERVAL_SECONDS", SettingKind.FLOAT),
    Setting("HAYHOOKS_DURABLE_MAINTENANCE_INTERVAL_SECONDS", SettingKind.FLOAT),
    Setting("HAYHOOKS_DURABLE_SHUTDOWN_GRACE_SECONDS", SettingKind.FLOAT),
    Setting("HAYHOOKS_DURABLE_LEASE_DURATION_MS", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_LEASE_COMMIT_SAFETY_MS", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_MAX_RUN_ATTEMPTS", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_MAX_APPLICATION_RETRIES", SettingKind.INT),
    Setting("HAYHOOKS_DURABLE_RETRY_BASE_DELAY_SECONDS", SettingKind.FLOAT),
    Setting("HAYHOOKS_DURABLE_RETRY_MAX_DELAY_SECONDS", SettingKind.FLOAT),
    Setting("HAYHOOKS_INTERCEPTED_LOGGERS", SettingKind.LIST),
    Setting("HAYHOOKS_ACCESS_LOG_EXCLUDED_PATH_PREFIXES", SettingKind.LIST),
    Setting("HAYHOOKS_TRACING_EXCLUDED_SPANS", SettingKind.LIST),
    Setting("HAYHOOKS_TRACING_DEFAULT_LIMIT", SettingKind.INT),
    Setting("HAYHOOKS_TRACING_MAX_LIMIT", SettingKind.INT),
    Setting("HAYHOOKS_TRACING_BUFFER_CAPACITY", SettingKind.INT),
    Setting("HAYHOOKS_TRACING_INCLUDE_HAYSTACK_SPANS", SettingKind.BOOL),
    Setting("HAYHOOKS_TRACING_SLOW_COMPONENT_MS", SettingKind.INT),
    Setting("HAYHOOKS_TRACING_INCLUDE_PAYLOAD_VALUES", SettingKind.BOOL),
    Setting("HAYHOOKS_CHAINLIT_ENABLED", SettingKind.BOOL),
    Setting("HAYHOOKS_CHAINLIT_PATH", SettingKind.STR),
    Setting("HAYHOOKS_CHAINLIT_APP", SettingKind.STR),
    Setting("HAYHOOKS_CHAINLIT_DEFAULT_MODEL", SettingKind.STR),
    Setting("HAYHOOKS_CHAINLIT_REQUEST_TIMEOUT", SettingKind.FLOAT),
    Setting("HAYHOOKS_CHAINLIT_CUSTOM_ELEMENTS_DIR", SettingKind.STR),
)

# Views of the table, for the checks that ask one question of it.
APP_SETTINGS: dict[str, SettingKind] = {s.field: s.kind for s in SETTINGS if s.reader is Reader.APP}
"""`AppSettings`' fields and kinds; tests keep them equal to the installed server's."""
LOGGER_SETTINGS: dict[str, str] = {s.env: f"server.{s.key}" for s in SETTINGS if s.reader is Reader.LOGGER}
TYPED_SETTINGS: dict[str, str] = {
    s.env: s.set_by for s in SETTINGS if s.set_by is not None and s.reader in (Reader.APP, Reader.LOGGER)
}
"""The server's variables a key of `ServerSettings` or the component sets, with what sets them."""
SECRET_SETTINGS: dict[str, str] = {s.env: s.secret for s in SETTINGS if s.secret is not None}
"""Settings a Secret may carry (`secrets.<NAME>` of either target): a token, a URL that may hold a password."""
OWNED_ENV = frozenset(s.env for s in SETTINGS if s.reader in (Reader.UVICORN, Reader.HAYSTACK, Reader.LOGURU))
"""Variables of others than the server that this package writes itself."""
SERVER_VARIABLES = tuple(s.env for s in SETTINGS if s.reader in (Reader.APP, Reader.LOGGER))
"""Every variable the server reads its settings from."""
_BY_KEY = {s.key: s for s in SETTINGS if s.key is not None}


def env_of(key: str) -> str:
    """The variable the `ServerSettings` key (`cors.allowOrigins`) is written to."""
    return _BY_KEY[key].env
