"""ServerSettings -> server_env -> what Hayhooks 2.1.0 itself parses, and every refusal with its config path.

The oracle is the server's own code: `hayhooks.settings.AppSettings` (pydantic-settings, prefix
`HAYHOOKS_`), loguru for the log level, and haystack's telemetry switch. Nothing here re-implements
how the server reads its environment.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import ipaddress
import json
import os
import re
import subprocess
import sys
import textwrap
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import h11._abnf
import loguru
import pytest
import yaml
from hayhooks_pulumi.errors import ConfigError, Problem, from_validation_error
from hayhooks_pulumi.server import releases
from hayhooks_pulumi.server.cors import CorsSettings
from hayhooks_pulumi.server.env import FORBIDDEN_ENV, server_env
from hayhooks_pulumi.server.models import DeployConcurrency, LogFormat, LogLevel, ServerSettings, StartupDeployStrategy
from hayhooks_pulumi.server.settings_table import (
    LOGGER_SETTINGS,
    SECRET_SETTINGS,
    TYPED_SETTINGS,
    SettingKind,
)
from helpers.bad_inputs import ADVANCED_REFUSALS, REFUSALS
from helpers.paths import REPO
from helpers.render import render
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from pydantic import ValidationError

# Variables that change what the server reads besides HAYHOOKS_*: the legacy log level, uvicorn's workers.
_FOREIGN = ("LOG", "WEB_CONCURRENCY")


# --------------------------------------------------------------------------------------------
# The server's parser, isolated from the ambient environment and from any .env file
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hayhooks_settings(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """`hayhooks.settings`, imported from an empty directory: at import it loads a `.env` found from the cwd."""
    cwd = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("no-dotenv"))
    try:
        return importlib.import_module("hayhooks.settings")
    finally:
        os.chdir(cwd)


def _server_owned(name: str) -> bool:
    return name.upper().startswith("HAYHOOKS_") or name in _FOREIGN


@pytest.fixture
def parse_env(hayhooks_settings: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path):
    """Build the server's AppSettings from exactly `env` (nothing else named HAYHOOKS_* is set)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if _server_owned(name):
            monkeypatch.delenv(name)

    def parse(env: dict[str, str]) -> Any:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return hayhooks_settings.AppSettings()

    return parse


@contextmanager
def _only_env(env: dict[str, str]) -> Iterator[None]:
    """The same isolation for hypothesis tests, which cannot use function-scoped fixtures."""
    with mock.patch.dict(os.environ):
        for name in list(os.environ):
            if _server_owned(name):
                del os.environ[name]
        os.environ.update(env)
        yield


# --------------------------------------------------------------------------------------------
# 1. Round trip through the server's own parser
# --------------------------------------------------------------------------------------------

PRODUCTION = {
    "port": 8080,
    "pipelinesDir": "/srv/hayhooks/pipelines/",
    "showTracebacks": False,
    "logLevel": "WARNING",
    "logFormat": "verbose",
    "cors": {
        "allowOrigins": ["https://app.example.com", "https://admin.example.com", "http://localhost:3000"],
        "allowMethods": ["GET", "POST", "OPTIONS"],
        "allowHeaders": ["Content-Type", "Authorization", "X-Request-Id"],
        "allowCredentials": True,
        "allowOriginRegex": r"https://[a-z0-9-]+\.preview\.example\.com",
        "exposeHeaders": ["X-Request-Id", "X-Trace-Id"],
        "maxAge": 3600,
    },
    "startupDeploy": {"strategy": "parallel", "workers": 32},
    "deployConcurrency": "parallel",
    "durableMode": True,
    "gracefulShutdownTimeout": 300,
    "forwardedAllowIps": "10.0.0.0/8",
    "extraEnv": {"HF_HOME": "/cache/hf", "OPENAI_BASE_URL": "https://llm.internal"},
}
DEVELOPMENT = {
    "host": "127.0.0.1",
    "showTracebacks": True,
    "logLevel": "DEBUG",
    "logFormat": "default",
    "cors": {"allowOrigins": ["*"], "allowMethods": ["*"], "allowHeaders": ["*"], "maxAge": 0},
    "startupDeploy": {"strategy": "sequential", "workers": 1},
    "deployConcurrency": "serialized",
    "durableMode": False,
    "gracefulShutdownTimeout": 0,
}
LOCKED_DOWN = {
    # No cross-origin access at all: the server's own default would be ["*"] for each list.
    "cors": {"allowOrigins": [], "allowMethods": [], "allowHeaders": [], "exposeHeaders": []},
    "logLevel": "ERROR",
}
REGEX_ONLY = {
    "port": 65535,
    "logLevel": "TRACE",
    "cors": {
        "allowOrigins": ["http://[::1]:8080", "http://127.0.0.1:5173", "https://example.com:8443"],
        "allowOriginRegex": r"https://(www|app)\.example\.org",
        "allowCredentials": True,
        "allowMethods": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    },
    "startupDeploy": {"strategy": "parallel", "workers": 7},
    "gracefulShutdownTimeout": 45,
}
OPERATIONS = {
    "rootPath": "/assistants/hayhooks",
    "tracing": {"enabled": True},
    "durableStore": "redis",
    "durableRedisUrl": "rediss://redis.data.svc.cluster.local:6380/2",
    "streamingComponents": ["planner_llm", "answer llm"],
    "advanced": {
        "HAYHOOKS_ADDITIONAL_PYTHON_PATH": "/opt/shared",
        "HAYHOOKS_DURABLE_MAX_RUN_ATTEMPTS": 5,
        "HAYHOOKS_DURABLE_POLL_INTERVAL_SECONDS": 2.5,
        "HAYHOOKS_MONITORING_ENABLED": False,
        "HAYHOOKS_FILES_TO_IGNORE_PATTERNS": ["*.tmp", "notes, drafts/*"],
    },
}
CONFIGS = {
    "production": PRODUCTION,
    "operations": OPERATIONS,
    "development": DEVELOPMENT,
    "locked-down": LOCKED_DOWN,
    "regex-only": REGEX_ONLY,
    "defaults": {},
}


