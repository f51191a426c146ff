"""Several HayhooksServices in one namespace never collide, and each selects only its own pods.

Four services share the namespace `apps` under the SDK mock engine: public ones behind nginx and
Traefik with generated passwords, internal ones, secrets from a store and from config. Two of the
names are chosen to trip naive prefixing (`chat-basic` beside `chat`'s `chat-basic-auth`,
`http-chat` beside `chat`'s Service `http-chat`).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from hayhooks_pulumi import ConfigError, HayhooksService
from hayhooks_pulumi.render.mocks import Registration
from hayhooks_pulumi.render.writer import (
    DuplicateObjectError,
    DuplicateUrnError,
    is_kubernetes_object,
    manifest,
    resource_records,
    write_render,
)
from helpers import engine
from helpers.engine import register
from helpers.paths import REPO
from pulumi.runtime.rpc import unwrap_rpc_secret

IMAGE = "deepset/hayhooks:v2.1.0@sha256:" + "ab" * 32
NAMESPACE = "apps"
PIPELINES = REPO / "pipelines"


def service_args(name: str, **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "image": IMAGE,
        "namespace": {"name": NAMESPACE, "create": False},
        "pipelinesPath": str(PIPELINES),
        "secretStore": {"name": "vault"},
        "secrets": {"LLM_API_KEY": {"fromStore": {"remoteKey": f"apps/{name}"}}},
    }
    args.update(overrides)
    return args


def public(host: str, controller: str = "nginx") -> dict[str, Any]:
    return {"host": host, "tlsSecretName": f"{host.split('.')[0]}-tls", "controller": controller}


SERVICES: dict[str, dict[str, Any]] = {
    "chat": service_args(
        "chat",
        namespace={"name": NAMESPACE, "create": True},
        ingress=public("chat.example.com"),
        secrets={
            "LLM_API_KEY": {"fromStore": {"remoteKey": "apps/chat"}},
            "WEBHOOK_TOKEN": {"fromConfig": "webhookToken"},
        },
        autoscaling={"enabled": True},
    ),
    "chat-basic": service_args(
        "chat-basic", ingress=public("basic.example.com", "traefik"), autoscaling={"enabled": True}
    ),
    "http-chat": service_args("http-chat"),
    "summarizer": service_args("summarizer", requiredPipelines=["qa-prompt"]),
}


@pytest.fixture(scope="module")
def program() -> tuple[dict[str, Any], dict[str, Any]]:
    """Every registration in order (a duplicate name would show twice), and each service's basic-auth password."""
    passwords: dict[str, Any] = {}

    def run() -> None:
        for name, args in SERVICES.items():
            service = HayhooksService(
                name, args, secret_values={"WEBHOOK_TOKEN": pulumi.Output.secret("token")} if name == "chat" else None
            )
            service.basic_auth_password.apply(lambda value, n=name: passwords.__setitem__(n, value))

    return _registrations(run), passwords


@pytest.fixture(scope="module")
def objects(program) -> list[dict[str, Any]]:
    """Every Kubernetes object as the provider would receive it, with the service that made it."""
    registrations, _ = program
    records = resource_records(registrations)
    return [{**manifest(r), "_owner": r["parent"]} for r in records if is_kubernetes_object(r)]


def owned(objects: list[dict[str, Any]], owner: str, kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["_owner"] == owner and o["kind"] == kind]


