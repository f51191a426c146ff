"""Environment rules are chosen by the caller, never inferred from a stack name."""

from __future__ import annotations

from enum import StrEnum


class Profile(StrEnum):
    """How strict the component is about the production guide."""

    PRODUCTION = "production"
    """Refuses what the production guide forbids (wildcard CORS, tracebacks, DEBUG logs, ...)."""
    DEVELOPMENT = "development"
    """Allows local conveniences; still secure defaults."""