def _assert_server_reads(app: Any, settings: ServerSettings, env: dict[str, str]) -> None:
    cors = settings.cors
    assert app.host == settings.host
    assert app.port == settings.port
    assert app.mcp_port == 1417
    assert app.a2a_port == 1418
    assert app.pipelines_dir == settings.pipelines_dir
    assert app.show_tracebacks is settings.show_tracebacks
    assert app.cors_allow_origins == cors.allow_origins
    assert app.cors_allow_methods == cors.allow_methods
    assert app.cors_allow_headers == cors.allow_headers
    assert app.cors_allow_credentials is cors.allow_credentials
    assert app.cors_allow_origin_regex == cors.allow_origin_regex
    assert app.cors_expose_headers == cors.expose_headers
    assert app.cors_max_age == cors.max_age
    assert app.startup_deploy_strategy.value == settings.startup_deploy.strategy.value
    assert app.startup_deploy_workers == settings.startup_deploy.workers
    assert app.deploy_concurrency.value == settings.deploy_concurrency.value
    assert app.durable_mode is settings.durable_mode
    assert app.graceful_shutdown_timeout == settings.graceful_shutdown_timeout
    assert app.root_path == (settings.root_path or "")
    assert app.tracing_enabled is settings.tracing.enabled
    assert app.durable_store == (settings.durable_store or "redis")
    assert app.durable_redis_url == (settings.durable_redis_url or "redis://localhost:6379/0")
    # The server logs at the level and in the format asked (its logger reads these at import).
    level = env["HAYHOOKS_LOG_LEVEL"]
    assert loguru.logger.level(level.upper()).name == settings.log_level.value
    assert (env["HAYHOOKS_LOG_FORMAT"].lower() == "verbose") is (settings.log_format is LogFormat.VERBOSE)


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_server_parses_every_setting_back(config: dict, parse_env) -> None:
    settings = ServerSettings.model_validate(config)
    env = server_env(settings)
    _assert_server_reads(parse_env(env), settings, env)


def test_production_config_values_reach_the_server_as_written(parse_env) -> None:
    # Against the literal config, not the model: a model that dropped or reordered entries fails here.
    app = parse_env(server_env(ServerSettings.model_validate(PRODUCTION)))
    cors = PRODUCTION["cors"]
    assert app.cors_allow_origins == cors["allowOrigins"]
    assert app.cors_allow_methods == cors["allowMethods"]
    assert app.cors_allow_headers == cors["allowHeaders"]
    assert app.cors_expose_headers == cors["exposeHeaders"]
    assert app.cors_allow_origin_regex == cors["allowOriginRegex"]
    assert app.cors_allow_credentials is True
    assert app.cors_max_age == 3600
    assert app.startup_deploy_strategy.value == "parallel"
    assert app.startup_deploy_workers == 32
    assert app.deploy_concurrency.value == "parallel"
    assert app.durable_mode is True
    assert app.graceful_shutdown_timeout == 300
    assert app.pipelines_dir == "/srv/hayhooks/pipelines"  # the trailing slash is dropped
    assert app.port == 8080