def pod_labels(objects: list[dict[str, Any]], owner: str) -> dict[str, str]:
    (deployment,) = owned(objects, owner, "Deployment")
    return deployment["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and selector.items() <= labels.items()


def test_pulumi_resource_names_and_urns_are_unique(program) -> None:
    registrations: list[Registration] = program[0]
    names = Counter((r.type, r.name) for r in registrations)
    assert [key for key, count in names.items() if count > 1] == []
    urns = Counter(r.urn for r in registrations)
    assert [urn for urn, count in urns.items() if count > 1] == []
    assert {r.parent_urn.rsplit("::", 1)[-1] for r in registrations if r.custom} == set(SERVICES)


def test_every_kubernetes_object_is_unique_and_in_the_namespace(objects) -> None:
    identities = Counter(
        (o["apiVersion"], o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects
    )
    assert [identity for identity, count in identities.items() if count > 1] == []
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"] == [NAMESPACE]
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {NAMESPACE}


def test_each_object_is_labelled_as_its_own_service(objects) -> None:
    for o in objects:
        if o["kind"] != "Namespace":
            assert o["metadata"]["labels"]["app.kubernetes.io/instance"] == o["_owner"], o["metadata"]["name"]


@pytest.mark.parametrize("owner", SERVICES)
def test_selectors_pick_only_the_services_own_pods(objects, owner: str) -> None:
    own = pod_labels(objects, owner)
    others = [pod_labels(objects, other) for other in SERVICES if other != owner]
    (deployment,) = owned(objects, owner, "Deployment")
    selectors = {
        "Deployment": deployment["spec"]["selector"]["matchLabels"],
        "Service": owned(objects, owner, "Service")[0]["spec"]["selector"],
        "NetworkPolicy": owned(objects, owner, "NetworkPolicy")[0]["spec"]["podSelector"]["matchLabels"],
        "PodDisruptionBudget": owned(objects, owner, "PodDisruptionBudget")[0]["spec"]["selector"]["matchLabels"],
    }
    for kind, selector in selectors.items():
        assert selects(selector, own), f"{owner}'s {kind} misses its pods"
        assert not any(selects(selector, labels) for labels in others), f"{owner}'s {kind} selects another's pods"
    for autoscaler in owned(objects, owner, "HorizontalPodAutoscaler"):
        assert autoscaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]


@pytest.mark.parametrize("owner", SERVICES)
def test_pods_mount_and_read_only_their_own_configmap_and_secrets(objects, owner: str) -> None:
    names = {(o["kind"], o["metadata"]["name"]) for o in objects if o["_owner"] == owner}
    (deployment,) = owned(objects, owner, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    for volume in pod["volumes"]:
        if "configMap" in volume:
            assert ("ConfigMap", volume["configMap"]["name"]) in names
    store_targets = {o["spec"]["target"]["name"] for o in owned(objects, owner, "ExternalSecret")}
    for container in pod["containers"]:
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ("Secret", ref["name"]) in names or ref["name"] in store_targets, (owner, ref)
    assert pod["serviceAccountName"] in {name for kind, name in names if kind == "ServiceAccount"}


def test_edges_route_to_their_own_service_and_check_their_own_password(objects) -> None:
    for owner in ("chat", "chat-basic"):
        (ingress,) = owned(objects, owner, "Ingress")
        (service,) = owned(objects, owner, "Service")
        backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
        assert backends == {service["metadata"]["name"]}
    secrets = {o["metadata"]["name"] for o in owned(objects, "chat", "Secret")}
    (nginx,) = owned(objects, "chat", "Ingress")
    assert nginx["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-secret"] in secrets
    (middleware,) = owned(objects, "chat-basic", "Middleware")
    (traefik,) = owned(objects, "chat-basic", "Ingress")
    assert (
        middleware["metadata"]["name"]
        in traefik["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.middlewares"]
    )
    assert middleware["spec"]["basicAuth"]["secret"] in {
        o["metadata"]["name"] for o in owned(objects, "chat-basic", "Secret")
    }


def test_generated_passwords_are_distinct(program) -> None:
    registrations, passwords = program
    generated = [r for r in registrations if r.type == "random:index/randomPassword:RandomPassword"]
    assert sorted(r.name for r in generated) == ["chat-basic-auth-password", "chat-basic-basic-auth-password"]
    values = [unwrap_rpc_secret(passwords[name]) for name in ("chat", "chat-basic")]
    assert all(values) and values[0] != values[1]
    assert passwords["summarizer"] is None and passwords["http-chat"] is None


def test_each_service_ships_its_own_pipelines(objects) -> None:
    for owner in SERVICES:
        (configmap,) = owned(objects, owner, "ConfigMap")
        assert configmap["metadata"]["name"].startswith(f"{owner}-")
        assert "qa-prompt.yml" in configmap["data"]


def _build(*services: tuple[str, dict[str, Any]]) -> None:
    register(lambda: [HayhooksService(name, args) for name, args in services])


def test_a_namespace_created_twice_is_refused_before_the_second_service_registers() -> None:
    registered: dict[str, Any] = {}

    def run() -> None:
        HayhooksService("first", service_args("first", namespace={"name": NAMESPACE, "create": True}))
        with pytest.raises(ConfigError) as error:
            HayhooksService("second", service_args("second", namespace={"name": NAMESPACE, "create": True}))
        registered["error"] = str(error.value)

    registrations = register(run)
    assert registered["error"].startswith(
        "HayhooksService 'second': namespace.create: namespace 'apps' is already created by HayhooksService 'first'"
    )
    assert "namespace=first.namespace" in registered["error"]
    assert not [name for name in registrations if name.startswith("second")]


def test_one_host_for_two_services_is_refused() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^HayhooksService 'b': ingress\.host: host 'chat\.example\.com' is already served by "
        r"HayhooksService 'a'",
    ):
        _build(
            ("a", service_args("a", ingress=public("chat.example.com"))),
            ("b", service_args("b", ingress=public("chat.example.com"))),
        )


def test_separate_programs_do_not_see_each_others_claims() -> None:
    for _ in range(2):
        _build(
            (
                "only",
                service_args("only", namespace={"name": NAMESPACE, "create": True}, ingress=public("x.example.com")),
            )
        )


def _registrations(program) -> list[Registration]:
    return engine.run(program).registrations


def test_a_render_refuses_one_object_registered_twice_instead_of_keeping_one(tmp_path) -> None:
    """The program's own Namespace and a service that creates the same one: the claims cannot see
    the program's resources, the render can."""

    def program() -> None:
        k8s.core.v1.Namespace("apps", metadata={"name": NAMESPACE})
        HayhooksService("chat", service_args("chat", namespace={"name": NAMESPACE, "create": True}))

    with pytest.raises(DuplicateObjectError, match=r"kubernetes:core/v1:Namespace 'apps'.*'chat-namespace'"):
        write_render(tmp_path / "out", _registrations(program), {})


def test_one_name_in_two_namespaces_renders_two_manifests(tmp_path) -> None:
    def program() -> None:
        for namespace in ("blue", "green"):
            k8s.core.v1.ConfigMap(f"settings-{namespace}", metadata={"name": "settings", "namespace": namespace})

    write_render(tmp_path / "out", _registrations(program), {})
    names = sorted(p.name for p in (tmp_path / "out" / "manifests").iterdir())
    assert [name.split("-", 1)[1] for name in names] == [
        "configmap-blue-settings.yaml",
        "configmap-green-settings.yaml",
    ]
    assert len({name.split("-", 1)[0] for name in names}) == 1  # one kind, one place in the apply order


def test_the_render_cli_reports_a_duplicate_and_writes_nothing(tmp_path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: dup\nruntime: python\n")
    (project / "Pulumi.test.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text(
        "import pulumi_kubernetes as k8s\n"
        "for n in ('a', 'b'):\n"
        "    k8s.core.v1.ConfigMap(n, metadata={'name': 'same', 'namespace': 'apps'})\n"
    )
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--project-dir", str(project), "--stack", "test"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert "registers one object twice (nothing was written)" in result.stderr
    assert "ConfigMap 'a'" in result.stderr and "ConfigMap 'b'" in result.stderr
    assert not (project / "build").exists() or not any((project / "build").rglob("*.yaml"))


def _render_project(tmp_path, program: str) -> subprocess.CompletedProcess[str]:
    """Render a one-file project `program` (its stack `test` has no config)."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: dup\nruntime: python\n")
    (project / "Pulumi.test.yaml").write_text("config: {}\n")
    (project / "__main__.py").write_text(program)
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--project-dir", str(project), "--stack", "test"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_the_render_refuses_two_services_of_one_name_as_the_engine_does(tmp_path) -> None:
    """In two namespaces their objects differ, so only the URN check sees them: the engine refuses the second
    `search`, and so does the render, with the engine's message, before writing anything."""
    result = _render_project(
        tmp_path,
        "from hayhooks_pulumi import HayhooksService\n"
        "for namespace in ('blue', 'green'):\n"
        f"    HayhooksService('search', {{'profile': 'development', 'image': {IMAGE!r}, "
        f"'pipelinesPath': {str(PIPELINES)!r}, 'namespace': {{'name': namespace}}}})\n",
    )
    assert result.returncode == 2, result.stderr
    assert (
        "Duplicate resource URN 'urn:pulumi:test::dup::hayhooks:index:HayhooksService::search'; "
        "try giving it a unique name" in result.stderr
    )
    assert not (tmp_path / "project" / "build").exists()


def test_urns_carry_the_whole_parent_chain_as_the_engines_do(tmp_path) -> None:
    """`c` under `b` under `a`, and `c` under a top-level `b`: the engine's URNs differ (`A$B$C`, `B$C`), the SDK
    mock monitor's would not (it keeps only the parent's last type). A real duplicate is refused."""

    def program() -> None:
        outer = pulumi.ComponentResource("test:index:A", "a")
        inner = pulumi.ComponentResource("test:index:B", "b", opts=pulumi.ResourceOptions(parent=outer))
        k8s.core.v1.ConfigMap("c", metadata={"name": "one"}, opts=pulumi.ResourceOptions(parent=inner))
        top = pulumi.ComponentResource("test:index:B", "b2")
        k8s.core.v1.ConfigMap("c", metadata={"name": "two"}, opts=pulumi.ResourceOptions(parent=top))

    registrations = _registrations(program)
    nested = "urn:pulumi:test::test::test:index:A$test:index:B$kubernetes:core/v1:ConfigMap::c"
    assert {r.urn for r in registrations if r.name == "c"} == {
        nested,
        "urn:pulumi:test::test::test:index:B$kubernetes:core/v1:ConfigMap::c",
    }
    write_render(tmp_path / "out", registrations, {})
    twice = [*registrations, next(r for r in registrations if r.urn == nested)]
    with pytest.raises(DuplicateUrnError, match=re.escape(f"Duplicate resource URN '{nested}'; try giving it")):
        write_render(tmp_path / "again", twice, {})
