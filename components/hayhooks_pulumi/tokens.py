"""The type tokens the package's components register as: what the engine, a URN and the policy pack call them.
Plain constants, importing nothing (the policy pack reads them in its own interpreter)."""

from __future__ import annotations

SERVICE_TOKEN = "hayhooks:index:HayhooksService"
CONTAINER_TOKEN = "hayhooks:index:HayhooksContainer"
COMPONENT_TOKENS = (SERVICE_TOKEN, CONTAINER_TOKEN)


def kind_of(token: str) -> str:
    """`hayhooks:index:HayhooksService` -> `HayhooksService`."""
    return token.rsplit(":", 1)[-1]
