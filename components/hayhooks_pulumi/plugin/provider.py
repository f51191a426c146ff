"""The component provider the plugin serves: the SDK's, with the args passed as a stack file holds them.

`pulumi package add <repo>/components` starts `components/__main__.py`, which calls `serve()`. The
SDK's `ComponentProvider` analyzes the classes in `schema_types` and constructs them; two things
differ from its defaults, both so that other languages get what Python callers get:

- args reach the component in their camelCase form, the form the models validate and name in
  their errors (the SDK would rename them to Python attribute names first);
- a `ConfigError` is reported as invalid input properties, one per problem with its config path,
  so the caller's engine shows which key is wrong; and the outputs a component declares `Secret`
  are marked secret in the schema (the analyzer has no way to say so).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyErrorDetails
from pulumi.provider import main
from pulumi.provider.experimental.analyzer import ComponentDefinition
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError

from .._version import __version__
from ..errors import ConfigError
from ..outputs import secret_outputs
from . import schema_types
from .codegen import components

PACKAGE = "hayhooks"
HOSTED: tuple[type[pulumi.ComponentResource], ...] = (schema_types.HayhooksService, schema_types.HayhooksContainer)


class HayhooksProvider(ComponentProvider):
    """The SDK's component provider for HayhooksService and HayhooksContainer."""

    def __init__(self) -> None:
        super().__init__(list(HOSTED), PACKAGE, None, __version__)
        self.schema = json.dumps(_mark_secrets(json.loads(self.schema or "{}")))

    def map_inputs(self, inputs: Any, component_def: ComponentDefinition) -> Any:
        """The camelCase args as sent: the component validates them (required keys, enums, numbers)."""
        return dict(inputs)

    def construct(
        self, name: str, resource_type: str, inputs: Any, options: pulumi.ResourceOptions | None = None
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, ConfigError):
                problems = [
                    InputPropertyErrorDetails(property_path=p.path, reason=p.message) for p in error.inner.problems
                ]
                raise InputPropertiesError(f"invalid args of {resource_type} {name!r}", problems) from error.inner
            raise


def _mark_secrets(schema: dict[str, Any]) -> dict[str, Any]:
    """The outputs each component declares `Secret`, marked secret (the analyzer reads no such marker)."""
    secret = {component.cls.__name__: secret_outputs(component.cls) for component in components()}
    for token, resource in schema.get("resources", {}).items():
        for output in secret.get(token.rsplit(":", 1)[-1], ()):
            resource["properties"][output]["secret"] = True
    return schema


def package_schema() -> dict[str, Any]:
    """The schema the plugin serves, as a mapping."""
    return json.loads(HayhooksProvider().schema or "{}")


def serve() -> None:
    """Serve the provider to the engine that started this process (the plugin's entry point)."""
    main(HayhooksProvider(), sys.argv[1:])
