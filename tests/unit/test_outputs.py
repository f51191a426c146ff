"""A component's outputs are its class annotations: the stack's exports and the secret outputs derive from them."""

from __future__ import annotations

from typing import Annotated

import pulumi
from hayhooks_pulumi.outputs import Secret, declared_outputs, exports, secret_outputs


class Declared(pulumi.ComponentResource):
    plain_value: pulumi.Output[str]
    """A plain output."""
    _private: pulumi.Output[str]
    secret_value: Annotated[pulumi.Output[str | None], Secret]
    """A secret output."""


class Subclass(Declared):
    """A caller's subclass, declaring nothing itself."""


def test_declared_outputs_are_the_public_annotations_in_order_named_in_camel_case() -> None:
    declared = declared_outputs(Declared)
    assert [(o.attribute, o.name, o.secret) for o in declared] == [
        ("plain_value", "plainValue", False),
        ("secret_value", "secretValue", True),
    ]
    assert declared[1].type == pulumi.Output[str | None]  # the marker is not part of the type
    assert secret_outputs(Declared) == {"secretValue"}


def test_exports_are_the_declared_outputs_of_the_declaring_class_even_on_a_subclass() -> None:
    component = Subclass.__new__(Subclass)  # no engine: only the attributes are read
    component.plain_value = pulumi.Output.from_input("a")
    component.secret_value = pulumi.Output.secret("b")
    exported = exports(component, Declared)
    assert list(exported) == ["plainValue", "secretValue"]
    assert exported["secretValue"] is component.secret_value
