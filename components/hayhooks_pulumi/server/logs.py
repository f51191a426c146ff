"""Colour in the server's log lines, which log collectors store raw: what turns it off in Hayhooks 2.1.0.

Two sources, two switches. The server's own lines are loguru markup, coloured when loguru decides to: on a
terminal, or as `LOGURU_COLORIZE` says (loguru's default for the sink the server adds). uvicorn's start and stop
lines come through the server's intercept handler with uvicorn's `color_message`, whose ANSI codes are written as
they are; only leaving `uvicorn` and `uvicorn.error` out of `HAYHOOKS_INTERCEPTED_LOGGERS` avoids them. Their
records then go to Python's last-resort handler: warnings and errors still reach stderr, as bare messages, and the
INFO start and stop lines are not written.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..errors import Problem
from ..profile import Profile
from .facts import COLOURED_LOGGERS, INTERCEPTED_LOGGERS

if TYPE_CHECKING:
    from .models import ServerSettings

INTERCEPTED_LOGGERS_ENV = "HAYHOOKS_INTERCEPTED_LOGGERS"
PLAIN_LOGGERS = tuple(name for name in INTERCEPTED_LOGGERS if name not in COLOURED_LOGGERS)


def with_log_colors(server: ServerSettings, profile: Profile) -> ServerSettings:
    """`logColors` decided: unset is off in production, the server's own behaviour in development."""
    if server.log_colors is None and profile is Profile.PRODUCTION:
        return server.model_copy(update={"log_colors": False})
    return server


def plain_loggers_env(server: ServerSettings) -> dict[str, str]:
    """Without colour, the intercepted loggers leave uvicorn's coloured ones out (unless `server.advanced` lists
    them itself, which `log_color_problems` checks)."""
    if server.log_colors is not False or INTERCEPTED_LOGGERS_ENV in server.advanced:
        return {}
    return {INTERCEPTED_LOGGERS_ENV: json.dumps(list(PLAIN_LOGGERS))}


def log_color_problems(server: ServerSettings, prefix: str = "server") -> list[Problem]:
    """`server.advanced` may not bring uvicorn's coloured lines back while `logColors` is off."""
    listed = server.advanced.get(INTERCEPTED_LOGGERS_ENV)
    if server.log_colors is not False or listed is None:
        return []
    coloured = [name for name in json.loads(listed) if name in COLOURED_LOGGERS]
    if not coloured:
        return []
    return [
        Problem(
            f"{prefix}.advanced.{INTERCEPTED_LOGGERS_ENV}",
            f"lists {', '.join(coloured)}, whose lines carry uvicorn's ANSI colour codes, while {prefix}.logColors "
            f"is off (the production default); leave them out, e.g. {json.dumps(list(PLAIN_LOGGERS))}, or set "
            f"{prefix}.logColors: true",
        )
    ]
