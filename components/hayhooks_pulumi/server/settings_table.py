"""What this package does with each setting of the Hayhooks server: the key that writes it, or the value the
component always writes, or the Secret that may carry it.

What each release reads (its variables, their types, defaults and bounds) is not written here: it is generated
from the releases' own settings classes into `releases.json` (`releases`, `make server-settings`). A row here
names a variable and who sets it; its kind, for the server's own settings (`Reader.APP`), is the release's. Any
other variable of a release's `AppSettings` is open to `server.advanced`, checked against that release's kind.
Adding a typed key for a setting is one row here (plus its field on `ServerSettings`).

Rows that are written come first, in the order the variables are written: the order is part of the rendered
container spec, and changing it would roll every Deployment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from . import releases
from .facts import A2A_PORT, MCP_PORT
from .releases import Release, SettingKind


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
    key: str | None = None
    """The key of `ServerSettings` that sets it (camelCase, dotted: `cors.allowOrigins`)."""
    fixed: str | None = None
    """The value the component always writes."""
    owner: str | None = None
    """Why the component writes `fixed`, for the refusal of anyone else setting it."""
    secret: str | None = None
    """What it holds when it may also come from a Secret (`secrets.<env>`), which a credential must."""
    reader: Reader = Reader.APP
    own_kind: SettingKind | None = None
    """Its type as a reader other than `AppSettings` parses it; the server's own settings take the release's."""
    absent: str | None = None
    """What a release without this variable does, as the variable's text: the component leaves the variable out
    for such a release when it would write this, and refuses any other value naming the release."""

    @property
    def field(self) -> str:
        """The `AppSettings` field (`HAYHOOKS_CORS_MAX_AGE` -> `cors_max_age`)."""
        return self.env.removeprefix("HAYHOOKS_").lower()

    def read_by(self, release: Release) -> bool:
        """Whether the release's server (or uvicorn, or Haystack, for theirs) reads the variable."""
        return release.reads(self.env) if self.reader in (Reader.APP, Reader.LOGGER) else True

    def kind_in(self, release: Release) -> SettingKind | None:
        """Its type in the release, None where the release lacks it: the newest release that has it decides the
        form a value takes when the release is not known."""
        if self.own_kind is not None:
            return self.own_kind
        found = release.setting(self.env) or releases.app_settings().get(self.env)
        return found.kind if found is not None else None

    @property
    def set_by(self) -> str | None:
        """What sets it here, as refusals name it."""
        return f"server.{self.key}" if self.key is not None else self.owner


_PINNED = "the component (pinned against Service link variables)"

_STR = SettingKind.STR
SETTINGS: tuple[Setting, ...] = (
    # Written, in this order.
    Setting("HAYHOOKS_HOST", key="host"),
    Setting("HAYHOOKS_PORT", key="port"),
    Setting("HAYHOOKS_MCP_PORT", fixed=str(MCP_PORT), owner=_PINNED),
    Setting("HAYHOOKS_A2A_PORT", fixed=str(A2A_PORT), owner=_PINNED),
    Setting("HAYHOOKS_PIPELINES_DIR", key="pipelinesDir"),
    Setting("HAYHOOKS_SHOW_TRACEBACKS", key="showTracebacks"),
    Setting("HAYHOOKS_LOG_LEVEL", key="logLevel", reader=Reader.LOGGER, own_kind=_STR),
    Setting("HAYHOOKS_LOG_FORMAT", key="logFormat", reader=Reader.LOGGER, own_kind=_STR),
    Setting("HAYHOOKS_CORS_ALLOW_ORIGINS", key="cors.allowOrigins"),
    Setting("HAYHOOKS_CORS_ALLOW_METHODS", key="cors.allowMethods"),
    Setting("HAYHOOKS_CORS_ALLOW_HEADERS", key="cors.allowHeaders"),
    Setting("HAYHOOKS_CORS_ALLOW_CREDENTIALS", key="cors.allowCredentials"),
    Setting("HAYHOOKS_CORS_EXPOSE_HEADERS", key="cors.exposeHeaders"),
    Setting("HAYHOOKS_CORS_MAX_AGE", key="cors.maxAge"),
    Setting("HAYHOOKS_STARTUP_DEPLOY_STRATEGY", key="startupDeploy.strategy"),
    Setting("HAYHOOKS_STARTUP_DEPLOY_WORKERS", key="startupDeploy.workers"),
    Setting("HAYHOOKS_DEPLOY_CONCURRENCY", key="deployConcurrency"),
    # A release without durable mode (1.x) loads pipelines the old way: what `false` means.
    Setting("HAYHOOKS_DURABLE_MODE", key="durableMode", absent="false"),
    Setting("HAYHOOKS_GRACEFUL_SHUTDOWN_TIMEOUT", key="gracefulShutdownTimeout"),
    # Haystack would otherwise send usage data from every pod.
    Setting("HAYSTACK_TELEMETRY_ENABLED", fixed="False", reader=Reader.HAYSTACK, own_kind=_STR),
    Setting("HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX", key="cors.allowOriginRegex"),
    # Written even when false: the server's own default serves /traces. A release without it has no trace API.
    Setting("HAYHOOKS_TRACING_ENABLED", key="tracing.enabled", absent="false"),
    Setting("HAYHOOKS_ROOT_PATH", key="rootPath"),
    Setting("HAYHOOKS_DURABLE_STORE", key="durableStore"),
    Setting(
        "HAYHOOKS_DURABLE_REDIS_URL",
        key="durableRedisUrl",
        secret="the durable store's Redis URL with a password (else `server.durableRedisUrl`)",
    ),
    # A string the server splits on commas, not a JSON array.
    Setting("HAYHOOKS_STREAMING_COMPONENTS", key="streamingComponents"),
    Setting("FORWARDED_ALLOW_IPS", key="forwardedAllowIps", reader=Reader.UVICORN, own_kind=_STR),
    Setting("LOGURU_COLORIZE", key="logColors", reader=Reader.LOGURU, own_kind=SettingKind.BOOL),
    # Secrets only.
    Setting("HAYHOOKS_TRACING_TOKEN", secret="the bearer token of the trace API (`server.tracing`)"),
    # Every other variable of a release's `AppSettings` is open to `server.advanced` (`releases`).
)

# Views of the table, for the checks that ask one question of it.
LOGGER_SETTINGS: dict[str, str] = {s.env: f"server.{s.key}" for s in SETTINGS if s.reader is Reader.LOGGER}
TYPED_SETTINGS: dict[str, str] = {
    s.env: s.set_by for s in SETTINGS if s.set_by is not None and s.reader in (Reader.APP, Reader.LOGGER)
}
"""The server's variables a key of `ServerSettings` or the component sets, with what sets them."""
SECRET_SETTINGS: dict[str, str] = {s.env: s.secret for s in SETTINGS if s.secret is not None}
"""Settings a Secret may carry (`secrets.<NAME>` of either target): a token, a URL that may hold a password."""
OWNED_ENV = frozenset(s.env for s in SETTINGS if s.reader in (Reader.UVICORN, Reader.HAYSTACK, Reader.LOGURU))
"""Variables of others than the server that this package writes itself."""
_BY_KEY = {s.key: s for s in SETTINGS if s.key is not None}
_BY_ENV = {s.env: s for s in SETTINGS}


def env_of(key: str) -> str:
    """The variable the `ServerSettings` key (`cors.allowOrigins`) is written to."""
    return _BY_KEY[key].env


def row(env: str) -> Setting | None:
    """The row of a variable this package sets, None for one open to `server.advanced` (or none at all)."""
    return _BY_ENV.get(env)
