"""Secrets Store CSI driver: the SecretProviderClass, its read-only `csi` volume, synced Secrets and env,
beside the other secret sources; refusals of incomplete CSI sources."""

from __future__ import annotations

from typing import Any

import pytest
from helpers.edges import build
from helpers.kubernetes import base_args, by_kind, container, env_of, given_name, of_kind, pod, problem_at

VAULT = {
    "provider": "vault",
    "parameters": {
        "vaultAddress": "https://vault.example.com",
        "roleName": "hayhooks",
        "objects": "- objectName: llm\n  secretPath: secret/data/llm\n  secretKey: key\n",
    },
}
# Pod Security `restricted` allows only these volume types.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def csi_args(secrets: dict[str, Any], **spc: Any) -> dict[str, Any]:
    return base_args(secretProviderClass={**VAULT, **spc}, secrets=secrets)


@pytest.fixture(scope="module")
def mixed() -> dict:
    secrets = {
        "LLM_KEY": {"fromCsi": {"objectName": "llm"}},
        "CA_FILE": {"fromCsi": {"objectName": "ca.pem", "sync": False}},
        "STORE_KEY": {"fromStore": {"remoteKey": "prod/x"}},
        "DB_PASSWORD": {"fromSecret": {"name": "db", "key": "password"}},
        "TOKEN": {"fromConfig": "token"},
    }
    args = csi_args(secrets)
    args["secretStore"] = {"name": "vault-backend"}
    registrations, _ = build(args, secret_values={"TOKEN": "t"})
    return registrations


def test_secret_provider_class_names_the_provider_its_parameters_and_what_it_syncs(mixed) -> None:
    spc = by_kind(mixed, "SecretProviderClass")
    assert spc["apiVersion"] == "secrets-store.csi.x-k8s.io/v1"
    assert spc["metadata"]["namespace"] == "hayhooks"
    assert spc["spec"]["provider"] == "vault"
    assert spc["spec"]["parameters"] == VAULT["parameters"]
    # Only the synced object; the file-only one never becomes a Secret.
    assert spc["spec"]["secretObjects"] == [
        {
            "secretName": "hh-csi",
            "type": "Opaque",
            "labels": spc["metadata"]["labels"],
            "data": [{"objectName": "llm", "key": "LLM_KEY"}],
        }
    ]


def test_the_pod_mounts_a_read_only_csi_volume_of_that_class(mixed) -> None:
    spc = by_kind(mixed, "SecretProviderClass")
    volumes = {v["name"]: v for v in pod(mixed)["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in container(mixed)["volumeMounts"]}
    mount = mounts["/mnt/secrets-store"]
    assert mount["readOnly"] is True
    csi = volumes[mount["name"]]["csi"]
    assert csi == {
        "driver": "secrets-store.csi.k8s.io",
        "readOnly": True,
        "volumeAttributes": {"secretProviderClass": spc["metadata"]["name"]},
    }
    for volume in pod(mixed)["spec"]["volumes"]:
        assert set(volume) - {"name"} <= RESTRICTED_VOLUMES, volume


def test_each_variable_reads_its_own_source(mixed) -> None:
    env = env_of(mixed)
    assert env["LLM_KEY"] == {"secretKeyRef": {"name": "hh-csi", "key": "LLM_KEY"}}
    assert env["CA_FILE"] == "/mnt/secrets-store/ca.pem"
    assert env["STORE_KEY"] == {"secretKeyRef": {"name": "hh-store", "key": "STORE_KEY"}}
    assert env["DB_PASSWORD"] == {"secretKeyRef": {"name": "db", "key": "password"}}
    assert env["TOKEN"] == {"secretKeyRef": {"name": given_name(mixed["hh-config-secret"]), "key": "TOKEN"}}
    assert [e["spec"]["data"][0]["secretKey"] for e in of_kind(mixed, "ExternalSecret")] == ["STORE_KEY"]


def test_a_class_without_fromcsi_secrets_is_mounted_for_files_only() -> None:
    registrations, _ = build(csi_args({}, mountPath="/var/run/secrets/store", nodePublishSecretName="azure-creds"))
    assert "secretObjects" not in by_kind(registrations, "SecretProviderClass")["spec"]
    mounts = {m["mountPath"] for m in container(registrations)["volumeMounts"]}
    assert "/var/run/secrets/store" in mounts
    (csi,) = [v["csi"] for v in pod(registrations)["spec"]["volumes"] if "csi" in v]
    assert csi["nodePublishSecretRef"] == {"name": "azure-creds"}


def test_without_a_class_there_is_no_csi_volume() -> None:
    registrations, _ = build(base_args())
    assert not of_kind(registrations, "SecretProviderClass")
    assert not [v for v in pod(registrations)["spec"]["volumes"] if "csi" in v]


@pytest.mark.parametrize(
    ("args", "path", "message"),
    [
        (base_args(secretProviderClass={"parameters": {"roleName": "x"}}), "secretProviderClass.provider", "required"),
        (
            base_args(secrets={"K": {"fromCsi": {"objectName": "k"}}}),
            "secretProviderClass",
            "required by secrets.K.fromCsi",
        ),
        (csi_args({"K": {"fromCsi": {}}}), "secrets.K.fromCsi.objectName", "required"),
        (csi_args({"K": {"fromCsi": {"objectName": "../k"}}}), "secrets.K.fromCsi.objectName", "not a file name"),
        (csi_args({"K": {"fromCsi": {"objectName": "dir/k"}}}), "secrets.K.fromCsi.objectName", "not a file name"),
        (
            csi_args({"K": {"fromCsi": {"objectName": "k"}, "fromSecret": {"name": "s", "key": "k"}}}),
            "secrets.K",
            "exactly one of fromStore, fromSecret, fromConfig, fromCsi",
        ),
        (csi_args({}, provider="Vault Provider"), "secretProviderClass.provider", "not a DNS label"),
        (csi_args({}, mountPath="relative"), "secretProviderClass.mountPath", "absolute path"),
        (
            csi_args({}, mountPath="/tmp/secrets"),
            "secretProviderClass.mountPath",
            "overlaps the container's mount at /tmp",
        ),
        (csi_args({}, mountPath="/opt/hayhooks"), "secretProviderClass.mountPath", "/opt/hayhooks/pipelines"),
    ],
)
def test_incomplete_csi_sources_are_refused_naming_the_key(args: dict[str, Any], path: str, message: str) -> None:
    assert message in problem_at(args, path)
