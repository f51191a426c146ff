"""Where the service lives: a namespace it creates (labelled for Pod Security `restricted`), adopts or uses."""

from __future__ import annotations

from pydantic import ValidationInfo, field_validator

from ...model import ConfigModel
from ...types import DnsLabel


class NamespaceArgs(ConfigModel):
    """Where the service lives."""

    name: DnsLabel = "hayhooks"
    """Namespace name."""
    create: bool = True
    """Create the namespace (labelled for Pod Security `restricted`), or use an existing one."""
    adopt: bool = False
    """With `create`: the namespace may exist already (made by a platform team, holding the `fromSecret`,
    image pull or CSI node-publish Secrets the pods need before the first deploy). Its labels are applied with
    server-side apply instead of a create that fails on an existing namespace, and when it leaves the program
    only those labels are removed, never the namespace."""
    retain: bool | None = None
    """Keep a created namespace, and everything in it, when it leaves the program (`create` switched to false,
    the component removed, `pulumi destroy`): Pulumi forgets it instead of deleting it. Default: true in
    production, false in development."""

    @field_validator("adopt")
    @classmethod
    def _adopt_needs_create(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("create") is False:
            raise ValueError("set only with create: true (an existing namespace is used as it is with create: false)")
        return value
