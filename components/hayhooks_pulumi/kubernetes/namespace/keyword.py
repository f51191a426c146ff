"""The `namespace=` keyword of a HayhooksService: the namespace as another resource of the program gives it (another
service's `namespace` output, your own Namespace's `metadata.name`), so that every object of this service carries
it, and with it the dependency on whatever creates it (no `depends_on` to remember).

The objects' names, URLs and policies need the namespace's name before an Output resolves: another HayhooksService's
output carries it along (`remember`); for any other Output, `namespace.name` says it, and the Output is checked
against it when it resolves.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from ...errors import ConfigError, Problem
from ...types import dns_label

if TYPE_CHECKING:
    import pulumi

    from ...planning import Problems
    from ..args import HayhooksServiceArgs

KEYWORD = "the namespace= keyword"
# The plain name of each `namespace` output a HayhooksService of this process made.
_NAMES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def remember(output: pulumi.Output[str], name: str) -> None:
    """`output` (a service's `namespace`) resolves to `name`."""
    _NAMES[output] = name


def known_name(keyword: object) -> str | None:
    """The plain name of the keyword: itself when a string, what a service said of its own output, else None."""
    if isinstance(keyword, str):
        return keyword
    try:
        return _NAMES.get(keyword)
    except TypeError:  # not weakly referenceable: no output of ours
        return None


def with_keyword_namespace(args: HayhooksServiceArgs, keyword: object, problems: Problems) -> HayhooksServiceArgs:
    """The args placed in the namespace the keyword names (created elsewhere: `create` false). Refused: `create`
    or `adopt` set true beside it, a `namespace.name` naming another namespace, and an Output whose name nothing
    says."""
    namespace = args.namespace
    given = namespace.model_fields_set
    for key in ("create", "adopt"):
        if key in given and getattr(namespace, key):
            problems.add(
                f"namespace.{key}",
                f"true beside {KEYWORD}, which says another resource creates the namespace; leave it out",
            )
    name = known_name(keyword)
    if name is not None:
        try:
            dns_label(name)
        except ValueError as error:
            problems.add("namespace", f"{KEYWORD}: {error}")
            return args
        if "name" in given and namespace.name != name:
            problems.add(
                "namespace.name",
                f"{namespace.name!r} here, but {KEYWORD} names {name!r}; give the namespace once (the keyword)",
            )
            return args
    elif "name" in given:
        name = namespace.name
    else:
        problems.add(
            "namespace.name",
            f"required beside {KEYWORD} when it is an Output no HayhooksService made (e.g. your Namespace's "
            "metadata.name): the objects' names and URLs need the name before the Output resolves; write the name "
            "it resolves to (it is checked when it does)",
        )
        return args
    placed = namespace.model_copy(update={"name": name, "create": False, "adopt": False})
    return args.model_copy(update={"namespace": placed})


def same_namespace(expected: str, value: str) -> str:
    """The keyword's Output resolved: it must be the name the objects were planned with."""
    if value != expected:
        raise ConfigError(
            [Problem("namespace.name", f"{expected!r}, but {KEYWORD} resolved to {value!r}; write {value!r}")]
        )
    return value
