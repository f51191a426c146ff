"""Log rotation: the driver and its options, so a chatty server cannot fill the host's disk."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from ..model import ConfigModel

if TYPE_CHECKING:
    from .plan import ContainerPlan

_LOG_SIZE = re.compile(r"^[1-9][0-9]*[kmg]\Z")


class LogDriver(StrEnum):
    """Docker logging drivers that rotate with `max-size`/`max-file` and keep `docker logs` working."""

    JSON_FILE = "json-file"
    LOCAL = "local"


class LogOptionsArgs(ConfigModel):
    """Log rotation, so a chatty server cannot fill the host's disk."""

    driver: LogDriver = LogDriver.JSON_FILE
    """Logging driver."""
    max_size: str = "10m"
    """Size at which a log file is rotated, e.g. `10m` (units k, m, g)."""
    max_file: Annotated[int, Field(ge=1, le=100)] = 3
    """Log files kept."""

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: str) -> str:
        if not _LOG_SIZE.match(value):
            raise ValueError(f"{value!r} is not a log size: write e.g. 10m, 512k or 1g")
        return value


def log_options(plan: ContainerPlan) -> dict[str, str]:
    options = plan.args.log_options
    return {"max-size": options.max_size, "max-file": str(options.max_file)}
