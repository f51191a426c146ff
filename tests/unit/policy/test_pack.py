"""The CrossGuard adapters: the policy objects called in-process, and the pack process spoken to over
the analyzer protocol the Pulumi engine uses (gRPC), with an enforcement level set by policy config."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from hayhooks_pulumi.policy.catalog import STACK_RULES, WORKLOAD_RULES, Rule
from hayhooks_pulumi.policy.pack import PACK_NAME, policies
from helpers.manifests import (
    NGINX_BASIC,
    Manifest,
    ingress,
    insecure_deployment,
    resource,
    secure_deployment,
    service,
)
from helpers.paths import REPO
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

OPTIONS = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def urn(manifest: Manifest) -> str:
    return f"urn:pulumi:prod::hayhooks::{resource(manifest).type}::{manifest['metadata']['name']}"


def resource_args(manifest: Manifest, proxy: bool = False) -> ResourceValidationArgs:
    """What the engine passes a resource policy: the type token and the camelCase inputs (behind its proxy)."""
    props = unknown_checking_proxy(manifest) if proxy else manifest
    type_ = resource(manifest).type
    return ResourceValidationArgs(type_, props, urn(manifest), manifest["metadata"]["name"], OPTIONS, None)


def stack_args(manifests: list[Manifest], config: dict[str, Any] | None = None) -> StackValidationArgs:
    resources = [
        PolicyResource(
            resource(m).type,
            unknown_checking_proxy(m),
            urn(m),
            m["metadata"]["name"],
            OPTIONS,
            None,
            None,
            [],
            {},
        )
        for m in manifests
    ]
    return StackValidationArgs(resources, config)


def by_name() -> dict[str, Any]:
    return {policy.name: policy for policy in policies()}


def reports(policy: Any, args: Any) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    result = policy.validate(args, lambda message, urn=None: found.append((message, urn)))
    assert result is None  # the validations are synchronous
    return found


def test_one_policy_per_rule_of_the_right_kind() -> None:
    found = policies()

    assert [p.name for p in found] == [rule.value for rule in (*WORKLOAD_RULES, *STACK_RULES)]
    assert all(isinstance(p, ResourceValidationPolicy) for p in found[: len(WORKLOAD_RULES)])
    assert all(isinstance(p, StackValidationPolicy) for p in found[len(WORKLOAD_RULES) :])
    # The pack's default (mandatory) applies unless the policy config sets a level.
    assert {p.enforcement_level for p in found} == {None}
    assert set(by_name()[Rule.EDGE_AUTH].config_schema.properties) == {"trustedMiddlewares", "trustedGateways"}


def test_each_resource_policy_reports_its_own_rule_on_the_insecure_deployment() -> None:
    reported = {
        name
        for name, policy in by_name().items()
        if name in set(WORKLOAD_RULES) and reports(policy, resource_args(insecure_deployment(), proxy=True))
    }

    assert reported == {rule.value for rule in WORKLOAD_RULES}
    [(message, target)] = reports(by_name()[Rule.MEMORY_LIMIT], resource_args(insecure_deployment()))
    assert message == (
        "Deployment ai/assistant container server: no resources.limits.memory: a pod without one can starve its node"
    )
    assert target is None


def test_resource_policies_pass_a_secure_deployment_and_other_types() -> None:
    secure = resource_args(secure_deployment(), proxy=True)
    bucket = ResourceValidationArgs("aws:s3/bucket:Bucket", {"acl": "public-read"}, "urn:b", "b", OPTIONS, None)

    for name in WORKLOAD_RULES:
        assert reports(by_name()[name], secure) == []
        assert reports(by_name()[name], bucket) == []


def test_a_value_unknown_in_preview_stops_only_the_rules_that_read_it() -> None:
    """The engine turns the error into "can't run policy ... during preview"; `pulumi up` checks the known value."""
    manifest = secure_deployment()
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    container["image"] = UNKNOWN_STRING_VALUE  # e.g. an image built in the same update

    # Without a command, whether it runs Hayhooks depends on the image.
    for rule in (Rule.IMAGE_DIGEST, Rule.MEMORY_LIMIT):
        with pytest.raises(UnknownValueError) as error:
            reports(by_name()[rule], resource_args(manifest, proxy=True))
        assert error.value.message == (
            "string value at .spec.template.spec.containers.0.image can't be known during preview"
        )
    # Running the hayhooks command, only the digest rule needs the image.
    container["command"] = ["hayhooks", "run"]
    with pytest.raises(UnknownValueError):
        reports(by_name()[Rule.IMAGE_DIGEST], resource_args(manifest, proxy=True))
    assert reports(by_name()[Rule.MEMORY_LIMIT], resource_args(manifest, proxy=True)) == []


def test_stack_policies_report_on_the_offending_resource_and_read_their_config() -> None:
    traefik = ingress(
        [("/", "Prefix")],
        annotations={"traefik.ingress.kubernetes.io/router.middlewares": "sso@file"},
        class_name="traefik",
    )
    manifests = [secure_deployment(), service(), traefik]

    [(auth_message, auth_urn)] = reports(by_name()[Rule.EDGE_AUTH], stack_args(manifests))
    [(upload_message, upload_urn)] = reports(by_name()[Rule.NO_UPLOAD_ROUTES], stack_args(manifests))
    assert auth_message.startswith("Ingress ai/assistant: routes to Hayhooks without authentication")
    assert upload_message.startswith("Ingress ai/assistant: path '/' (Prefix) routes /deploy_files, /deploy-yaml")
    assert auth_urn == upload_urn == urn(traefik)
    assert reports(by_name()[Rule.EDGE_AUTH], stack_args(manifests, {"trustedMiddlewares": ["sso@file"]})) == []


# ---------------------------------------------------------------- the pack process, as the engine runs it


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """`policies/__main__.py` started the way Pulumi starts a policy pack: it prints its port and serves."""
    process = subprocess.Popen(
        [sys.executable, "__main__.py"], cwd=REPO / "policies", stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), f"the pack printed {port!r} instead of its port"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=10)


def struct(manifest: Manifest) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(manifest)
    return message


def analyze(stub: analyzer_pb2_grpc.AnalyzerStub, manifest: Manifest) -> dict[str, int]:
    request = analyzer_pb2.AnalyzeRequest(
        type=resource(manifest).type, properties=struct(manifest), urn=urn(manifest), name="assistant"
    )
    return {d.policyName: d.enforcementLevel for d in stub.Analyze(request).diagnostics}


def test_the_pack_serves_every_policy_as_mandatory(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())

    assert info.name == PACK_NAME
    assert {p.name: p.enforcementLevel for p in info.policies} == {rule.value: analyzer_pb2.MANDATORY for rule in Rule}


def test_the_pack_reports_the_insecure_deployment_and_takes_a_configured_level(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    assert analyze(analyzer, secure_deployment()) == {}
    assert analyze(analyzer, insecure_deployment()) == {rule.value: analyzer_pb2.MANDATORY for rule in WORKLOAD_RULES}

    # What `--policy-pack-config` with {"hayhooks-memory-limit": "advisory"} sends.
    advisory = analyzer_pb2.PolicyConfig(enforcementLevel=analyzer_pb2.ADVISORY)
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={Rule.MEMORY_LIMIT.value: advisory}))
    try:
        levels = analyze(analyzer, insecure_deployment())
        assert levels[Rule.MEMORY_LIMIT.value] == analyzer_pb2.ADVISORY
        assert levels[Rule.IMAGE_DIGEST.value] == analyzer_pb2.MANDATORY
    finally:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={}))


def test_the_pack_checks_the_stack_edge(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    def analyze_stack(*manifests: Manifest) -> set[tuple[str, str]]:
        resources = [
            analyzer_pb2.AnalyzerResource(type=resource(m).type, properties=struct(m), urn=urn(m), name="x")
            for m in manifests
        ]
        response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=resources))
        return {(d.policyName, d.urn) for d in response.diagnostics}

    open_ingress = ingress([("/", "Prefix")])
    assert analyze_stack(secure_deployment(), service(), ingress(annotations=NGINX_BASIC)) == set()
    assert analyze_stack(secure_deployment(), service(), open_ingress) == {
        (Rule.EDGE_AUTH.value, urn(open_ingress)),
        (Rule.NO_UPLOAD_ROUTES.value, urn(open_ingress)),
    }


def test_a_violation_in_an_object_the_component_made_names_the_key_that_sets_it() -> None:
    # In `pulumi preview` the URN's type chain says a HayhooksService made the Deployment.
    manifest = insecure_deployment()
    made = ResourceValidationArgs(
        resource(manifest).type,
        manifest,
        "urn:pulumi:prod::hayhooks::hayhooks:index:HayhooksService$kubernetes:apps/v1:Deployment::hayhooks-deployment",
        "hayhooks-deployment",
        OPTIONS,
        None,
    )
    [(message, _)] = reports(by_name()[Rule.NO_TRACEBACKS], made)
    assert message.endswith("(set by server.showTracebacks of HayhooksService)"), message
    [(message, _)] = reports(by_name()[Rule.MEMORY_LIMIT], made)
    assert message.endswith("(set by resources.memoryLimit of HayhooksService)"), message
    # A workload of the user's own: the variable alone, no key of ours.
    [(message, _)] = reports(by_name()[Rule.NO_TRACEBACKS], resource_args(manifest))
    assert "set by" not in message
