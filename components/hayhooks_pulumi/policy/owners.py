"""Which key of this package's components sets what a rule found, when one of them made the object: a review of
the package's own render then reads `server.showTracebacks`, not only `HAYHOOKS_SHOW_TRACEBACKS='true'`.

Whether a component made a resource comes from its URN (the parent's type chain, in `pulumi preview`) or from the
render's parent chain (`make check`). The key comes from the settings table for a server setting the message names
(one home for which key writes which variable), else from the rule's own row in the catalog (`RuleSpec.set_by`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..server.settings_table import TYPED_SETTINGS
from ..tokens import COMPONENT_TOKENS, kind_of

_VARIABLE = re.compile(r"\b[A-Z][A-Z0-9_]*[A-Z0-9]\b")


def component_of_urn(urn: str | None) -> str | None:
    """The kind of the package's component among a resource's parents (`HayhooksService`), from its URN."""
    if not urn or urn.count("::") < 3:
        return None
    chain = urn.split("::")[2].split("$")[:-1]
    return next((kind_of(token) for token in reversed(chain) if token in COMPONENT_TOKENS), None)


def component_of_records(records: list[Mapping]) -> dict[str, str]:
    """For each resource of a render's `resources.json` (by name) made inside one of the package's components, that
    component: `HayhooksService 'hayhooks'`."""
    by_name = {record["name"]: record for record in records}
    owners: dict[str, str] = {}
    for record in records:
        parent = by_name.get(record.get("parent"))
        while parent is not None:
            if parent["type"] in COMPONENT_TOKENS:
                owners[record["name"]] = f"{kind_of(parent['type'])} {parent['name']!r}"
                break
            parent = by_name.get(parent.get("parent"))
    return owners


def setting_key(message: str) -> str | None:
    """The key of the first server variable a message names that a key sets (`server.showTracebacks`)."""
    return next((TYPED_SETTINGS[name] for name in _VARIABLE.findall(message) if name in TYPED_SETTINGS), None)


def key_for(set_by: Mapping[str, str], message: str, component: str, object_kind: str | None) -> str | None:
    """The key of `component` (a kind, or `<kind> '<name>'`) that sets what `message` found."""
    kind = component.split(" ", 1)[0]
    return setting_key(message) or set_by.get(f"{kind}/{object_kind}") or set_by.get(kind)