def test_development_config_values_reach_the_server_as_written(parse_env) -> None:
    app = parse_env(server_env(ServerSettings.model_validate(DEVELOPMENT)))
    assert app.host == "127.0.0.1"
    assert app.cors_allow_origins == app.cors_allow_methods == app.cors_allow_headers == ["*"]
    assert app.cors_max_age == 0
    assert app.show_tracebacks is True
    assert app.startup_deploy_strategy.value == "sequential"
    assert app.startup_deploy_workers == 1
    assert app.deploy_concurrency.value == "serialized"
    assert app.durable_mode is False
    assert app.graceful_shutdown_timeout == 0


def test_server_defaults_that_are_wrong_for_production_are_overridden(parse_env, hayhooks_settings) -> None:
    untouched = parse_env({})
    assert untouched.host == "localhost"  # the trap: unreachable from probes and the Service
    assert untouched.cors_allow_origins == ["*"]
    app = parse_env(server_env(ServerSettings()))
    assert app.host == "0.0.0.0"
    assert app.cors_allow_origins == []
    assert app.cors_allow_methods == ["GET", "POST"]
    assert app.cors_allow_headers == ["Content-Type"]
    assert app.durable_mode is True


def test_an_empty_cors_list_is_written_out_not_left_to_the_server_default(parse_env) -> None:
    env = server_env(ServerSettings.model_validate(LOCKED_DOWN))
    for name in ("ORIGINS", "METHODS", "HEADERS"):
        assert env[f"HAYHOOKS_CORS_ALLOW_{name}"] == "[]"
    app = parse_env(env)
    assert app.cors_allow_origins == app.cors_allow_methods == app.cors_allow_headers == []


def test_unset_origin_regex_is_absent_not_empty(parse_env) -> None:
    env = server_env(ServerSettings.model_validate({"cors": {"allowOrigins": ["https://a.example.com"]}}))
    assert "HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX" not in env
    assert parse_env(env).cors_allow_origin_regex is None


def test_origin_regex_with_json_and_shell_metacharacters_arrives_unchanged(parse_env) -> None:
    regex = r'https://"[a-z]+"\.example\.com(:\d+)?$'
    env = server_env(ServerSettings.model_validate({"cors": {"allowOriginRegex": regex}}))
    assert parse_env(env).cors_allow_origin_regex == regex


def test_every_hayhooks_variable_is_one_the_server_knows(hayhooks_settings) -> None:
    # The server ignores an unknown HAYHOOKS_* silently; a misspelt name would be a lost setting.
    # AppSettings reads most; the logger module reads the log variables itself, with os.getenv.
    fields = set(hayhooks_settings.AppSettings.model_fields)
    logger_source = inspect.getsource(importlib.import_module("hayhooks.server.logger"))
    for config in CONFIGS.values():
        env = server_env(ServerSettings.model_validate(config))
        for name in env:
            if name.startswith("HAYHOOKS_"):
                known = name.removeprefix("HAYHOOKS_").lower() in fields or f'"{name}"' in logger_source
                assert known, name


def test_lists_are_json_arrays_never_joined() -> None:
    env = server_env(ServerSettings.model_validate(PRODUCTION))
    for name in ("ORIGINS", "METHODS", "HEADERS"):
        assert isinstance(json.loads(env[f"HAYHOOKS_CORS_ALLOW_{name}"]), list)
    assert json.loads(env["HAYHOOKS_CORS_EXPOSE_HEADERS"]) == ["X-Request-Id", "X-Trace-Id"]


def test_env_never_sets_what_breaks_the_server() -> None:
    for config in CONFIGS.values():
        env = server_env(ServerSettings.model_validate(config))
        assert not set(env) & set(FORBIDDEN_ENV)
        assert env["HAYSTACK_TELEMETRY_ENABLED"] == "False"
        assert all(isinstance(value, str) for value in env.values())


def test_extra_env_and_forwarded_ips_are_passed_through() -> None:
    env = server_env(ServerSettings.model_validate(PRODUCTION))
    assert env["FORWARDED_ALLOW_IPS"] == "10.0.0.0/8"
    assert env["HF_HOME"] == "/cache/hf"
    assert env["OPENAI_BASE_URL"] == "https://llm.internal"
    assert "FORWARDED_ALLOW_IPS" not in server_env(ServerSettings())


