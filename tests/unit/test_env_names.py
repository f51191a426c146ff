"""One rule for a variable a user may set, wherever it is set: `server.extraEnv`, `secrets` of both targets,
an env file. Names the server or the component own are refused with the same message everywhere, and a
secret may not repeat a plain variable (which would give the container one name twice)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hayhooks_pulumi import ConfigError, HayhooksService
from hayhooks_pulumi.docker.plan import plan_container
from hayhooks_pulumi.kubernetes.plan import plan_service
from hayhooks_pulumi.server import releases
from helpers.engine import register
from helpers.paths import REPO

IMAGE = "deepset/hayhooks:v2.1.0"
PIPELINES = str(REPO / "pipelines")
OWNED = {
    "WEB_CONCURRENCY": "makes `hayhooks run` exit",
    "LOG": "use server.logLevel",
    "HOME": "the component sets it",
    "FORWARDED_ALLOW_IPS": "owned by this model",
    "HAYSTACK_TELEMETRY_ENABLED": "owned by this model",
    "HAYHOOKS_PORT": "is set by server.port; use that key",
    "hayhooks_port": "is set by server.port; use that key",
    "HAYHOOKS_LOG_LEVLE": "not a setting of any Hayhooks release this package knows "
    f"({releases.known_versions()}) (the server ignores it silently, so a typo is refused); "
    "did you mean HAYHOOKS_LOG_LEVEL?",
    "1ST": "not a valid environment variable name",
}


def _args(**overrides: Any) -> dict[str, Any]:
    return {"profile": "development", "image": IMAGE, "pipelinesPath": PIPELINES, **overrides}


def _problems(plan: Any, args: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        plan("hh", args, **kwargs)
    return {p.path: p.message for p in caught.value.problems}


SECRET = {
    "kubernetes": (plan_service, {"fromConfig": "value"}),
    "docker": (plan_container, {"fromConfig": "value"}),
}


@pytest.mark.parametrize("name", sorted(OWNED))
def test_an_owned_name_is_refused_alike_in_extra_env_and_in_both_targets_secrets(name: str) -> None:
    messages = {}
    for target, (plan, source) in SECRET.items():
        found = _problems(plan, _args(secrets={name: source}), secret_values={name: "x"})
        assert set(found) == {f"secrets.{name}"}, (target, found)
        messages[f"{target} secrets"] = found[f"secrets.{name}"]
        found = _problems(plan, _args(server={"extraEnv": {name: "x"}}))
        assert set(found) == {f"server.extraEnv.{name}"}, (target, found)
        messages[f"{target} extraEnv"] = found[f"server.extraEnv.{name}"]
    assert len(set(messages.values())) == 1, messages
    assert OWNED[name] in next(iter(messages.values()))


@pytest.mark.parametrize("target", sorted(SECRET))
def test_a_secret_named_like_an_extra_env_key_is_refused(target: str) -> None:
    plan, source = SECRET[target]
    args = _args(server={"extraEnv": {"API_KEY": "plain"}}, secrets={"API_KEY": source})
    assert _problems(plan, args, secret_values={"API_KEY": "x"}) == {
        "secrets.API_KEY": "API_KEY is already set as a plain variable (server.extraEnv); set each variable once"
    }


CREDENTIALS = [
    "OPENAI_API_KEY",
    "api_key",
    "HF_TOKEN",
    "JWT_SECRET",
    "AWS_SECRET_ACCESS_KEY",
    "DB_PASSWORD",
    "SMTP_PASSWD",
    "GCP_CREDENTIALS",
    "SIGNING_PRIVATE_KEY",
    "SSH_PASSPHRASE",
    "Cohere_ApiKey",
]
NOT_CREDENTIALS = [
    "HF_HOME",
    "TOKENIZERS_PARALLELISM",
    "MAX_TOKENS",
    "SECRET_NAME",
    "KEYCLOAK_URL",
    "PIPELINE_MODE",
    "GOOGLE_APPLICATION_CREDENTIALS",  # a file's path, by Google's convention
]


@pytest.mark.parametrize("target", sorted(SECRET))
def test_production_refuses_a_credential_by_name_in_extra_env_of_both_targets(target: str) -> None:
    plan, _ = SECRET[target]
    production = _args(profile="production", image=f"{IMAGE}@sha256:{'ab' * 32}")
    extra = dict.fromkeys(CREDENTIALS + NOT_CREDENTIALS, "sk-plain")
    found = _problems(plan, {**production, "server": {"extraEnv": extra}})
    assert set(found) == {f"server.extraEnv.{name}" for name in CREDENTIALS}, found
    message = found["server.extraEnv.OPENAI_API_KEY"]
    assert "refused as a plain value in production" in message and "secrets.OPENAI_API_KEY" in message
    assert plan("hh", _args(server={"extraEnv": extra})).env["OPENAI_API_KEY"] == "sk-plain"  # development


def test_kubernetes_env_names_are_unique_in_the_pod() -> None:
    args = _args(
        server={"extraEnv": {"HF_HOME": "/tmp/hf", "PIPELINE_MODE": "fast"}},
        secrets={"API_KEY": {"fromConfig": "apiKey"}, "OTHER": {"fromSecret": {"name": "s", "key": "k"}}},
    )
    registrations = register(lambda: HayhooksService("hh", args, secret_values={"API_KEY": "x"}))
    (deployment,) = [r for r in registrations.values() if r.type == "kubernetes:apps/v1:Deployment"]
    env = deployment.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
    counts = Counter(entry["name"] for entry in env)
    assert [name for name, count in counts.items() if count > 1] == []
    assert {"HOME", "HF_HOME", "PIPELINE_MODE", "API_KEY", "OTHER"} <= set(counts)


def _production(**overrides: Any) -> dict[str, Any]:
    cors = {"allowOrigins": ["https://app.example.com"], "allowMethods": ["GET", "POST"]}
    return _args(profile="production", image=f"{IMAGE}@sha256:{'ab' * 32}", server={"cors": cors}, **overrides)


@pytest.mark.parametrize("target", sorted(SECRET))
def test_production_refuses_a_name_that_is_not_upper_case_saying_which_one_was_meant(target: str) -> None:
    # `openai_api_key` is accepted by the shell and the API server alike, and no pipeline ever reads it.
    plan, source = SECRET[target]
    production = _production(secrets={"openai_api_key": source, "Hf_Token": source})
    production["server"] = {**production["server"], "extraEnv": {"hf_home": "/cache"}}
    if target == "kubernetes":
        production["ingress"] = {"host": "hayhooks.example.com", "tlsSecretName": "tls"}
    found = _problems(plan, production, secret_values={"openai_api_key": "x", "Hf_Token": "x"})
    for path, name in [
        ("secrets.openai_api_key", "openai_api_key"),
        ("secrets.Hf_Token", "Hf_Token"),
        ("server.extraEnv.hf_home", "hf_home"),
    ]:
        assert path in found, found
        assert found[path].startswith(f"{name} is not upper case, refused in production"), found[path]
        assert f"did you mean {name.upper()}?" in found[path]
    # Development takes the name as written (a local experiment may want exactly that).
    development = _args(secrets={"openai_api_key": source}, server={"extraEnv": {"hf_home": "/cache"}})
    assert plan("hh", development, secret_values={"openai_api_key": "x"}).env["hf_home"] == "/cache"


def test_production_refuses_a_lower_case_cache_variable_and_keeps_the_proxy_variables() -> None:
    production = _production(
        cache={"env": ["hf_home"]}, ingress={"host": "hayhooks.example.com", "tlsSecretName": "tls"}
    )
    found = _problems(plan_service, production)
    assert "did you mean HF_HOME?" in found["cache.env[0]"], found
    proxies = {"http_proxy": "http://proxy:3128", "https_proxy": "http://proxy:3128", "no_proxy": ".svc"}
    accepted = _production(ingress={"host": "hayhooks.example.com", "tlsSecretName": "tls"})
    accepted["server"] = {**accepted["server"], "extraEnv": proxies}
    assert proxies.items() <= plan_service("hh", accepted).env.items()
