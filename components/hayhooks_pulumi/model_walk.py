"""The config models as documents read them: each model's fields (key, type, description, default) and the
models nested under a model. The config reference (`reference.py`) and the plugin's schema types
(`plugin/codegen.py`) both read the models through here, so they cannot disagree about a key, its description,
its default or which models a config holds."""

from __future__ import annotations

import ast
import functools
import inspect
import json
import textwrap
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

# What a path names under a map of models: each entry's key is the user's own.
ANY_KEY = ".<NAME>"


def doc_text(text: str | None) -> str:
    """A docstring on one line, as a table cell or a schema description holds it."""
    return " ".join((text or "").split())


@functools.cache
def attribute_docs(cls: type) -> dict[str, str]:
    """The docstrings under a class's own annotated attributes, from its source, each on one line (as the
    Pulumi SDK's analyzer reads a component's outputs, and as pydantic's `use_attribute_docstrings` would)."""
    (node,) = ast.parse(textwrap.dedent(inspect.getsource(cls))).body
    assert isinstance(node, ast.ClassDef)
    docs: dict[str, str] = {}
    for statement, following in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = doc_text(following.value.value)
    return docs


def _field_doc(model: type[BaseModel], name: str, info: FieldInfo) -> str:
    """A field's description: `Field(description=...)` if given, else the docstring under it in the class that
    declares it (pydantic copies an inherited field, description and all)."""
    if info.description is not None:
        return doc_text(info.description)
    declaring = next(klass for klass in model.__mro__ if name in vars(klass).get("__annotations__", {}))
    return attribute_docs(declaring).get(name, "")


@dataclass(frozen=True)
class ConfigField:
    """One key of a config model."""

    name: str
    """The model's attribute, e.g. `pipelines_path`."""
    key: str
    """The key as a stack file spells it, e.g. `pipelinesPath`."""
    annotation: Any
    """The field's type, as the model declares it."""
    doc: str
    """Its docstring, on one line."""
    required: bool
    default: str | None
    """The default as JSON, as a stack file writes it; None when required, unset (`null`) or a model's (a nested
    model's own fields give its defaults)."""
    default_is_model: bool
    """The default is a model, or a list of them."""


def _default(info: FieldInfo) -> tuple[str | None, bool]:
    if info.is_required():
        return None, False
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    if value is PydanticUndefined or value is None:
        return None, False
    if isinstance(value, BaseModel) or (isinstance(value, list) and any(isinstance(v, BaseModel) for v in value)):
        return None, True
    if isinstance(value, Enum):
        value = value.value
    return json.dumps(value), False


def config_fields(model: type[BaseModel]) -> Iterator[ConfigField]:
    """The fields of `model`, in declaration order."""
    for name, info in model.model_fields.items():
        default, default_is_model = _default(info)
        yield ConfigField(
            name=name,
            key=info.alias or name,
            annotation=info.annotation,
            doc=_field_doc(model, name, info),
            required=info.is_required(),
            default=default,
            default_is_model=default_is_model,
        )


def nested_models(annotation: object) -> list[type[BaseModel]]:
    """Models nested in an annotation (`X | None`, `dict[str, X]`, `list[X]`), in the order they appear."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in nested_models(arg)]


@dataclass(frozen=True)
class ModelAt:
    """A model, where a stack file holds it."""

    model: type[BaseModel]
    path: str
    """E.g. `hayhooks:service.ingress`, or `hayhooks:service.secrets.<NAME>` under a map of models."""


def model_tree(root: type[BaseModel], path: str = "", *, dependencies_first: bool = False) -> list[ModelAt]:
    """`root` and every model nested under it, each once (at the first path it is met at), depth first in field
    order: each model before those under it, or with `dependencies_first` after them."""
    found: list[ModelAt] = []
    seen: set[type[BaseModel]] = set()

    def visit(model: type[BaseModel], at: str) -> None:
        if model in seen:
            return
        seen.add(model)
        here = ModelAt(model, at)
        if not dependencies_first:
            found.append(here)
        for field in config_fields(model):
            # A map's entries are named by the user.
            suffix = ANY_KEY if typing.get_origin(field.annotation) is dict else ""
            for sub in nested_models(field.annotation):
                visit(sub, f"{at}.{field.key}{suffix}")
        if dependencies_first:
            found.append(here)

    visit(root, path)
    return found