def test_duplicates_in_cors_lists_are_dropped_keeping_order(parse_env) -> None:
    settings = ServerSettings.model_validate(
        {"cors": {"allowOrigins": ["https://b.example.com", "https://a.example.com", "https://b.example.com"]}}
    )
    assert parse_env(server_env(settings)).cors_allow_origins == ["https://b.example.com", "https://a.example.com"]


@pytest.mark.parametrize("level", list(LogLevel))
def test_every_log_level_is_one_loguru_accepts(level: LogLevel, parse_env) -> None:
    env = server_env(ServerSettings(log_level=level))
    value = env["HAYHOOKS_LOG_LEVEL"]
    assert loguru.logger.level(value.upper()).name == level.value
    # Adding a sink at that level is what the server does at import; it must not raise.
    sink = loguru.logger.add(lambda _: None, level=value.upper())
    loguru.logger.remove(sink)
    parse_env(env)  # and AppSettings does not choke on the rest of the environment


@pytest.mark.parametrize(
    ("level", "log_format", "shown", "hidden"),
    [("DEBUG", "verbose", "probe-debug", "probe-trace"), ("WARNING", "default", "probe-warning", "probe-info")],
)
def test_server_logger_and_telemetry_read_the_env_at_import(tmp_path, level, log_format, shown, hidden) -> None:
    """The real import-time behaviour, in a fresh interpreter: level filter, format, telemetry off."""
    settings = ServerSettings.model_validate({"logLevel": level, "logFormat": log_format})
    env = {name: value for name, value in os.environ.items() if not _server_owned(name)}
    env.update(server_env(settings))
    script = textwrap.dedent(
        """
        import json
        import hayhooks.settings as hs
        import hayhooks.server.logger as logger
        from haystack.telemetry import _telemetry
        for level in ("trace", "debug", "info", "warning"):
            getattr(logger.log, level)("probe-" + level)
        print(json.dumps({"verbose": logger._VERBOSE, "telemetry": _telemetry.telemetry is not None,
                          "durable": hs.settings.durable_mode}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"verbose": log_format == "verbose", "telemetry": False, "durable": True}
    assert shown in result.stderr
    assert hidden not in result.stderr


# Origins as a browser sends them: lowercase scheme and host, no default port, no path.
_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_hostname = st.lists(_label, min_size=1, max_size=4).map(".".join)
_ipv4 = st.ip_addresses(v=4).map(str)
_ipv6 = st.ip_addresses(v=6).map(lambda ip: f"[{ip.compressed}]")


@st.composite
def origins(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(st.one_of(_hostname, _ipv4, _ipv6))
    default = 80 if scheme == "http" else 443
    port = draw(st.none() | st.integers(1, 65535).filter(lambda p: p != default))
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


@hyp_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(origins(), max_size=6), st.booleans())
def test_any_valid_origin_list_round_trips_through_the_server(
    hayhooks_settings: ModuleType, origin_list: list[str], credentials: bool
) -> None:
    settings = ServerSettings.model_validate({"cors": {"allowOrigins": origin_list, "allowCredentials": credentials}})
    env = server_env(settings)
    expected = list(dict.fromkeys(origin_list))
    assert json.loads(env["HAYHOOKS_CORS_ALLOW_ORIGINS"]) == expected
    with _only_env(env):
        app = hayhooks_settings.AppSettings()
    assert app.cors_allow_origins == expected
    assert app.cors_allow_credentials is credentials


@hyp_settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True).filter(
            lambda name: not name.upper().startswith("HAYHOOKS_") and name not in {"LOG", "WEB_CONCURRENCY"}
        ),
        st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"), max_size=30),
        max_size=5,
    )
)
def test_extra_env_never_shadows_a_server_setting(hayhooks_settings: ModuleType, extra: dict[str, str]) -> None:
    try:
        settings = ServerSettings.model_validate({"extraEnv": extra})
    except ValidationError as error:
        # The only names refused here are the ones this model owns.
        assert {p.path for p in from_validation_error(error).problems} <= {
            "extraEnv.FORWARDED_ALLOW_IPS",
            "extraEnv.HAYSTACK_TELEMETRY_ENABLED",
        }
        return
    env = server_env(settings)
    base = server_env(ServerSettings())
    assert {name: env[name] for name in base} == base
    assert {name: env[name] for name in extra} == extra


# --------------------------------------------------------------------------------------------
# 2. Refusals, with the config path the user has to fix
# --------------------------------------------------------------------------------------------


def _problems(config: dict) -> list[Problem]:
    with pytest.raises(ValidationError) as caught:
        ServerSettings.model_validate(config)
    error = from_validation_error(caught.value)
    assert isinstance(error, ConfigError)
    return list(error.problems)


def _only_problem(config: dict) -> Problem:
    problems = _problems(config)
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize(("config", "path", "fragments"), REFUSALS, ids=[r[1] for r in REFUSALS])
def test_refusal_names_the_key(config: dict, path: str, fragments: list[str]) -> None:
    problem = _only_problem(config)
    assert problem.path == path
    for fragment in fragments:
        assert fragment in problem.message, (fragment, problem.message)
    assert str(problem) == f"{path}: {problem.message}"


def test_log_level_refusal_lists_every_allowed_value() -> None:
    problem = _only_problem({"logLevel": "verbose"})
    assert problem.path == "logLevel"
    assert problem.message.startswith("must be one of:")
    for level in LogLevel:
        assert f"'{level.value}'" in problem.message


def test_every_bad_entry_is_reported_not_just_the_first() -> None:
    problems = _problems(
        {
            "port": 1,
            "cors": {"allowOrigins": ["https://ok.example.com", "bad", "also bad"], "allowMethods": ["get"]},
            "extraEnv": {"LOG": "x", "FINE": "y", "WEB_CONCURRENCY": "2"},
        }
    )
    assert {p.path for p in problems} == {
        "port",
        "cors.allowOrigins[1]",
        "cors.allowOrigins[2]",
        "cors.allowMethods[0]",
        "extraEnv.LOG",
        "extraEnv.WEB_CONCURRENCY",
    }


def test_snake_case_keys_are_accepted_too() -> None:
    settings = ServerSettings.model_validate({"log_level": "DEBUG", "cors": {"allow_origins": ["https://a.b"]}})
    assert settings.log_level is LogLevel.DEBUG
    assert settings.cors.allow_origins == ["https://a.b"]


def test_config_error_places_paths_under_a_prefix() -> None:
    error = ConfigError([Problem("cors.allowOrigins[0]", "m1"), Problem("[2]", "m2"), Problem("", "m3")])
    moved = error.under("hayhooks:service.server")
    assert [p.path for p in moved.problems] == [
        "hayhooks:service.server.cors.allowOrigins[0]",
        "hayhooks:service.server[2]",
        "hayhooks:service.server",
    ]
    assert str(moved).splitlines()[0] == "hayhooks:service.server.cors.allowOrigins[0]: m1"


def test_models_are_frozen() -> None:
    settings = ServerSettings()
    with pytest.raises(ValidationError):
        settings.port = 2000  # type: ignore[misc]


# --------------------------------------------------------------------------------------------
# Property tests of the validators
# --------------------------------------------------------------------------------------------

# Near misses of an origin: wrong schemes, paths, queries, ports, brackets, case, whitespace.
_origin_like = st.one_of(
    st.text(max_size=40),
    st.from_regex(
        r"(https?|HTTPS?|ftp|ws)://[A-Za-z0-9.:\[\]_-]{0,25}(:[0-9]{0,7})?(/|/x|\?q|#f|\n| )?",
        fullmatch=True,
    ),
    origins(),
)


@hyp_settings(max_examples=400, deadline=None)
@given(_origin_like)
def test_an_accepted_origin_is_scheme_host_port_and_nothing_else(text: str) -> None:
    try:
        settings = CorsSettings.model_validate({"allowOrigins": [text]})
    except ValidationError as error:
        # A refusal always points at the entry.
        assert [p.path for p in from_validation_error(error).problems] == ["allowOrigins[0]"]
        return
    assert settings.allow_origins == [text]
    if text == "*":
        return
    url = urlsplit(text)
    assert url.scheme in {"http", "https"}
    assert (url.path, url.query, url.fragment) == ("", "", "")
    assert url.username is None and url.password is None
    assert url.hostname and url.hostname == url.hostname.lower()
    port = url.port  # raises ValueError when out of range
    assert port is None or (1 <= port <= 65535 and port != {"http": 80, "https": 443}[url.scheme])
    assert f"{url.scheme}://{url.netloc}" == text
    if url.netloc.startswith("["):
        ipaddress.IPv6Address(url.hostname)
    assert text == text.strip()


@given(origins(), st.sampled_from(["/", "/api", "?x=1", "#top", "\n", " ", ":", "/ "]))
def test_an_origin_with_anything_after_host_and_port_is_refused(origin: str, suffix: str) -> None:
    problem = _only_problem({"cors": {"allowOrigins": [origin + suffix]}})
    assert problem.path == "cors.allowOrigins[0]"


@given(origins())
def test_an_origin_with_uppercase_host_is_refused(origin: str) -> None:
    scheme, rest = origin.split("://", 1)
    shouted = f"{scheme}://{rest.upper()}"
    if shouted == origin:  # digits-only hosts have no case
        return
    assert _only_problem({"cors": {"allowOrigins": [shouted]}}).path == "cors.allowOrigins[0]"


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


@given(st.one_of(st.text(max_size=10), st.sampled_from(sorted(_METHODS)).map(str.lower), st.sampled_from(["*"])))
def test_a_method_is_accepted_exactly_when_it_is_an_uppercase_method_or_wildcard(method: str) -> None:
    try:
        CorsSettings.model_validate({"allowMethods": [method]})
    except ValidationError:
        assert method not in _METHODS | {"*"}
    else:
        assert method in _METHODS | {"*"}


# A header name as the server's HTTP parser reads it (h11, under uvicorn): an RFC 9110 token.
_TOKEN = re.compile(h11._abnf.token.encode())


@given(st.one_of(st.text(max_size=20), st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)))
def test_an_accepted_header_is_an_http_token(header: str) -> None:
    try:
        CorsSettings.model_validate({"allowHeaders": [header], "exposeHeaders": [header]})
    except ValidationError as error:
        assert {p.path for p in from_validation_error(error).problems} == {"allowHeaders[0]", "exposeHeaders[0]"}
        assert not _TOKEN.fullmatch(header.encode())
    else:
        assert _TOKEN.fullmatch(header.encode())


@given(st.text(max_size=20))
def test_an_accepted_origin_regex_is_non_empty_and_compiles(regex: str) -> None:
    try:
        settings = CorsSettings.model_validate({"allowOriginRegex": regex})
    except ValidationError as error:
        assert [p.path for p in from_validation_error(error).problems] == ["allowOriginRegex"]
        if regex:
            with pytest.raises(re.error):
                re.compile(regex)
    else:
        assert settings.allow_origin_regex == regex
        assert regex
        re.compile(regex)


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [
        ("port", 1024, 65535),
        ("gracefulShutdownTimeout", 0, 300),
        ("startupDeploy.workers", 1, 32),
        ("cors.maxAge", 0, 86400),
    ],
)
@given(value=st.integers(-(10**6), 10**6) | st.integers(-3, 3) | st.integers(1020, 1030) | st.integers(29, 35))
def test_integer_settings_accept_exactly_their_range(key: str, low: int, high: int, value: int) -> None:
    head, _, tail = key.rpartition(".")
    config: dict = {tail: value} if not head else {head: {tail: value}}
    try:
        settings = ServerSettings.model_validate(config)
    except ValidationError as error:
        assert not low <= value <= high
        assert [p.path for p in from_validation_error(error).problems] == [key]
    else:
        assert low <= value <= high
        obj: Any = settings
        for part in key.split("."):
            obj = getattr(obj, re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), part))
        assert obj == value


@given(st.text(max_size=15))
@example("[")
@example("str")
@example("[key]")
@example("FOO\n")
def test_an_accepted_extra_env_name_is_a_plain_variable_name(name: str) -> None:
    try:
        settings = ServerSettings.model_validate({"extraEnv": {name: "v"}})
    except ValidationError as error:
        assert [p.path for p in from_validation_error(error).problems] == [f"extraEnv.{name}"]
    else:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name)
        assert not name.upper().startswith("HAYHOOKS_")
        assert name not in FORBIDDEN_ENV
        assert server_env(settings)[name] == "v"


@given(st.sampled_from(list(StartupDeployStrategy)), st.sampled_from(list(DeployConcurrency)), st.booleans())
def test_enums_and_flags_are_written_lowercase(strategy, concurrency, flag) -> None:
    env = server_env(
        ServerSettings(
            startup_deploy={"strategy": strategy},
            deploy_concurrency=concurrency,
            durable_mode=flag,
            show_tracebacks=not flag,
        )
    )
    assert env["HAYHOOKS_STARTUP_DEPLOY_STRATEGY"] == strategy.value == strategy.value.lower()
    assert env["HAYHOOKS_DEPLOY_CONCURRENCY"] == concurrency.value.lower()
    assert env["HAYHOOKS_DURABLE_MODE"] == ("true" if flag else "false")
    assert env["HAYHOOKS_SHOW_TRACEBACKS"] == ("false" if flag else "true")


@pytest.mark.parametrize("regex", [".*", "https?://.*", "(https|http)://[^/]+", ".+"])
def test_a_catch_all_origin_regex_with_credentials_is_refused(regex: str) -> None:
    problem = _only_problem({"cors": {"allowCredentials": True, "allowOriginRegex": regex}})
    assert problem.path == "cors.allowOriginRegex"
    assert "same as '*' with credentials" in problem.message


def test_an_anchored_origin_regex_with_credentials_is_accepted_and_the_server_applies_it(parse_env) -> None:
    from starlette.middleware.cors import CORSMiddleware

    settings = ServerSettings.model_validate(
        {"cors": {"allowCredentials": True, "allowOriginRegex": r"https://[a-z0-9-]+\.example\.com"}}
    )
    app = parse_env(server_env(settings))
    middleware = CORSMiddleware(lambda *_: None, allow_origin_regex=app.cors_allow_origin_regex)
    assert middleware.is_allowed_origin("https://team-a.example.com")
    assert not middleware.is_allowed_origin("https://attacker.invalid")


@pytest.mark.parametrize(
    ("config", "path", "fragment"),
    [
        ({"host": "my-host"}, "host", "is not an IP address"),
        ({"host": "0.0.0.0:1416"}, "host", "is not an IP address"),
        ({"forwardedAllowIps": "10.0.0.0/8,ingress-nginx"}, "forwardedAllowIps", "'ingress-nginx' is not an IP"),
        ({"forwardedAllowIps": "10.0.0.300"}, "forwardedAllowIps", "is not an IP address or network"),
    ],
)
def test_bind_address_and_trusted_proxies_are_addresses(config: dict, path: str, fragment: str) -> None:
    problem = _only_problem(config)
    assert problem.path == path and fragment in problem.message


def test_trusted_proxies_reach_uvicorn_as_networks_it_trusts() -> None:
    from uvicorn.middleware.proxy_headers import _TrustedHosts

    settings = ServerSettings.model_validate({"host": "::", "forwardedAllowIps": "10.0.0.0/8, 192.168.1.5"})
    trusted = _TrustedHosts(server_env(settings)["FORWARDED_ALLOW_IPS"])
    assert "10.1.2.3" in trusted and "192.168.1.5" in trusted and "172.16.0.1" not in trusted


# --------------------------------------------------------------------------------------------
# Settings beyond the production guide: root path, tracing, durable store, streaming, `advanced`
# --------------------------------------------------------------------------------------------


def test_the_table_of_the_installed_release_is_its_settings_class(hayhooks_settings: ModuleType) -> None:
    """The generated table (`releases.json`) of the release installed here, against its own AppSettings: every
    field, its kind written in the form pydantic-settings parses (tests/live/test_releases.py does this for every
    release of the table, in each release's own venv)."""
    fields = hayhooks_settings.AppSettings.model_fields
    release = releases.find(importlib.metadata.version("hayhooks"))
    assert release is not None, "the installed hayhooks is not a release of the table: run `make server-settings`"
    assert {setting.field for setting in release.settings.values()} == set(fields)
    for setting in release.settings.values():
        field = fields[setting.field]
        origin = typing.get_origin(field.annotation)
        if setting.kind is SettingKind.LIST:
            assert origin is list, setting.env
        elif setting.kind is not SettingKind.STR:
            assert field.annotation.__name__ == setting.kind.value, setting.env
    owned = {*TYPED_SETTINGS, *SECRET_SETTINGS} - set(LOGGER_SETTINGS)
    assert {name.removeprefix("HAYHOOKS_").lower() for name in owned} <= set(fields)


def test_the_logger_settings_are_read_by_the_servers_logger() -> None:
    # Not AppSettings fields: `hayhooks.server.logger` reads them with os.getenv, so they are pinned apart.
    spec = importlib.util.find_spec("hayhooks.server.logger")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_text()
    for name in LOGGER_SETTINGS:
        assert f'os.getenv("{name}"' in source, name


def test_typed_operations_settings_and_advanced_ones_reach_the_server_as_written(parse_env) -> None:
    app = parse_env(server_env(ServerSettings.model_validate(OPERATIONS)))
    assert app.root_path == "/assistants/hayhooks"
    assert app.tracing_enabled is True
    assert app.durable_redis_url == "rediss://redis.data.svc.cluster.local:6380/2"
    assert app.additional_python_path == "/opt/shared"
    assert app.durable_max_run_attempts == 5
    assert app.durable_poll_interval_seconds == 2.5
    assert app.monitoring_enabled is False
    assert app.files_to_ignore_patterns == ["*.tmp", "notes, drafts/*"]
    # Streaming components are read by the server's own parser, which splits on commas.
    streaming = importlib.import_module("hayhooks.server.pipelines.streaming")
    assert streaming.parse_streaming_components_setting(app.streaming_components) == ["planner_llm", "answer llm"]
    everything = server_env(ServerSettings.model_validate({"streamingComponents": ["all"], "durableStore": "memory"}))
    app = parse_env(everything)
    assert streaming.parse_streaming_components_setting(app.streaming_components) == "all"
    assert app.durable_store == "memory"


def test_advanced_values_are_written_as_the_server_reads_them() -> None:
    # The same variable from a YAML scalar or list, or from a string (what other languages' SDKs pass).
    typed = ServerSettings.model_validate(OPERATIONS).advanced
    env = server_env(ServerSettings.model_validate(OPERATIONS))
    assert ServerSettings.model_validate({"advanced": {name: env[name] for name in typed}}).advanced == typed
    assert typed["HAYHOOKS_MONITORING_ENABLED"] == "false"
    assert typed["HAYHOOKS_DURABLE_MAX_RUN_ATTEMPTS"] == "5"
    assert json.loads(typed["HAYHOOKS_FILES_TO_IGNORE_PATTERNS"]) == ["*.tmp", "notes, drafts/*"]


def test_the_trace_api_is_off_unless_asked_for(parse_env) -> None:
    assert parse_env({}).tracing_enabled is True  # the server's own default
    env = server_env(ServerSettings())
    assert env["HAYHOOKS_TRACING_ENABLED"] == "false"
    assert parse_env(env).tracing_enabled is False
    for name in ("HAYHOOKS_ROOT_PATH", "HAYHOOKS_DURABLE_STORE", "HAYHOOKS_DURABLE_REDIS_URL"):
        assert name not in env  # unset optionals are left to the server, never written empty


def test_secret_settings_are_accepted_as_secrets_only() -> None:
    from hayhooks_pulumi.docker.args import HayhooksContainerArgs
    from hayhooks_pulumi.kubernetes.args import HayhooksServiceArgs

    for name in SECRET_SETTINGS:
        assert name in HayhooksServiceArgs.model_validate({"secrets": {name: {"fromConfig": "k"}}}).secrets
        assert name in HayhooksContainerArgs.model_validate({"secrets": {name: {"fromConfig": "k"}}}).secrets
        with pytest.raises(ValidationError, match=rf"set it in secrets\.{name}, never as plain text"):
            ServerSettings.model_validate({"extraEnv": {name: "plain"}})
    with pytest.raises(ValidationError, match=r"is set by server\.showTracebacks; use that key"):
        HayhooksServiceArgs.model_validate({"secrets": {"HAYHOOKS_SHOW_TRACEBACKS": {"fromConfig": "k"}}})


@pytest.mark.parametrize(("config", "path", "fragments"), ADVANCED_REFUSALS)
def test_operations_and_advanced_refusals_name_their_key(config: dict, path: str, fragments: list[str]) -> None:
    with pytest.raises(ValidationError) as info:
        ServerSettings.model_validate(config)
    error = from_validation_error(info.value)
    assert path in {p.path for p in error.problems} or any(p.path.startswith(path) for p in error.problems), error
    for fragment in fragments:
        assert fragment in str(error)


@pytest.mark.parametrize(
    "url", ["redis://:hunter2@redis.data.svc:99999/0", "redis://user:hunter2@redis.data.svc/0", "http://:hunter2@h/0"]
)
def test_a_redis_url_with_credentials_is_refused_without_repeating_them(url: str, tmp_path: Path) -> None:
    """What a user reads: the render's message (pydantic's own repr of the input never reaches it)."""
    with pytest.raises(ValidationError) as refused:
        ServerSettings.model_validate({"durableRedisUrl": url})
    [message] = [e["msg"] for e in refused.value.errors()]
    assert "secrets.HAYHOOKS_DURABLE_REDIS_URL" in message and "hunter2" not in message

    stack = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    stack["config"]["hayhooks:service"]["server"]["durableRedisUrl"] = url
    (tmp_path / "Pulumi.redis.yaml").write_text(yaml.safe_dump(stack))
    result = render("redis", tmp_path / "out", tmp_path / "Pulumi.redis.yaml")
    assert result.returncode == 2
    assert "server.durableRedisUrl" in result.stderr and "hunter2" not in result.stderr + result.stdout
