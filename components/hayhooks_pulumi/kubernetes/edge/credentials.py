"""What an edge's authentication generated, as the component exports it, and the Secret the edge reads it from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi


def _none() -> pulumi.Output[Any]:
    # Unset, and secret all the same: each output is secret whichever edge fills it, or none.
    return pulumi.Output.secret(None)


@dataclass(frozen=True)
class EdgeCredentials:
    """The credentials of the edge in use (none of them without one, or without authentication)."""

    username: str | None = None
    """The basic-auth user."""
    password: pulumi.Output[str | None] = field(default_factory=_none)
    """The generated basic-auth password (secret)."""
    api_keys: pulumi.Output[dict[str, str] | None] = field(default_factory=_none)
    """The generated API keys by client name (secret)."""
    secret_name: pulumi.Output[str] | None = None
    """The name the Secret the component wrote for the edge got (the htpasswd, the API keys, an OIDC client secret
    from config); None when the edge reads none the component writes."""
    reads: tuple[pulumi.Resource, ...] = ()
    """What the edge reads, to exist before it: that Secret, or the ExternalSecret that writes it."""
