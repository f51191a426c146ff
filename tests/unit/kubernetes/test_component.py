"""HayhooksService under the SDK mock engine: what each Kubernetes resource receives (camelCase)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import bcrypt
import pulumi
import pytest
from hayhooks_pulumi import ConfigError
from hayhooks_pulumi.render.mocks import random_password
from helpers.kubernetes import (
    DIGEST,
    IMAGE,
    base_args,
    build,
    by_kind,
    container,
    env_of,
    given_name,
    name_of_kind,
    pod,
)
from helpers.paths import REPO
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret
from pulumi.runtime.sync_await import _sync_await

RECOMMENDED = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
}


@pytest.fixture(scope="module")
def prod() -> tuple[dict, dict]:
    return build(base_args(requiredPipelines=["greeter"]))


def test_the_env_output_is_the_containers_env_minus_secrets_with_home_and_cache() -> None:
    cache = {"mountPath": "/models", "env": ["HF_HOME", "SENTENCE_TRANSFORMERS_HOME"]}
    secrets = {"LLM_API_KEY": {"fromSecret": {"name": "llm", "key": "api-key"}}}
    registrations, outputs = build(base_args(cache=cache, secrets=secrets))
    entries = container(registrations)["env"]
    plain = {e["name"]: e["value"] for e in entries if "valueFrom" not in e}
    assert outputs["env"] == plain
    assert list(outputs["env"]) == list(plain)  # the same order, so a diff of the two reads as none
    assert (plain["HOME"], plain["HF_HOME"], plain["SENTENCE_TRANSFORMERS_HOME"]) == (
        "/home/hayhooks",
        "/models",
        "/models",
    )
    assert [e["name"] for e in entries if "valueFrom" in e] == ["LLM_API_KEY"]


def test_registers_every_object_as_child_of_the_component(prod) -> None:
    registrations, _ = prod
    types = sorted(r.type.rsplit(":", 1)[-1] for r in registrations.values())
    assert types == sorted(
        [
            "HayhooksService",
            "Namespace",
            "ServiceAccount",
            "ConfigMap",
            "Deployment",
            "Service",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Ingress",
            "Secret",
            "RandomPassword",
        ]
    )
    component = registrations["hh"]
    assert component.type == "hayhooks:index:HayhooksService"
    assert all(r.parent_urn == component.urn for n, r in registrations.items() if n != "hh")


def test_every_object_names_its_namespace_and_carries_recommended_labels(prod) -> None:
    registrations, _ = prod
    for reg in registrations.values():
        if not reg.type.startswith("kubernetes:"):
            continue
        meta = reg.inputs["metadata"]
        assert set(meta["labels"]) >= RECOMMENDED, reg.name
        assert meta["labels"]["app.kubernetes.io/version"] == "v2.1.0"
        if reg.type != "kubernetes:core/v1:Namespace":
            assert meta["namespace"] == "hayhooks", reg.name


def test_namespace_enforces_restricted_pod_security(prod) -> None:
    labels = by_kind(prod[0], "Namespace")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_pod_is_restricted_and_never_mounts_a_token(prod) -> None:
    registrations, _ = prod
    spec = pod(registrations)["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert spec["enableServiceLinks"] is False
    assert by_kind(registrations, "ServiceAccount")["automountServiceAccountToken"] is False
    assert spec["serviceAccountName"] == by_kind(registrations, "ServiceAccount")["metadata"]["name"]
    pod_sc = spec["securityContext"]
    assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] >= 10000 and pod_sc["runAsGroup"] >= 10000
    assert pod_sc["fsGroup"] >= 10000 and pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = container(registrations)["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]} and sc["runAsNonRoot"] is True


def test_writable_tmp_and_home_and_read_only_pipelines(prod) -> None:
    registrations, _ = prod
    mounts = {m["mountPath"]: m for m in container(registrations)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod(registrations)["spec"]["volumes"]}
    pipelines_dir = env_of(registrations)["HAYHOOKS_PIPELINES_DIR"]
    assert mounts[pipelines_dir]["readOnly"] is True
    assert "configMap" in volumes[mounts[pipelines_dir]["name"]]
    for path in ("/tmp", env_of(registrations)["HOME"]):
        assert "emptyDir" in volumes[mounts[path]["name"]] and not mounts[path].get("readOnly")


def test_configmap_keys_map_back_to_pipeline_paths(prod) -> None:
    registrations, _ = prod
    configmap = by_kind(registrations, "ConfigMap")
    items = next(v for v in pod(registrations)["spec"]["volumes"] if "configMap" in v)["configMap"]["items"]
    assert all("/" not in key for key in configmap["data"])
    paths = {item["path"]: configmap["data"][item["key"]] for item in items}
    assert paths == {
        "greeter/pipeline_wrapper.py": (REPO / "pipelines/greeter/pipeline_wrapper.py").read_text(),
        "qa-prompt.yml": (REPO / "pipelines/qa-prompt.yml").read_text(),
    }


def mounted_configmap(registrations: dict) -> str:
    (volume,) = [v for v in pod(registrations)["spec"]["volumes"] if "configMap" in v]
    return volume["configMap"]["name"]


def test_a_pipeline_change_is_a_new_immutable_configmap_that_rolls_the_pods(tmp_path: Path) -> None:
    pipeline = (REPO / "pipelines/qa-prompt.yml").read_text()
    (tmp_path / "echo.yml").write_text(pipeline)
    first = build(base_args(pipelinesPath=str(tmp_path)))[0]
    (tmp_path / "echo.yml").write_text(pipeline + "\n# changed\n")
    second = build(base_args(pipelinesPath=str(tmp_path)))[0]
    names = []
    for registrations in (first, second):
        configmap = by_kind(registrations, "ConfigMap")
        # Old pods (mid-rollout, restarting, or after `kubectl rollout undo`) never see content change under them.
        assert configmap["immutable"] is True
        assert configmap["metadata"]["name"] == mounted_configmap(registrations)
        assert re.fullmatch(r"hh-pipelines-[0-9a-f]{8}", configmap["metadata"]["name"])
        # One mechanism rolls the pods: the ConfigMap's name in the pod template, no checksum annotation.
        assert "annotations" not in pod(registrations)["metadata"]
        names.append(configmap["metadata"]["name"])
    assert names[0] != names[1]
    # The Pulumi resource keeps its name, so a change is a replacement (create, repoint, delete), not a new resource.
    assert "hh-pipelines" in first and "hh-pipelines" in second


def test_server_runs_one_worker_with_host_and_port_explicit(prod) -> None:
    c = container(prod[0])
    assert c["command"] == ["hayhooks"]
    assert c["args"] == ["run", "--host", "0.0.0.0", "--port", "1416", "--workers", "1"]
    assert c["image"] == IMAGE
    assert c["ports"] == [{"name": "http", "containerPort": 1416, "protocol": "TCP"}]
    env = env_of(prod[0])
    assert env["HAYHOOKS_PORT"] == "1416" and "WEB_CONCURRENCY" not in env


def test_probes_startup_on_status_readiness_per_pipeline_liveness_on_tcp(prod) -> None:
    c = container(prod[0])
    startup, readiness, liveness = c["startupProbe"], c["readinessProbe"], c["livenessProbe"]
    assert startup["httpGet"]["path"] == "/status"
    assert startup["failureThreshold"] * startup["periodSeconds"] >= 180
    assert readiness["httpGet"]["path"] == "/status/greeter"
    assert "tcpSocket" in liveness and liveness != readiness


def test_several_required_pipelines_are_all_checked_for_readiness() -> None:
    registrations, _ = build(base_args(requiredPipelines=["greeter", "qa-prompt"]))
    probe = container(registrations)["readinessProbe"]
    command = probe["exec"]["command"]
    assert command[:2] == ["python", "-c"]
    # One GET /status whatever the number of pipelines (N requests of 2 s each outran the probe's timeout).
    assert command[2].count("urlopen(") == 1 and "'http://127.0.0.1:1416/status'" in command[2]
    assert "['greeter', 'qa-prompt']" in command[2] and "/status/greeter" not in command[2]
    request_timeout = int(re.search(r"timeout=(\d+)", command[2]).group(1))
    assert request_timeout < probe["timeoutSeconds"]


def test_readiness_falls_back_to_status_without_required_pipelines() -> None:
    registrations, _ = build(base_args())
    assert container(registrations)["readinessProbe"]["httpGet"]["path"] == "/status"


def test_graceful_shutdown_outlasts_the_server_drain_and_a_prestop_pause(prod) -> None:
    registrations, _ = prod
    spec = pod(registrations)["spec"]
    drain = int(env_of(registrations)["HAYHOOKS_GRACEFUL_SHUTDOWN_TIMEOUT"])
    pause = container(registrations)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause > 0 and spec["terminationGracePeriodSeconds"] > drain + pause


def test_prestop_pause_is_configurable_and_zero_removes_the_hook_for_clusters_before_1_30() -> None:
    registrations, _ = build(base_args(lifecycle={"preStopSleepSeconds": 12}))
    assert container(registrations)["lifecycle"] == {"preStop": {"sleep": {"seconds": 12}}}
    grace = pod(registrations)["spec"]["terminationGracePeriodSeconds"]
    registrations, _ = build(base_args(lifecycle={"preStopSleepSeconds": 0}))
    assert "lifecycle" not in container(registrations)
    # The grace period shrinks with the pause, and still covers the server's drain.
    drain = int(env_of(registrations)["HAYHOOKS_GRACEFUL_SHUTDOWN_TIMEOUT"])
    assert drain < pod(registrations)["spec"]["terminationGracePeriodSeconds"] == grace - 12


def test_rollout_keeps_capacity_and_spreads_over_nodes_and_zones(prod) -> None:
    spec = by_kind(prod[0], "Deployment")["spec"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    keys = {c["topologyKey"] for c in spec["template"]["spec"]["topologySpreadConstraints"]}
    assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}


def test_resources_require_memory_limit_and_cpu_limit_is_removable(prod) -> None:
    resources = container(prod[0])["resources"]
    assert set(resources["limits"]) == {"memory", "ephemeral-storage"} and resources["limits"]["memory"] == "2Gi"
    assert set(resources["requests"]) == {"cpu", "memory", "ephemeral-storage"}
    registrations, _ = build(base_args(resources={"cpuLimit": "2", "memoryLimit": "3Gi"}))
    limits = container(registrations)["resources"]["limits"]
    assert (limits["cpu"], limits["memory"]) == ("2", "3Gi")


def test_replicas_left_to_the_autoscaler() -> None:
    fixed = build(base_args(replicas=3))[0]
    assert by_kind(fixed, "Deployment")["spec"]["replicas"] == 3
    assert fixed["hh-deployment"].ignore_changes == []
    registrations, _ = build(base_args(autoscaling={"enabled": True, "minReplicas": 2, "maxReplicas": 5}))
    # Steady state: no replicas in the manifest (scanners flag a count an HPA fights over) ...
    assert "replicas" not in by_kind(registrations, "Deployment")["spec"]
    # ... and enabling autoscaling later never applies that removal: with spec.replicas ignored, the engine keeps
    # the previous count and pulumi-kubernetes' server-side apply sends the live one until the HPA owns the field.
    assert registrations["hh-deployment"].ignore_changes == ["spec.replicas"]
    hpa = by_kind(registrations, "HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hh"}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_disruption_budget_never_blocks_drains_and_selects_only_this_service(prod) -> None:
    registrations, _ = prod
    pdb = by_kind(registrations, "PodDisruptionBudget")["spec"]
    assert pdb["maxUnavailable"] >= 1
    assert pdb["selector"]["matchLabels"].items() <= pod(registrations)["metadata"]["labels"].items()


def test_service_name_never_lands_link_variables_on_hayhooks_prefix(prod) -> None:
    registrations, outputs = prod
    service = by_kind(registrations, "Service")
    name = service["metadata"]["name"]
    link_prefix = name.upper().replace("-", "_")
    assert not link_prefix.startswith("HAYHOOKS")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"].items() <= pod(registrations)["metadata"]["labels"].items()
    assert outputs["service_name"] == name
    assert outputs["internal_url"] == f"http://{name}.hayhooks.svc.cluster.local"


def test_network_policy_denies_by_default_and_allows_ingress_controller_dns_and_https(prod) -> None:
    registrations, _ = prod
    policy = by_kind(registrations, "NetworkPolicy")["spec"]
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    assert policy["podSelector"]["matchLabels"].items() <= pod(registrations)["metadata"]["labels"].items()
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"port": 1416, "protocol": "TCP"}]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    dns, https, https_ipv6 = policy["egress"]
    assert https_ipv6["to"][0]["ipBlock"]["cidr"] == "::/0"
    assert {p["port"] for p in dns["ports"]} == {53}
    assert https["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert "10.0.0.0/8" in https["to"][0]["ipBlock"]["except"]


def test_ingress_routes_only_client_paths_with_basic_auth(prod) -> None:
    registrations, outputs = prod
    ingress = by_kind(registrations, "Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-type"] == "basic"
    assert annotations["nginx.ingress.kubernetes.io/auth-secret"] == name_of_kind(registrations, "Secret")
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    (rule,) = ingress["spec"]["rules"]
    paths = {p["path"]: p["pathType"] for p in rule["http"]["paths"]}
    assert set(paths.values()) == {"Exact"}
    assert {"/greeter/run", "/qa-prompt/run", "/v1/chat/completions", "/status"} <= set(paths)
    assert not any(p.startswith(("/deploy", "/undeploy", "/docs", "/traces", "/files")) for p in paths)
    assert ingress["spec"]["tls"] == [{"hosts": ["hayhooks.example.com"], "secretName": "hayhooks-tls"}]
    assert outputs["public_url"] == "https://hayhooks.example.com"


def test_htpasswd_comes_from_the_generated_bcrypt_hash_and_password_is_a_secret_output(prod) -> None:
    registrations, outputs = prod
    secret = by_kind(registrations, "Secret")
    assert is_rpc_secret(secret["stringData"])
    line = unwrap_rpc_secret(secret["stringData"])["auth"]
    user, hashed = line.strip().split(":", 1)
    password = random_password("hh-basic-auth-password", {"length": 32})["result"]
    assert user == "hayhooks" and bcrypt.checkpw(password.encode(), hashed.encode())
    assert outputs["basic_auth_password"] == password
    assert _sync_await(outputs["password_output"].is_secret()) is True


def test_traefik_gets_a_basic_auth_middleware_referenced_by_annotation() -> None:
    ingress_spec = {"host": "h.example.com", "tlsSecretName": "tls", "controller": "traefik"}
    registrations, _ = build(base_args(ingress=ingress_spec))
    middleware = registrations["hh-auth-middleware"].inputs
    secret = by_kind(registrations, "Secret")
    assert middleware["apiVersion"] == "traefik.io/v1alpha1"
    assert middleware["metadata"]["name"] == "hh-auth"
    assert middleware["spec"]["basicAuth"]["secret"] == name_of_kind(registrations, "Secret")
    assert set(unwrap_rpc_secret(secret["stringData"])) == {"users"}
    annotations = by_kind(registrations, "Ingress")["metadata"]["annotations"]
    # CORS first: it answers browsers' preflights, which carry no credentials, before the authentication.
    assert (
        annotations["traefik.ingress.kubernetes.io/router.middlewares"]
        == "hayhooks-hh-cors@kubernetescrd,hayhooks-hh-auth@kubernetescrd"
    )
    assert by_kind(registrations, "Ingress")["spec"]["ingressClassName"] == "traefik"


SECRETS = {
    "LLM_KEY": {"fromStore": {"remoteKey": "prod/llm", "property": "api_key"}},
    "DB_PASSWORD": {"fromSecret": {"name": "db", "key": "password"}},
    "WEBHOOK_TOKEN": {"fromConfig": "webhookToken"},
}


def test_secrets_from_store_existing_secret_and_config() -> None:
    plaintext = "s3cr3t-plaintext-value"
    args = base_args(secretStore={"name": "vault", "kind": "ClusterSecretStore"}, secrets=SECRETS)
    registrations, _ = build(args, secret_values={"WEBHOOK_TOKEN": plaintext})
    external = by_kind(registrations, "ExternalSecret")
    assert external["apiVersion"] == "external-secrets.io/v1"
    assert external["spec"]["secretStoreRef"] == {"name": "vault", "kind": "ClusterSecretStore"}
    assert external["spec"]["refreshInterval"] == "1h"
    assert external["spec"]["data"] == [
        {"secretKey": "LLM_KEY", "remoteRef": {"key": "prod/llm", "property": "api_key"}}
    ]
    env = env_of(registrations)
    assert env["LLM_KEY"] == {"secretKeyRef": {"name": external["spec"]["target"]["name"], "key": "LLM_KEY"}}
    assert env["DB_PASSWORD"] == {"secretKeyRef": {"name": "db", "key": "password"}}
    config_secret = registrations["hh-config-secret"].inputs
    name = given_name(registrations["hh-config-secret"])
    assert env["WEBHOOK_TOKEN"] == {"secretKeyRef": {"name": name, "key": "WEBHOOK_TOKEN"}}
    assert is_rpc_secret(config_secret["stringData"])
    # Secret hygiene: the plaintext appears nowhere but inside the secret-marked Secret data.
    for name, reg in registrations.items():
        inputs = dict(reg.inputs)
        if name == "hh-config-secret":
            inputs.pop("stringData")
        assert plaintext not in json.dumps(inputs, default=str), name


def test_existing_namespace_is_used_not_created() -> None:
    registrations, _ = build(base_args(namespace={"name": "team-ai", "create": False}))
    assert not [r for r in registrations.values() if r.type.endswith(":Namespace")]
    assert by_kind(registrations, "Deployment")["metadata"]["namespace"] == "team-ai"


def test_image_given_as_an_output_is_validated_inside_apply() -> None:
    # Its tag cannot say the release before deploy time: `server.version` does.
    args = base_args(image=None)
    args["server"] = {**args["server"], "version": "2.1.0"}
    registrations, outputs = build(args, image=pulumi.Output.from_input(IMAGE))
    assert container(registrations)["image"] == IMAGE and outputs["image"] == IMAGE
    assert outputs["image_digest"] == DIGEST
    with pytest.raises(ConfigError, match="not pinned by digest"):
        build(args, image=pulumi.Output.from_input("deepset/hayhooks:v2.1.0"))


def test_a_second_run_registers_identical_inputs() -> None:
    def snapshot() -> str:
        registrations, _ = build(base_args(requiredPipelines=["greeter"]))
        return json.dumps({n: r.inputs for n, r in registrations.items()}, sort_keys=True, default=str)

    assert snapshot() == snapshot()
