"""A component's outputs, declared once: its class annotations, each with a docstring under it.

What a stack exports of a component, the plugin's schema outputs and which of them are secret are all read from
those annotations here; nothing else lists an output's name. An output that is `Output.secret` says so in its
annotation: `Annotated[pulumi.Output[str | None], Secret]`.
"""

from __future__ import annotations

import functools
import inspect
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

import pulumi
from pydantic.alias_generators import to_camel

T = TypeVar("T")


class Secret:
    """The marker of a secret output, in its `Annotated` metadata. The SDK's analyzer reads no such thing from an
    annotation, so the plugin marks these secret in the schema itself."""


@dataclass(frozen=True)
class DeclaredOutput:
    """One output of a component, as its class declares it."""

    attribute: str
    """The Python attribute, e.g. `basic_auth_password`."""
    name: str
    """The camelCase name a stack exports it under and the schema gives it, e.g. `basicAuthPassword`."""
    type: Any
    """The annotation without its markers, e.g. `pulumi.Output[str | None]`."""
    secret: bool
    """Marked `Secret`: the value is `Output.secret`."""


@functools.cache
def declared_outputs(cls: type) -> tuple[DeclaredOutput, ...]:
    """The outputs `cls` declares itself (not the SDK base classes' annotations), in declaration order."""
    found = []
    for attribute, hint in inspect.get_annotations(cls, eval_str=True).items():
        if attribute.startswith("_"):
            continue
        metadata: tuple[object, ...] = ()
        if typing.get_origin(hint) is typing.Annotated:
            hint, *rest = typing.get_args(hint)
            metadata = tuple(rest)
        found.append(DeclaredOutput(attribute, to_camel(attribute), hint, Secret in metadata))
    return tuple(found)


def secret_outputs(cls: type) -> frozenset[str]:
    """The names of the outputs `cls` declares secret."""
    return frozenset(output.name for output in declared_outputs(cls) if output.secret)


def exports(component: pulumi.ComponentResource, declared_by: type) -> dict[str, pulumi.Output[Any]]:
    """What a stack exports of `component`, by the names it registers them under. `declared_by` is the component's
    own class: the plugin hosts subclasses of it that restate the annotations without their markers."""
    return {output.name: getattr(component, output.attribute) for output in declared_outputs(declared_by)}


def known(value: T) -> pulumi.Output[T]:
    """A plain value, with no Output inside, as one known Output. `Output.from_input` makes a dict or list into an
    Output per key and per item (a service's env: some fifty), each a task on the program's event loop."""
    return pulumi.Output.from_input(None).apply(lambda _: value)
