"""Every Kubernetes object a HayhooksService registers says which stack manages it, so that a second stack with
the same settings is refused by server-side apply instead of taking the objects over (tests/e2e/test_faults.py
shows the refusal against the real API server)."""

from __future__ import annotations

from hayhooks_pulumi import HayhooksService
from hayhooks_pulumi.kubernetes.metadata import STACK_ANNOTATION
from helpers.engine import register
from helpers.kubernetes import base_args


def registered_metadata(project: str, stack: str, **overrides: object) -> dict[str, dict]:
    def program() -> None:
        HayhooksService("hh", base_args(**overrides))

    found = {}
    for name, registration in register(program, project=project, stack=stack).items():
        if registration.type.startswith("kubernetes:") and "metadata" in registration.inputs:
            found[name] = registration.inputs["metadata"]
    return found


def test_each_object_names_the_project_and_stack_that_manage_it() -> None:
    metadata = registered_metadata("platform", "prod-eu")
    assert {"hh-namespace", "hh-deployment", "hh-service", "hh-ingress", "hh-basic-auth"} <= set(metadata)
    for name, meta in metadata.items():
        assert meta["annotations"][STACK_ANNOTATION] == "platform/prod-eu", name


def test_another_stack_writes_another_value_and_an_adopted_namespace_none() -> None:
    other = registered_metadata("platform", "staging")
    assert {m["annotations"][STACK_ANNOTATION] for m in other.values()} == {"platform/staging"}
    # `namespace.adopt` patches the labels of a namespace others may manage too: it claims no ownership.
    adopted = registered_metadata("platform", "prod-eu", namespace={"name": "hayhooks", "adopt": True})
    assert STACK_ANNOTATION not in (adopted["hh-namespace"].get("annotations") or {})
