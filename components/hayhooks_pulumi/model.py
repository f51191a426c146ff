"""The base of every config model: camelCase keys as in stack files, unknown keys refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    """Frozen, camelCase-aliased, strict about unknown keys; docstrings become the config reference.

    The docstring under each field is its description, read by `model_walk` when a document is made.
    Not `use_attribute_docstrings`: pydantic then reads the source of every model as it is defined
    (about a third of importing the models, paid by every `pulumi up` and render for nothing they use).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        use_enum_values=False,
    )


class OneOfModel(ConfigModel):
    """A model whose keys are alternatives: exactly one must be set (unset is None, or False for a flag)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> OneOfModel:
        fields = type(self).model_fields
        keys = [field.alias or name for name, field in fields.items()]
        chosen = [field.alias or name for name, field in fields.items() if getattr(self, name) not in (None, False)]
        if len(chosen) != 1:
            raise ValueError(f"set exactly one of {', '.join(keys)} (got {chosen or 'none'})")
        return self
