"""What both edges' models share."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ...model import ConfigModel


class BasicAuthUser(ConfigModel):
    """Basic auth with one user whose password pulumi-random generates and keeps in state."""

    username: str = Field(default="hayhooks", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    """The user name."""
    password_length: Annotated[int, Field(ge=20, le=72)] = 32
    """Length of the generated password (bcrypt reads at most 72 bytes)."""
