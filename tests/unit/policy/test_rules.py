"""The policy rules called directly on hand-written manifests and Docker specs, good and bad.

Each rule is shown to fire on its own: a secure workload is clean, and one change to it breaks
exactly the rules named. The rendered stacks are checked in tests/stacks/test_check.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hayhooks_pulumi.policy.catalog import DOCKER_RULES, STACK_RULES, WORKLOAD_RULES, Rule
from hayhooks_pulumi.policy.edge import EdgeConfig
from hayhooks_pulumi.policy.objects import Resource, image_repository
from hayhooks_pulumi.policy.violations import hayhooks_subjects, resource_violations, stack_violations
from helpers.manifests import (
    DIGEST,
    NGINX_BASIC,
    Manifest,
    ingress,
    insecure_deployment,
    resource,
    secure_deployment,
    service,
)


def middleware(name: str, spec: Manifest) -> Manifest:
    return {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "Middleware",
        "metadata": {"name": name, "namespace": "ai"},
        "spec": spec,
    }


def route(rules: list[Manifest], name: str = "assistant", labels: dict[str, str] | None = None) -> Manifest:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": "ai", "labels": labels or {}},
        "spec": {
            "parentRefs": [{"name": "public", "namespace": "edge"}],
            "hostnames": ["ai.example.com"],
            "rules": rules,
        },
    }


def route_rule(*paths: str, name: str | None = None, filters: list[Manifest] | None = None) -> Manifest:
    rule: Manifest = {
        "matches": [{"path": {"type": "Exact", "value": p}} for p in paths],
        "backendRefs": [{"name": "assistant", "port": 80}],
    }
    if name:
        rule["name"] = name
    if filters:
        rule["filters"] = filters
    return rule


def security_policy(targets: list[Manifest] | None = None, **auth: Any) -> Manifest:
    spec: Manifest = {
        "targetRefs": targets or [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "assistant"}]
    }
    spec.update(auth or {"basicAuth": {"users": {"name": "assistant-users"}}})
    return {
        "apiVersion": "gateway.envoyproxy.io/v1alpha1",
        "kind": "SecurityPolicy",
        "metadata": {"name": "assistant-auth", "namespace": "ai"},
        "spec": spec,
    }


def rules_of(*manifests: Manifest, config: EdgeConfig | None = None) -> set[str]:
    resources = [resource(m) for m in manifests]
    violations = [v for r in resources for v in resource_violations(r)] + stack_violations(resources, config)
    return {v.rule.value for v in violations}


def container(manifest: Manifest) -> Manifest:
    return manifest["spec"]["template"]["spec"]["containers"][0]


def pod(manifest: Manifest) -> Manifest:
    return manifest["spec"]["template"]["spec"]


def env(manifest: Manifest) -> list[Manifest]:
    return container(manifest)["env"]


def set_env(name: str, value: str | None = None, **source: Any) -> Callable[[Manifest], None]:
    def change(manifest: Manifest) -> None:
        entries = [e for e in env(manifest) if e["name"] != name]
        if value is not None:
            entries.append({"name": name, "value": value})
        elif source:
            entries.append({"name": name, "valueFrom": source})
        container(manifest)["env"] = entries

    return change


def drop_env(name: str) -> Callable[[Manifest], None]:
    return set_env(name)


def set_in(getter: Callable[[Manifest], Manifest], key: str, value: Any) -> Callable[[Manifest], None]:
    def change(manifest: Manifest) -> None:
        target = getter(manifest)
        if value is _DELETE:
            target.pop(key, None)
        else:
            target[key] = value

    return change


_DELETE = object()
CONFIG_MAP_REF = {"configMapKeyRef": {"name": "settings", "key": "value"}}


# ---------------------------------------------------------------- the whole guide, at once


def test_insecure_deployment_is_reported_on_every_rule_it_breaks() -> None:
    found = {v.rule.value for v in resource_violations(resource(insecure_deployment()))}

    assert found == {
        "hayhooks-image-digest",
        "hayhooks-cors-no-wildcard",
        "hayhooks-cors-credentials",
        "hayhooks-no-tracebacks",
        "hayhooks-log-level",
        "hayhooks-durable-mode",
        "hayhooks-pipelines-read-only",
        "hayhooks-status-probes",
        "hayhooks-memory-limit",
        "hayhooks-restricted-security",
        "hayhooks-service-links",
    }
    assert found == {rule.value for rule in WORKLOAD_RULES}


def test_insecure_stack_is_reported_on_every_rule() -> None:
    found = rules_of(insecure_deployment(), service(kind="LoadBalancer"), ingress([("/", "Prefix")], class_name=None))

    assert found == {rule.value for rule in Rule}


def test_secure_deployment_behind_authenticated_ingress_is_clean() -> None:
    assert rules_of(secure_deployment(), service(), ingress(annotations=NGINX_BASIC)) == set()


def test_messages_name_the_object_the_container_and_the_setting() -> None:
    violations = resource_violations(resource(insecure_deployment()), [Rule.LOG_LEVEL, Rule.IMAGE_DIGEST])

    assert [str(v) for v in violations] == [
        "[hayhooks-log-level] Deployment ai/assistant container server: LOG='debug' logs request payloads; "
        "use INFO or higher",
        "[hayhooks-image-digest] Deployment ai/assistant container server: image 'deepset/hayhooks:v2.1.0' is not "
        "pinned by digest; write <repository>:<tag>@sha256:<digest> (`docker buildx imagetools inspect "
        "<repository>:<tag>` prints it)",
    ]


# ---------------------------------------------------------------- one change, exactly these rules

ONE_CHANGE: list[tuple[str, Callable[[Manifest], None], set[str]]] = [
    ("tag only", set_in(container, "image", "deepset/hayhooks:v2.1.0"), {"hayhooks-image-digest"}),
    ("short digest", set_in(container, "image", "deepset/hayhooks@sha256:abc"), {"hayhooks-image-digest"}),
    (
        "origins unset",
        drop_env("HAYHOOKS_CORS_ALLOW_ORIGINS"),
        {"hayhooks-cors-no-wildcard", "hayhooks-cors-credentials"},
    ),
    ("methods unset", drop_env("HAYHOOKS_CORS_ALLOW_METHODS"), {"hayhooks-cors-no-wildcard"}),
    ("methods *", set_env("HAYHOOKS_CORS_ALLOW_METHODS", '["GET", "*"]'), {"hayhooks-cors-no-wildcard"}),
    (
        "origins *",
        set_env("HAYHOOKS_CORS_ALLOW_ORIGINS", '["https://a.example.com", "*"]'),
        {"hayhooks-cors-no-wildcard", "hayhooks-cors-credentials"},
    ),
    (
        "origins comma-separated",
        set_env("HAYHOOKS_CORS_ALLOW_ORIGINS", "https://a.example.com,https://b.example.com"),
        {"hayhooks-cors-no-wildcard", "hayhooks-cors-credentials"},
    ),
    (
        "origins from a ConfigMap",
        set_env("HAYHOOKS_CORS_ALLOW_ORIGINS", **CONFIG_MAP_REF),
        {"hayhooks-cors-no-wildcard", "hayhooks-cors-credentials"},
    ),
    (
        "regex matching any origin",
        set_env("HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX", "https://.*"),
        {"hayhooks-cors-no-wildcard", "hayhooks-cors-credentials"},
    ),
    ("anchored regex", set_env("HAYHOOKS_CORS_ALLOW_ORIGIN_REGEX", r"https://[a-z]+\.example\.com"), set()),
    (
        "credentials from a Secret",
        set_env("HAYHOOKS_CORS_ALLOW_CREDENTIALS", secretKeyRef={"name": "s", "key": "k"}),
        set(),
    ),
    ("tracebacks true", set_env("HAYHOOKS_SHOW_TRACEBACKS", "true"), {"hayhooks-no-tracebacks"}),
    ("tracebacks 1", set_env("HAYHOOKS_SHOW_TRACEBACKS", "1"), {"hayhooks-no-tracebacks"}),
    ("tracebacks from a ConfigMap", set_env("HAYHOOKS_SHOW_TRACEBACKS", **CONFIG_MAP_REF), {"hayhooks-no-tracebacks"}),
    ("tracebacks unset", drop_env("HAYHOOKS_SHOW_TRACEBACKS"), set()),
    ("DEBUG", set_env("HAYHOOKS_LOG_LEVEL", "DEBUG"), {"hayhooks-log-level"}),
    ("trace", set_env("HAYHOOKS_LOG_LEVEL", "trace"), {"hayhooks-log-level"}),
    ("legacy LOG", lambda m: (drop_env("HAYHOOKS_LOG_LEVEL")(m), set_env("LOG", "DEBUG")(m)), {"hayhooks-log-level"}),
    (
        "empty level falls back to LOG",
        lambda m: (set_env("HAYHOOKS_LOG_LEVEL", "")(m), set_env("LOG", "TRACE")(m)),
        {"hayhooks-log-level"},
    ),
    ("HAYHOOKS_LOG_LEVEL wins over LOG", set_env("LOG", "DEBUG"), set()),
    ("WARNING", set_env("HAYHOOKS_LOG_LEVEL", "WARNING"), set()),
    ("durable unset", drop_env("HAYHOOKS_DURABLE_MODE"), {"hayhooks-durable-mode"}),
    ("durable false", set_env("HAYHOOKS_DURABLE_MODE", "false"), {"hayhooks-durable-mode"}),
    ("durable from a ConfigMap", set_env("HAYHOOKS_DURABLE_MODE", **CONFIG_MAP_REF), {"hayhooks-durable-mode"}),
    ("durable 'on'", set_env("HAYHOOKS_DURABLE_MODE", "on"), set()),
    (
        "pipelines mount writable",
        lambda m: container(m)["volumeMounts"][0].pop("readOnly"),
        {"hayhooks-pipelines-read-only"},
    ),
    ("pipelines dir unset", drop_env("HAYHOOKS_PIPELINES_DIR"), {"hayhooks-pipelines-read-only"}),
    (
        "--pipelines-dir on a writable emptyDir",
        set_in(container, "args", ["run", "--pipelines-dir=/tmp/pipelines"]),
        {"hayhooks-pipelines-read-only"},
    ),
    ("-d on the read-only root", set_in(container, "args", ["run", "-d", "/opt/pipelines"]), set()),
    (
        "no readiness probe",
        set_in(container, "readinessProbe", _DELETE),
        {"hayhooks-status-probes"},
    ),
    ("TCP readiness", set_in(container, "readinessProbe", {"tcpSocket": {"port": 1416}}), {"hayhooks-status-probes"}),
    (
        "exec readiness on /status",
        set_in(
            container,
            "readinessProbe",
            {"exec": {"command": ["python", "-c", "urlopen('http://127.0.0.1:1416/status')"]}},
        ),
        set(),
    ),
    ("no liveness probe", set_in(container, "livenessProbe", _DELETE), {"hayhooks-status-probes"}),
    (
        "startup on /healthz",
        set_in(container, "startupProbe", {"httpGet": {"path": "/healthz"}}),
        {"hayhooks-status-probes"},
    ),
    ("no memory limit", set_in(container, "resources", {"requests": {"memory": "1Gi"}}), {"hayhooks-memory-limit"}),
    (
        "privileged",
        set_in(lambda m: container(m)["securityContext"], "privileged", True),
        {"hayhooks-restricted-security"},
    ),
    (
        "escalation unset",
        set_in(lambda m: container(m)["securityContext"], "allowPrivilegeEscalation", _DELETE),
        {"hayhooks-restricted-security"},
    ),
    (
        "container may run as root",
        set_in(lambda m: container(m)["securityContext"], "runAsNonRoot", False),
        {"hayhooks-restricted-security"},
    ),
    ("uid 0", set_in(lambda m: container(m)["securityContext"], "runAsUser", 0), {"hayhooks-restricted-security"}),
    (
        "seccomp unconfined",
        set_in(lambda m: pod(m)["securityContext"], "seccompProfile", {"type": "Unconfined"}),
        {"hayhooks-restricted-security"},
    ),
    (
        "capabilities kept",
        set_in(lambda m: container(m)["securityContext"], "capabilities", {"add": ["SYS_ADMIN"]}),
        {"hayhooks-restricted-security"},
    ),
    (
        "writable root",
        set_in(lambda m: container(m)["securityContext"], "readOnlyRootFilesystem", False),
        {"hayhooks-restricted-security"},
    ),
    ("host network", set_in(pod, "hostNetwork", True), {"hayhooks-restricted-security"}),
    (
        "hostPath volume",
        lambda m: pod(m)["volumes"].append({"name": "host", "hostPath": {"path": "/"}}),
        {"hayhooks-restricted-security"},
    ),
    ("service links on", set_in(pod, "enableServiceLinks", _DELETE), {"hayhooks-service-links"}),
    (
        "service links on, ports pinned",
        lambda m: (
            set_in(pod, "enableServiceLinks", True)(m),
            *(set_env(n, v)(m) for n, v in (("HAYHOOKS_PORT", "1416"), ("HAYHOOKS_MCP_PORT", "1417"))),
            set_env("HAYHOOKS_A2A_PORT", **CONFIG_MAP_REF)(m),
        ),
        set(),
    ),
    (
        "service links on, MCP port not pinned",
        lambda m: (set_in(pod, "enableServiceLinks", True)(m), set_env("HAYHOOKS_PORT", "1416")(m)),
        {"hayhooks-service-links"},
    ),
]


@pytest.mark.parametrize(("change", "expected"), [(c, e) for _, c, e in ONE_CHANGE], ids=[n for n, _, _ in ONE_CHANGE])
def test_one_change_to_a_secure_deployment_breaks_exactly(
    change: Callable[[Manifest], None], expected: set[str]
) -> None:
    manifest = secure_deployment()
    change(manifest)

    assert {v.rule.value for v in resource_violations(resource(manifest))} == expected


def test_a_secure_deployment_is_clean() -> None:
    assert resource_violations(resource(secure_deployment())) == []


def test_only_the_requested_rules_run() -> None:
    found = resource_violations(resource(insecure_deployment()), [Rule.MEMORY_LIMIT])

    assert [v.rule for v in found] == [Rule.MEMORY_LIMIT]


# ---------------------------------------------------------------- which workloads are Hayhooks


def test_other_containers_and_workloads_are_not_checked() -> None:
    deployment = secure_deployment()
    pod(deployment)["containers"].append(
        {"name": "proxy", "image": "nginx:1.27", "securityContext": {"privileged": True}}
    )
    other = insecure_deployment()
    container(other)["image"] = "ghcr.io/example/api:v1"

    assert resource_violations(resource(deployment)) == []
    assert resource_violations(resource(other)) == []
    assert hayhooks_subjects([resource(deployment), resource(other)]) == ["Deployment ai/assistant"]


@pytest.mark.parametrize(
    ("image", "command", "args"),
    [
        (f"registry.example.com/ai/server@{DIGEST}", ["hayhooks", "run"], []),
        (f"registry.example.com/ai/server@{DIGEST}", ["/opt/venv/bin/hayhooks"], ["run"]),
        (f"registry.example.com/ai/server@{DIGEST}", ["python3", "-m", "hayhooks", "run"], []),
        (f"registry.example.com/ai/server@{DIGEST}", [], ["hayhooks", "run"]),
        (f"localhost:5000/team/HayHooks-custom:v1@{DIGEST}", [], []),
    ],
)
def test_hayhooks_is_found_by_image_repository_or_command(image: str, command: list[str], args: list[str]) -> None:
    manifest = insecure_deployment()
    container(manifest).update({"image": image, "command": command, "args": args})

    assert Rule.MEMORY_LIMIT in {v.rule for v in resource_violations(resource(manifest))}


def test_a_tag_named_hayhooks_is_not_a_hayhooks_image() -> None:
    assert image_repository("registry:5000/team/api:hayhooks@" + DIGEST) == "registry:5000/team/api"
    assert image_repository("registry:5000/team/hayhooks") == "registry:5000/team/hayhooks"
    manifest = insecure_deployment()
    container(manifest)["image"] = "registry:5000/team/api:hayhooks"

    assert resource_violations(resource(manifest)) == []


def _as_kind(kind: str, api: str) -> Manifest:
    """The secure pod template, with tracebacks on, in a workload of another kind."""
    template = copy.deepcopy(secure_deployment()["spec"]["template"])
    template["spec"]["containers"][0]["env"].append({"name": "HAYHOOKS_SHOW_TRACEBACKS", "value": "true"})
    body: Manifest = {"apiVersion": api, "kind": kind, "metadata": {"name": "assistant", "namespace": "ai"}}
    if kind == "Pod":
        return body | {"metadata": {**body["metadata"], **template["metadata"]}, "spec": template["spec"]}
    if kind == "CronJob":
        return body | {"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}}
    return body | {"spec": {"template": template}}


@pytest.mark.parametrize(
    ("kind", "api"),
    [("Pod", "v1"), ("StatefulSet", "apps/v1"), ("DaemonSet", "apps/v1"), ("Job", "batch/v1"), ("CronJob", "batch/v1")],
)
def test_every_workload_kind_is_checked(kind: str, api: str) -> None:
    violations = resource_violations(resource(_as_kind(kind, api)))

    assert {v.rule for v in violations} == {Rule.NO_TRACEBACKS}
    assert violations[0].subject == f"{kind} ai/assistant container server"


def test_env_from_is_named_when_a_default_unsafe_setting_is_missing() -> None:
    manifest = secure_deployment()
    drop_env("HAYHOOKS_CORS_ALLOW_METHODS")(manifest)
    container(manifest)["envFrom"] = [{"configMapRef": {"name": "hayhooks-settings"}}]

    [violation] = resource_violations(resource(manifest), [Rule.CORS_NO_WILDCARD])
    assert "envFrom" in violation.message and 'default is ["*"]' in violation.message


# ---------------------------------------------------------------- Docker containers


def docker_container(**overrides: Any) -> Resource:
    """Inputs of a pulumi_docker Container as the dev stack registers it (its image is an image ID)."""
    props: Manifest = {
        "name": "assistant",
        "image": DIGEST,
        "command": ["hayhooks", "run", "--host", "0.0.0.0", "--port", "1416"],
        "envs": [
            'HAYHOOKS_CORS_ALLOW_ORIGINS=["http://localhost:3000"]',
            "HAYHOOKS_CORS_ALLOW_CREDENTIALS=true",
            "HAYHOOKS_LOG_LEVEL=DEBUG",
            "HAYHOOKS_SHOW_TRACEBACKS=true",
        ],
        "user": "10001:10001",
        "readOnly": True,
        "securityOpts": ["no-new-privileges:true"],
        "capabilities": {"drops": ["ALL"]},
        "healthcheck": {"tests": ["CMD", "python", "-c", "urlopen('http://127.0.0.1:1416/status')"]},
    }
    return Resource("docker:index/container:Container", props | overrides, "assistant-container")


def test_a_development_container_is_clean_although_it_logs_debug_and_tracebacks() -> None:
    assert resource_violations(docker_container()) == []
    assert hayhooks_subjects([docker_container()]) == ["docker container assistant"]


def test_an_insecure_container_breaks_the_rules_that_hold_in_every_profile() -> None:
    container_ = docker_container(
        envs=['HAYHOOKS_CORS_ALLOW_ORIGINS=["*"]', "HAYHOOKS_CORS_ALLOW_CREDENTIALS=1"],
        user="root",
        readOnly=False,
        securityOpts=[],
        capabilities=None,
        healthcheck=None,
        privileged=True,
        networkMode="host",
    )

    found = resource_violations(container_)
    assert {v.rule for v in found} == set(DOCKER_RULES)
    assert {v.rule.value for v in found} == {
        "hayhooks-cors-credentials",
        "hayhooks-status-probes",
        "hayhooks-restricted-security",
    }
    security = [v.message for v in found if v.rule is Rule.RESTRICTED_SECURITY]
    assert security == [
        "privileged is true",
        "user is 'root': run as a non-root uid:gid (the official image runs as root)",
        "securityOpts lacks no-new-privileges:true",
        "capabilities does not drop ALL capabilities",
        "readOnly (root filesystem) is not true (give /tmp and HOME a tmpfs)",
        "networkMode is host",
    ]


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"healthcheck": {"tests": ["NONE"]}}, "no health check"),
        (
            {"healthcheck": {"tests": ["CMD", "python", "-c", "urlopen('http://127.0.0.1:1416/')"]}},
            "does not ask /status",
        ),
        ({"user": None}, "user is None"),
        ({"user": "0:0"}, "user is '0:0'"),
        ({"capabilities": {"drops": ["ALL"], "adds": ["NET_ADMIN"]}}, "adds capabilities NET_ADMIN"),
    ],
)
def test_container_hardening_and_health_check(overrides: Manifest, problem: str) -> None:
    [violation] = resource_violations(docker_container(**overrides))

    assert problem in violation.message


def test_a_container_not_running_hayhooks_is_not_checked() -> None:
    assert resource_violations(docker_container(command=["nginx", "-g", "daemon off;"], user="root")) == []


# ---------------------------------------------------------------- the edge: authentication


def edge_rules(*manifests: Manifest, config: EdgeConfig | None = None) -> list[str]:
    """The stack violations of a secure Deployment + Service and the given edge objects, as text."""
    resources = [resource(m) for m in (secure_deployment(), service(), *manifests)]
    return [str(v) for v in stack_violations(resources, config)]


@pytest.mark.parametrize(
    "annotations",
    [
        NGINX_BASIC,
        {"nginx.ingress.kubernetes.io/auth-type": "digest", "nginx.ingress.kubernetes.io/auth-secret": "s"},
        {
            "nginx.ingress.kubernetes.io/auth-url": "http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth",
            "nginx.ingress.kubernetes.io/auth-signin": "https://auth.example.com/oauth2/start",
        },
        {
            "nginx.ingress.kubernetes.io/auth-tls-verify-client": "on",
            "nginx.ingress.kubernetes.io/auth-tls-secret": "ai/ca",
        },
    ],
    ids=["basic", "digest", "external", "client-certificates"],
)
def test_nginx_authentication_forms(annotations: dict[str, str]) -> None:
    assert edge_rules(ingress(annotations=annotations)) == []


@pytest.mark.parametrize(
    "annotations",
    [
        {},
        {"nginx.ingress.kubernetes.io/auth-type": "basic"},
        {
            "nginx.ingress.kubernetes.io/auth-tls-verify-client": "optional",
            "nginx.ingress.kubernetes.io/auth-tls-secret": "ai/ca",
        },
    ],
    ids=["none", "basic-without-secret", "optional-client-certificates"],
)
def test_nginx_without_authentication(annotations: dict[str, str]) -> None:
    assert edge_rules(ingress(annotations=annotations)) == [
        "[hayhooks-edge-auth] Ingress ai/assistant: routes to Hayhooks without authentication: add nginx auth "
        "annotations (auth-type + auth-secret, or auth-url) or a Traefik basicAuth/forwardAuth middleware "
        "(traefik.ingress.kubernetes.io/router.middlewares), for the controller that serves it"
    ]


@pytest.mark.parametrize("satisfy", ["any", " Any "])
@pytest.mark.parametrize(
    "auth",
    [
        NGINX_BASIC,
        {"nginx.ingress.kubernetes.io/auth-url": "http://oauth2-proxy.auth.svc.cluster.local/oauth2/auth"},
    ],
    ids=["basic", "external"],
)
def test_nginx_satisfy_any_is_not_authentication(auth: dict[str, str], satisfy: str) -> None:
    """With satisfy: any, an address in whitelist-source-range (0.0.0.0/0 is every client) needs no credentials."""
    annotations = {
        **auth,
        "nginx.ingress.kubernetes.io/satisfy": satisfy,
        "nginx.ingress.kubernetes.io/whitelist-source-range": "0.0.0.0/0",
    }
    assert edge_rules(ingress(annotations=annotations)) == [
        "[hayhooks-edge-auth] Ingress ai/assistant: routes to Hayhooks with nginx.ingress.kubernetes.io/satisfy: "
        "any, which lets a request through that passes either authentication or the address check "
        "(whitelist-source-range): remove it"
    ]
    # satisfy: all (nginx's default) keeps both checks.
    annotations["nginx.ingress.kubernetes.io/satisfy"] = "all"
    assert edge_rules(ingress(annotations=annotations)) == []


TRAEFIK_REF = {"traefik.ingress.kubernetes.io/router.middlewares": "ai-assistant-auth@kubernetescrd"}


@pytest.mark.parametrize(
    "middlewares",
    [
        [middleware("assistant-auth", {"basicAuth": {"secret": "assistant-users"}})],
        [middleware("assistant-auth", {"forwardAuth": {"address": "http://oauth2-proxy.auth/oauth2/auth"}})],
        [
            middleware("assistant-auth", {"chain": {"middlewares": [{"name": "headers"}, {"name": "sso"}]}}),
            middleware("headers", {"headers": {"stsSeconds": 31536000}}),
            middleware("sso", {"forwardAuth": {"address": "http://sso.auth/verify"}}),
        ],
    ],
    ids=["basicAuth", "forwardAuth", "chain"],
)
def test_traefik_authentication_forms(middlewares: list[Manifest]) -> None:
    assert edge_rules(ingress(annotations=TRAEFIK_REF, class_name="traefik"), *middlewares) == []


def test_traefik_middleware_without_auth_or_missing_is_not_authentication() -> None:
    headers_only = middleware("assistant-auth", {"headers": {"stsSeconds": 1}})
    traefik = ingress(annotations=TRAEFIK_REF, class_name="traefik")

    assert len(edge_rules(traefik, headers_only)) == 1
    assert len(edge_rules(traefik)) == 1


def test_a_middleware_outside_the_stack_counts_when_trusted() -> None:
    traefik = ingress(
        annotations={"traefik.ingress.kubernetes.io/router.middlewares": "sso@file"}, class_name="traefik"
    )

    assert len(edge_rules(traefik)) == 1
    assert edge_rules(traefik, config=EdgeConfig.from_config({"trustedMiddlewares": ["sso@file"]})) == []


def test_auth_annotations_of_the_other_controller_do_not_count() -> None:
    basic = middleware("assistant-auth", {"basicAuth": {"secret": "s"}})

    assert len(edge_rules(ingress(annotations=NGINX_BASIC, class_name="traefik"))) == 1
    assert len(edge_rules(ingress(annotations=TRAEFIK_REF, class_name="nginx"), basic)) == 1
    assert edge_rules(ingress(annotations=NGINX_BASIC, class_name="public")) == []


def test_ingresses_to_other_services_are_not_checked() -> None:
    other_backend = ingress([("/", "Prefix")], backend="frontend")
    unselected = service(selector={"app.kubernetes.io/name": "frontend"})
    resources = [resource(m) for m in (secure_deployment(), unselected, ingress([("/", "Prefix")]))]

    assert edge_rules(other_backend) == []
    assert stack_violations(resources) == []


def test_a_load_balancer_exposes_hayhooks_without_authentication() -> None:
    resources = [resource(m) for m in (secure_deployment(), service(kind="NodePort"))]

    assert [str(v) for v in stack_violations(resources)] == [
        "[hayhooks-edge-auth] Service ai/assistant: type NodePort exposes Hayhooks without authentication; use "
        "ClusterIP behind an authenticating Ingress or HTTPRoute"
    ]


@pytest.mark.parametrize(
    "policy",
    [
        security_policy(),
        security_policy(apiKeyAuth={"credentialRefs": [{"name": "keys"}], "extractFrom": [{"headers": ["x-api-key"]}]}),
        security_policy(jwt={"providers": [{"name": "idp", "remoteJWKS": {"uri": "https://idp.example.com/jwks"}}]}),
        security_policy(oidc={"provider": {"issuer": "https://idp.example.com"}, "clientID": "ai"}),
        security_policy(extAuth={"http": {"backendRefs": [{"name": "authz", "port": 80}]}}),
        security_policy(
            [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "assistant", "sectionName": "api"}]
        ),
        {
            **security_policy(),
            "spec": {
                "targetRef": {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "assistant"},
                "basicAuth": {"users": {"name": "u"}},
            },
        },
        {
            **security_policy(),
            "spec": {
                "targetSelectors": [{"kind": "HTTPRoute", "matchLabels": {"auth": "sso"}}],
                "jwt": {"providers": []},
            },
        },
    ],
    ids=["basicAuth", "apiKeyAuth", "jwt", "oidc", "extAuth", "section", "targetRef", "targetSelectors"],
)
def test_envoy_security_policy_forms(policy: Manifest) -> None:
    assert edge_rules(route([route_rule("/assistant/run", name="api")], labels={"auth": "sso"}), policy) == []


def test_a_gateway_wide_policy_covers_the_routes_attached_to_that_gateway() -> None:
    """A SecurityPolicy targets objects of its own namespace: here the Gateway edge/public, for all its routes."""
    gateway_policy = security_policy([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "public"}])
    elsewhere = copy.deepcopy(gateway_policy)
    gateway_policy["metadata"]["namespace"] = "edge"
    attached = route([route_rule("/assistant/run")])
    other_gateway = route([route_rule("/assistant/run")])
    other_gateway["spec"]["parentRefs"] = [{"name": "public"}]

    assert edge_rules(attached, gateway_policy) == []
    assert len(edge_rules(other_gateway, gateway_policy)) == 1
    # A policy in the route's namespace names a Gateway "public" of that namespace, not edge/public.
    assert len(edge_rules(attached, elsewhere)) == 1
    assert edge_rules(other_gateway, elsewhere) == []


@pytest.mark.parametrize(
    "policy",
    [
        None,
        security_policy(jwt={"providers": [{"name": "idp"}], "optional": True}),
        security_policy(extAuth={"http": {"backendRefs": [{"name": "authz"}]}, "failOpen": True}),
        security_policy(cors={"allowOrigins": ["https://app.example.com"]}),
        security_policy([{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "other"}]),
        security_policy(
            [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "assistant", "sectionName": "docs"}]
        ),
    ],
    ids=["none", "optional-jwt", "fail-open", "cors-only", "other-route", "other-section"],
)
def test_routes_not_covered_by_an_authenticating_policy(policy: Manifest | None) -> None:
    found = edge_rules(route([route_rule("/assistant/run", name="api")]), *([policy] if policy else []))

    assert found == [
        "[hayhooks-edge-auth] HTTPRoute ai/assistant: rule api routes to Hayhooks without authentication: target "
        "the route with an Envoy Gateway SecurityPolicy (apiKeyAuth, basicAuth, jwt, oidc or extAuth) or add an "
        "authenticating Traefik middleware as an ExtensionRef filter"
    ]


def test_traefik_middleware_as_route_filter_and_trusted_gateways() -> None:
    forward = middleware("sso", {"forwardAuth": {"address": "http://sso.auth/verify"}})
    ext_ref = {"type": "ExtensionRef", "extensionRef": {"group": "traefik.io", "kind": "Middleware", "name": "sso"}}
    plain = route([route_rule("/assistant/run")])

    assert edge_rules(route([route_rule("/assistant/run", filters=[ext_ref])]), forward) == []
    assert edge_rules(plain, config=EdgeConfig.from_config({"trustedGateways": ["edge/public"]})) == []
    assert len(edge_rules(plain, config=EdgeConfig.from_config({"trustedGateways": ["edge/private"]}))) == 1


# ---------------------------------------------------------------- the edge: code-upload paths


@pytest.mark.parametrize(
    ("paths", "annotations", "routed"),
    [
        ([("/", "Prefix")], {}, "/deploy_files, /deploy-yaml, /undeploy"),
        ([("/", "ImplementationSpecific")], {}, "/deploy_files, /deploy-yaml, /undeploy"),
        ([("/deploy", "ImplementationSpecific")], {}, "/deploy_files, /deploy-yaml"),
        ([("/undeploy/assistant", "Exact")], {}, "/undeploy"),
        ([("/deploy_files", "Exact")], {}, "/deploy_files"),
        (
            [("/(deploy|undeploy).*", "ImplementationSpecific")],
            {"nginx.ingress.kubernetes.io/use-regex": "true"},
            "/deploy_files, /deploy-yaml, /undeploy",
        ),
    ],
)
def test_ingress_paths_that_route_code_upload(
    paths: list[tuple[str, str]], annotations: dict[str, str], routed: str
) -> None:
    found = edge_rules(ingress(paths, annotations={**NGINX_BASIC, **annotations}))

    assert len(found) == 1
    path, path_type = paths[0]
    prefix = (
        f"[hayhooks-no-upload-routes] Ingress ai/assistant: path {path!r} ({path_type}) routes {routed} to Hayhooks"
    )
    assert found[0].startswith(prefix)


@pytest.mark.parametrize(
    "paths",
    [[("/deploy", "Prefix")], [("/v1", "Prefix"), ("/status", "Exact")], [("/deployments", "ImplementationSpecific")]],
)
def test_ingress_paths_beside_the_upload_routes(paths: list[tuple[str, str]]) -> None:
    assert edge_rules(ingress(paths, annotations=NGINX_BASIC)) == []


def test_a_default_backend_routes_everything() -> None:
    everything = ingress([], annotations=NGINX_BASIC)
    everything["spec"]["defaultBackend"] = {"service": {"name": "assistant", "port": {"number": 80}}}

    assert [v.split(":")[0] for v in edge_rules(everything)] == ["[hayhooks-no-upload-routes] Ingress ai/assistant"]


@pytest.mark.parametrize(
    ("matches", "routed"),
    [
        (None, "/deploy_files, /deploy-yaml, /undeploy"),
        ([{"path": {"type": "PathPrefix", "value": "/"}}], "/deploy_files, /deploy-yaml, /undeploy"),
        ([{"path": {"type": "PathPrefix", "value": "/undeploy"}}], "/undeploy"),
        ([{"path": {"type": "RegularExpression", "value": "/deploy.*"}}], "/deploy_files, /deploy-yaml"),
        ([{"headers": [{"name": "x-team", "value": "ai"}]}], "/deploy_files, /deploy-yaml, /undeploy"),
    ],
    ids=["no-matches", "prefix-root", "prefix-undeploy", "regex", "header-only"],
)
def test_route_rules_that_route_code_upload(matches: list[Manifest] | None, routed: str) -> None:
    rule = route_rule()
    rule.pop("matches")
    if matches is not None:
        rule["matches"] = matches

    found = edge_rules(route([rule]), security_policy())
    assert found == [
        f"[hayhooks-no-upload-routes] HTTPRoute ai/assistant: rule 0 routes {routed} to Hayhooks: match only the "
        "client paths, each Exact (a rule without matches routes every path)"
    ]


def test_exact_client_routes_are_clean() -> None:
    rule = route_rule("/assistant/run", "/v1/chat/completions", "/status")
    rule["matches"].append({"path": {"type": "PathPrefix", "value": "/deploy"}})

    assert edge_rules(route([rule]), security_policy()) == []


def test_only_the_requested_stack_rules_run() -> None:
    resources = [resource(m) for m in (secure_deployment(), service(), ingress([("/", "Prefix")]))]

    assert {v.rule for v in stack_violations(resources)} == set(STACK_RULES)
    assert {v.rule for v in stack_violations(resources, rules=[Rule.NO_UPLOAD_ROUTES])} == {Rule.NO_UPLOAD_ROUTES}
