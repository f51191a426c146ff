"""What a program gives a HayhooksService besides its args (issue 19): the image once (the `image=` keyword or
`args.image`, never both differing), and a namespace another resource creates as that resource's own Output (the
`namespace=` keyword), so that the dependency comes from the data instead of a `depends_on` nothing enforces."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from hayhooks_pulumi import ConfigError, HayhooksService
from hayhooks_pulumi.render.mocks import Registration
from helpers import engine
from helpers.kubernetes import base_args, problem_at

OTHER_DIGEST = "deepset/hayhooks:v2.1.0@sha256:" + "cd" * 32


def _objects(registrations: list[Registration], owner: str) -> list[Registration]:
    """The Kubernetes objects (with metadata) a service registered, by the resource names it gives them."""
    return [
        r
        for r in registrations
        if r.name.startswith(f"{owner}-") and r.type.startswith("kubernetes:") and "metadata" in r.inputs
    ]


# ---------------------------------------------------------------------------------------------------------------
# the image


def test_an_image_given_twice_differently_is_refused() -> None:
    message = problem_at(base_args(), "image", image=OTHER_DIGEST)
    assert message.startswith("given twice") and "the image= keyword" in message and "give it once" in message
    output = problem_at(base_args(), "image", image=pulumi.Output.from_input(OTHER_DIGEST))
    assert "as an Output" in output or "an Output" in output


def test_the_same_image_both_ways_or_the_keyword_alone_is_accepted() -> None:
    args = base_args()
    registrations = engine.run(lambda: HayhooksService("hh", args, image=args["image"])).registrations
    assert any(r.type == "kubernetes:apps/v1:Deployment" for r in registrations)
    without = {key: value for key, value in args.items() if key != "image"}
    registrations = engine.run(lambda: HayhooksService("hh", without, image=OTHER_DIGEST)).registrations
    [deployment] = [r for r in registrations if r.type == "kubernetes:apps/v1:Deployment"]
    assert deployment.inputs["spec"]["template"]["spec"]["containers"][0]["image"] == OTHER_DIGEST


# ---------------------------------------------------------------------------------------------------------------
# the namespace


def _second(**overrides: Any) -> dict[str, Any]:
    args = base_args(ingress={"host": "second.example.com", "tlsSecretName": "second-tls"}, **overrides)
    return args


def test_a_service_placed_by_another_services_namespace_output_waits_for_its_namespace() -> None:
    def program() -> None:
        first = HayhooksService("first", base_args(namespace={"name": "apps"}))
        HayhooksService("second", _second(), namespace=first.namespace)

    registrations = engine.run(program).registrations
    [namespace] = [r for r in registrations if r.type == "kubernetes:core/v1:Namespace"]
    assert namespace.name == "first-namespace"
    second = _objects(registrations, "second")
    assert second, "the second service registered nothing"
    for registration in second:
        assert registration.inputs["metadata"]["namespace"] == "apps", registration.name
        # The dependency comes from the data: nothing in the program asked for it.
        assert namespace.urn in registration.dependencies, registration.name


def test_your_own_namespace_output_places_the_service_with_the_name_written_once_more() -> None:
    def program() -> None:
        own = k8s.core.v1.Namespace("team", metadata={"name": "team"})
        HayhooksService("svc", _second(namespace={"name": "team"}), namespace=own.metadata.name)

    registrations = engine.run(program).registrations
    [namespace] = [r for r in registrations if r.type == "kubernetes:core/v1:Namespace"]
    for registration in _objects(registrations, "svc"):
        assert registration.inputs["metadata"]["namespace"] == "team"
        assert namespace.urn in registration.dependencies, registration.name


@pytest.mark.parametrize(
    ("namespace", "path", "fragment"),
    [
        ({}, "namespace.name", "required beside the namespace= keyword"),
        ({"name": "team", "create": True}, "namespace.create", "another resource creates the namespace"),
    ],
)
def test_an_output_namespace_needs_its_name_and_no_create(namespace: dict, path: str, fragment: str) -> None:
    errors: list[ConfigError] = []

    def program() -> None:
        own = k8s.core.v1.Namespace("team", metadata={"name": "team"})
        try:
            HayhooksService("svc", _second(namespace=namespace), namespace=own.metadata.name)
        except ConfigError as error:
            errors.append(error)

    registrations = engine.run(program).registrations
    [error] = errors
    assert fragment in {p.path: p.message for p in error.problems}[path]
    assert not [r for r in registrations if r.name.startswith("svc")]


def test_a_plain_namespace_keyword_that_contradicts_the_args_is_refused() -> None:
    message = problem_at(base_args(namespace={"name": "apps"}), "namespace.name", namespace="other")
    assert "'apps' here, but the namespace= keyword names 'other'" in message


def test_an_output_that_resolves_to_another_namespace_than_written_fails_the_program() -> None:
    def program() -> None:
        own = k8s.core.v1.Namespace("team", metadata={"name": "team-b"})
        HayhooksService("svc", _second(namespace={"name": "team"}), namespace=own.metadata.name)

    with pytest.raises(Exception, match=r"namespace\.name: 'team', but the namespace= keyword resolved to 'team-b'"):
        engine.run(program)
