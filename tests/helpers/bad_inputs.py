"""Bad inputs several test modules share: the refusals the models and plans give (tests/unit/server,
tests/unit/kubernetes) and the schema of stack files must agree with (tests/unit/test_stack_schema.py).

Each list is one home: a test of the refusals asserts the message, the schema's test that an editor flags what
JSON Schema can say of it.
"""

from __future__ import annotations

import copy
from typing import Any

# `with_key(args, key, REMOVE)` deletes the key.
REMOVE = object()


def with_key(args: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `args` with one dotted key set (REMOVE deletes it); `args` itself is not changed."""
    args = copy.deepcopy(args)
    *parents, last = path.split(".")
    node = args
    for key in parents:
        node = node.setdefault(key, {})
    if value is REMOVE:
        node.pop(last, None)
    else:
        node[last] = value
    return args


# `server` settings: (config, path of the one problem, fragments of its message).
REFUSALS: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"cors": {"allowOrigins": ["https://a.example.com/"]}}, "cors.allowOrigins[0]", ["no trailing slash"]),
    (
        {"cors": {"allowOrigins": ["https://ok.example.com", "https://a.example.com/api"]}},
        "cors.allowOrigins[1]",
        ["'https://a.example.com/api'", "no path"],
    ),
    ({"cors": {"allowOrigins": ["app.example.com"]}}, "cors.allowOrigins[0]", ["scheme://host[:port]"]),
    ({"cors": {"allowOrigins": ["ftp://a.example.com"]}}, "cors.allowOrigins[0]", ["scheme://host[:port]"]),
    ({"cors": {"allowOrigins": ["https://App.Example.com"]}}, "cors.allowOrigins[0]", ["lowercase"]),
    ({"cors": {"allowOrigins": ["https://a.example.com:443"]}}, "cors.allowOrigins[0]", ["default port"]),
    ({"cors": {"allowOrigins": ["http://a.example.com:80"]}}, "cors.allowOrigins[0]", ["default port"]),
    ({"cors": {"allowOrigins": ["https://a.example.com:70000"]}}, "cors.allowOrigins[0]", ["1..65535"]),
    ({"cors": {"allowOrigins": ["https://a.example.com\n"]}}, "cors.allowOrigins[0]", ["not an origin"]),
    ({"cors": {"allowOrigins": ["https://[1:2:3:4:5:6:7:8:9]"]}}, "cors.allowOrigins[0]", ["IPv6"]),
    ({"cors": {"allowOrigins": ["https://a..example.com"]}}, "cors.allowOrigins[0]", ["host name"]),
    ({"cors": {"allowMethods": ["get"]}}, "cors.allowMethods[0]", ["'get'", "uppercase", "GET", "OPTIONS"]),
    ({"cors": {"allowMethods": ["GET", "CONNECT"]}}, "cors.allowMethods[1]", ["'CONNECT'"]),
    ({"cors": {"allowHeaders": ["Content-Type", "X Bad"]}}, "cors.allowHeaders[1]", ["header name"]),
    ({"cors": {"exposeHeaders": ["X-Trace\n"]}}, "cors.exposeHeaders[0]", ["header name"]),
    ({"cors": {"allowOriginRegex": ""}}, "cors.allowOriginRegex", ["leave the key out"]),
    ({"cors": {"allowOriginRegex": "(["}}, "cors.allowOriginRegex", ["not a valid regular expression"]),
    (
        {"cors": {"allowOrigins": ["*"], "allowCredentials": True}},
        "cors.allowCredentials",
        ["allowOrigins '*'", "list the origins"],
    ),
    ({"cors": {"maxAge": -1}}, "cors.maxAge", ["greater than or equal to 0"]),
    ({"cors": {"maxAge": 86401}}, "cors.maxAge", ["less than or equal to 86400"]),
    ({"startupDeploy": {"workers": 0}}, "startupDeploy.workers", ["greater than or equal to 1"]),
    ({"startupDeploy": {"workers": 33}}, "startupDeploy.workers", ["less than or equal to 32"]),
    ({"startupDeploy": {"strategy": "PARALLEL"}}, "startupDeploy.strategy", ["'sequential'", "'parallel'"]),
    ({"deployConcurrency": "serial"}, "deployConcurrency", ["'serialized'", "'parallel'"]),
    ({"port": 80}, "port", ["greater than or equal to 1024"]),
    ({"port": 65536}, "port", ["less than or equal to 65535"]),
    ({"gracefulShutdownTimeout": 301}, "gracefulShutdownTimeout", ["less than or equal to 300"]),
    ({"gracefulShutdownTimeout": -1}, "gracefulShutdownTimeout", ["greater than or equal to 0"]),
    ({"pipelinesDir": "pipelines"}, "pipelinesDir", ["absolute path"]),
    ({"pipelinesDir": "./pipelines"}, "pipelinesDir", ["absolute path"]),
    ({"pipelinesDir": "/"}, "pipelinesDir", ["other than /"]),
    ({"extraEnv": {"HAYHOOKS_FOO": "1"}}, "extraEnv.HAYHOOKS_FOO", ["not a setting", "ignores it silently"]),
    # A typo of a setting: once "is a server setting owned by this model".
    (
        {"extraEnv": {"HAYHOOKS_LOG_LEVLE": "INFO"}},
        "extraEnv.HAYHOOKS_LOG_LEVLE",
        ["not a setting of any Hayhooks release this package knows", "a typo", "did you mean HAYHOOKS_LOG_LEVEL?"],
    ),
    ({"extraEnv": {"HAYHOOKS_LOG_LEVEL": "INFO"}}, "extraEnv.HAYHOOKS_LOG_LEVEL", ["set by server.logLevel"]),
    ({"extraEnv": {"hayhooks_port": "1"}}, "extraEnv.hayhooks_port", ["set by server.port"]),
    ({"extraEnv": {"HAYHOOKS_MONITORING_ENABLED": "0"}}, "extraEnv.HAYHOOKS_MONITORING_ENABLED", ["server.advanced"]),
    ({"extraEnv": {"WEB_CONCURRENCY": "2"}}, "extraEnv.WEB_CONCURRENCY", ["not allowed", "hayhooks run"]),
    ({"extraEnv": {"LOG": "DEBUG"}}, "extraEnv.LOG", ["not allowed", "logLevel"]),
    ({"extraEnv": {"FORWARDED_ALLOW_IPS": "*"}}, "extraEnv.FORWARDED_ALLOW_IPS", ["typed key"]),
    ({"extraEnv": {"HAYSTACK_TELEMETRY_ENABLED": "True"}}, "extraEnv.HAYSTACK_TELEMETRY_ENABLED", ["typed key"]),
    ({"extraEnv": {"1ST": "x"}}, "extraEnv.1ST", ["not a valid environment variable name"]),
    ({"extraEnv": {"MY-VAR": "x"}}, "extraEnv.MY-VAR", ["not a valid environment variable name"]),
    ({"extraEnv": {"A[0]": "x"}}, "extraEnv.A[0]", ["not a valid environment variable name"]),
    ({"extraEnv": {"list[str]": "x"}}, "extraEnv.list[str]", ["not a valid environment variable name"]),
    ({"extraEnv": {"OK": 1}}, "extraEnv.OK", ["valid string"]),
    ({"cors": {"allowOrigin": ["https://a.example.com"]}}, "cors.allowOrigin", ["unknown key"]),
    ({"logLevels": "INFO"}, "logLevels", ["unknown key"]),
    ({"startupDeploy": {"worker": 2}}, "startupDeploy.worker", ["unknown key"]),
    ({"logFormat": "json"}, "logFormat", ["'default'", "'verbose'"]),
    ({"durableMode": "maybe"}, "durableMode", ["bool"]),
]

# `server.advanced` and the operations settings: (config, path, fragments).
ADVANCED_REFUSALS: list[tuple[dict[str, Any], str, list[str]]] = [
    (
        {"advanced": {"HAYHOOKS_ADDITONAL_PYTHON_PATH": "/x"}},
        "advanced",
        ["did you mean HAYHOOKS_ADDITIONAL_PYTHON_PATH"],
    ),
    ({"advanced": {"HF_HOME": "/x"}}, "advanced", ["not a setting of any Hayhooks release this package knows"]),
    ({"advanced": {"HAYHOOKS_ROOT_PATH": "/x"}}, "advanced", ["set by server.rootPath"]),
    # Read by the server's logger, not AppSettings: once answered "not a setting; did you mean HAYHOOKS_PORT?".
    ({"advanced": {"HAYHOOKS_LOG_LEVEL": "DEBUG"}}, "advanced", ["set by server.logLevel; use that key"]),
    ({"advanced": {"HAYHOOKS_LOG_FORMAT": "verbose"}}, "advanced", ["set by server.logFormat; use that key"]),
    ({"advanced": {"HAYHOOKS_CORS_ALLOW_ORIGINS": ["*"]}}, "advanced", ["set by server.cors.allowOrigins"]),
    ({"advanced": {"HAYHOOKS_MCP_PORT": 9000}}, "advanced", ["the component"]),
    ({"advanced": {"HAYHOOKS_TRACING_TOKEN": "t0ken"}}, "advanced", ["secrets.HAYHOOKS_TRACING_TOKEN"]),
    ({"advanced": {"HAYHOOKS_DURABLE_MAX_RUN_ATTEMPTS": "five"}}, "advanced", ["takes an integer"]),
    ({"advanced": {"HAYHOOKS_DURABLE_MAX_RUN_ATTEMPTS": 2.5}}, "advanced", ["takes an integer"]),
    ({"advanced": {"HAYHOOKS_MONITORING_ENABLED": "no"}}, "advanced", ["takes true or false"]),
    ({"advanced": {"HAYHOOKS_FILES_TO_IGNORE_PATTERNS": "*.tmp"}}, "advanced", ["takes a list of strings"]),
    ({"advanced": {"HAYHOOKS_FILES_TO_IGNORE_PATTERNS": [1]}}, "advanced", []),
    ({"advanced": {"HAYHOOKS_ADDITIONAL_PYTHON_PATH": {"a": 1}}}, "advanced.HAYHOOKS_ADDITIONAL_PYTHON_PATH", []),
    ({"rootPath": "hayhooks"}, "rootPath", ["not a path prefix", "/hayhooks"]),
    ({"rootPath": "/hayhooks/"}, "rootPath", ["none at the end"]),
    ({"durableRedisUrl": "http://redis:6379"}, "durableRedisUrl", ["not a Redis URL"]),
    ({"durableRedisUrl": "redis://redis:0"}, "durableRedisUrl", ["the port must be a number 1..65535"]),
    ({"durableRedisUrl": "redis://:s3cret@redis:6379/0"}, "durableRedisUrl", ["secrets.HAYHOOKS_DURABLE_REDIS_URL"]),
    ({"durableStore": "postgres"}, "durableStore", ["'redis' or 'memory'"]),
    ({"streamingComponents": ["a,b"]}, "streamingComponents", ["no commas"]),
    ({"streamingComponents": ["llm", "all"]}, "streamingComponents", ["'all' stands alone"]),
    ({"streamingComponents": ["llm", "llm"]}, "streamingComponents", ["lists a component twice"]),
    ({"streamingComponents": "all"}, "streamingComponents", []),
    ({"tracing": {"enabled": True, "token": "x"}}, "tracing.token", ["unknown key"]),
]

# HayhooksService args, in production: (key, value, path, message).
PRODUCTION_REFUSALS = [
    ("server.cors.allowOrigins", ["*"], "server.cors.allowOrigins", "'*' is refused in production"),
    ("server.cors.allowMethods", ["*"], "server.cors.allowMethods", "'*' is refused in production"),
    ("server.showTracebacks", True, "server.showTracebacks", "must be false in production"),
    ("server.logLevel", "DEBUG", "server.logLevel", "DEBUG is refused in production"),
    ("server.logLevel", "TRACE", "server.logLevel", "TRACE is refused in production"),
    ("server.durableMode", False, "server.durableMode", "must be true in production"),
    ("image", "deepset/hayhooks:v2.1.0", "image", "docker buildx imagetools inspect deepset/hayhooks:v2.1.0"),
    ("ingress.auth", "none", "ingress.auth", "needs authentication"),
    ("ingress.tlsSecretName", REMOVE, "ingress.tlsSecretName", "required in production"),
    ("replicas", 1, "replicas", "at least 2 in production"),
    ("autoscaling", {"enabled": True, "minReplicas": 1}, "autoscaling.minReplicas", "at least 2 in production"),
    ("resources.memoryLimit", None, "resources.memoryLimit", "required in production"),
    ("server.extraEnv", {"OPENAI_API_KEY": "sk-x"}, "server.extraEnv.OPENAI_API_KEY", "secrets.OPENAI_API_KEY"),
]

# Keys a typo made, set to 1 in HayhooksService args.
UNKNOWN_KEYS = [
    "replica",
    "server.cors.allowOrigin",
    "ingress.tlsSecret",
    "autoscaling.minReplica",
    "secrets.KEY.fromStor",
]

# HayhooksService args merged over the production base: (patch, path, message).
INVALID_VALUES: list[tuple[dict[str, Any], str, str]] = [
    ({"requiredPipelines": ["missing"]}, "requiredPipelines[0]", "'missing' is not in"),
    ({"pipelinesPath": "/nonexistent/pipelines"}, "pipelinesPath", "is not a directory"),
    ({"secrets": {"K": {"fromStore": {"remoteKey": "x"}}}}, "secretStore", "required by secrets.K.fromStore"),
    # Passed by the program, not read from a stack: the argument is what is missing.
    ({"secrets": {"K": {"fromConfig": "k"}}}, "secrets.K.fromConfig", "secret_values={'K': <value>}"),
    ({"server": {"host": "127.0.0.1"}}, "server.host", "unreachable through the Service and the probes"),
    ({"secrets": {"K": {}}}, "secrets.K", "exactly one of fromStore, fromSecret, fromConfig"),
    (
        {"secrets": {"HAYHOOKS_X": {"fromConfig": "k"}}},
        "secrets.HAYHOOKS_X",
        "not a setting of any Hayhooks release",
    ),
    ({"resources": {"memoryRequest": "4Gi", "memoryLimit": "2Gi"}}, "resources.memoryLimit", "below the request"),
    ({"resources": {"cpuRequest": "lots"}}, "resources.cpuRequest", "is not a quantity"),
    ({"namespace": {"name": "Bad_Name"}}, "namespace.name", "is not a DNS label"),
    (
        {
            "ingress": {
                "host": "hayhooks.example.com",
                "annotations": {"nginx.ingress.kubernetes.io/configuration-snippet": "x"},
            }
        },
        "ingress.annotations",
        "snippet",
    ),
    ({"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}, "autoscaling.maxReplicas", "at least minReplicas"),
]
