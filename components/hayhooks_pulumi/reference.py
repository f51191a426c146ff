"""The config reference, generated from the models' field docs.

`python -m hayhooks_pulumi.reference` prints the whole document; `--out FILE` writes it (what
`make reference` does, to docs/reference.md).
"""

from __future__ import annotations

import argparse
import types
import typing
from enum import Enum
from pathlib import Path

from pydantic import BaseModel

from .model_walk import ConfigField, config_fields, doc_text, model_tree


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


def _default(field: ConfigField) -> str:
    if field.required:
        return "required"
    if field.default_is_model:
        return "see below"
    return "unset" if field.default is None else f"`{field.default}`"


def reference(model: type[BaseModel], prefix: str, level: int = 4) -> str:
    """Markdown: one table per model under a heading of `level`, keys as a stack file spells them."""
    sections = []
    for node in model_tree(model, prefix):
        rows = [
            f"{'#' * level} `{node.path}`",
            "",
            doc_text(node.model.__doc__),
            "",
            "| key | type | default | description |",
            "| --- | --- | --- | --- |",
        ]
        for field in config_fields(node.model):
            doc = field.doc.replace("|", "\\|")
            rows.append(f"| `{field.key}` | {_type_name(field.annotation)} | {_default(field)} | {doc} |")
        sections.append("\n".join(rows))
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
