"""The config reference, generated from the models' field docs.

`python -m hayhooks_pulumi.reference` prints the whole document; `--out FILE` writes it (what
`make reference` does, to docs/reference.md).
"""

from __future__ import annotations

import argparse
import json
import types
import typing
from enum import Enum
from pathlib import Path

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


def _models(annotation: object) -> list[type[BaseModel]]:
    """Models nested in an annotation (`X | None`, `dict[str, X]`, `list[X]`)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found.extend(_models(arg))
    return found


def _type_name(annotation: object) -> str:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None))
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if origin is dict:
        return f"map of {_type_name(typing.get_args(annotation)[1])}"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined or value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return "see below"
    return f"`{json.dumps(value)}`"


def reference(model: type[BaseModel], prefix: str, level: int = 4) -> str:
    """Markdown: one table per model under a heading of `level`, keys as a stack file spells them."""
    sections: list[str] = []
    seen: set[type[BaseModel]] = set()

    def walk(current: type[BaseModel], path: str) -> None:
        if current in seen:
            return
        seen.add(current)
        rows = [
            f"{'#' * level} `{path}`",
            "",
            " ".join((current.__doc__ or "").split()),
            "",
            "| key | type | default | description |",
            "| --- | --- | --- | --- |",
        ]
        nested = []
        for name, field in current.model_fields.items():
            key = field.alias or name
            doc = " ".join((field.description or "").split()).replace("|", "\\|")
            rows.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {doc} |")
            for sub in _models(field.annotation):
                suffix = ".<NAME>" if typing.get_origin(field.annotation) is dict else ""
                nested.append((sub, f"{path}.{key}{suffix}"))
        sections.append("\n".join(rows))
        for sub, sub_path in nested:
            walk(sub, sub_path)

    walk(model, prefix)
    return "\n\n".join(sections) + "\n"


def current() -> str:
    """The reference of every config model this package reads."""
    from .docker.args import HayhooksContainerArgs
    from .kubernetes.args import HayhooksServiceArgs

    return (
        "## `hayhooks:target: kubernetes` (HayhooksService)\n\n"
        + reference(HayhooksServiceArgs, "hayhooks:service", level=3)
        + "\n## `hayhooks:target: docker` (HayhooksContainer)\n\n"
        + reference(HayhooksContainerArgs, "hayhooks:service", level=3)
    )


INTRO = """\
# Config reference

Generated from the models by `make reference` (`python -m hayhooks_pulumi.reference --out
docs/reference.md`); do not edit it by hand: a test fails while it differs from the models.

Each table is one mapping of a stack file, keys as the stack file spells them (camelCase). In a
program, the same keys below `hayhooks:service` are the `args` of `HayhooksService` and
`HayhooksContainer`. `hayhooks` is this repository's project name: `load_stack_config()` reads
`<project>:target` and `<project>:service`. Of the stack's own `<project>:*` keys, only those two
and the keys its `fromConfig` sources name are read; any other (a typo such as `hayhooks:targte`,
a setting put at the top level) is refused.

"""


def reference_document() -> str:
    """The whole reference file: a fixed heading and introduction, then `current()`."""
    return INTRO + current()


def write_reference(path: str | Path) -> Path:
    """Write `reference_document()` to `path`, replacing the file whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reference_document())
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hayhooks_pulumi.reference", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="write the document to this file (default: print it)")
    args = parser.parse_args(argv)
    if args.out is None:
        print(reference_document(), end="")
    else:
        write_reference(args.out)


if __name__ == "__main__":
    main()
