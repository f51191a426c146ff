"""HayhooksContainerArgs: everything a HayhooksContainer is configured with, validated and defaulted. Each
feature's own model (and what it refuses) sits in the feature's module."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from ..model import ConfigModel
from ..profile import Profile
from ..scratch import ScratchArgs
from ..server.env import SecretEnvName
from ..server.models import ServerSettings
from ..types import Labels
from .healthcheck import HealthcheckArgs
from .logs import LogOptionsArgs
from .publish import PublishArgs
from .secrets import ConfigSecret
from .workload import ContainerResourcesArgs, WorkloadType

MIN_UID = 10000
_USER = re.compile(r"^(?P<uid>[0-9]+):(?P<gid>[0-9]+)\Z")


class HayhooksContainerArgs(ConfigModel):
    """Configuration of a HayhooksContainer (stack config key `hayhooks:service` with `hayhooks:target: docker`)."""

    profile: Profile = Profile.PRODUCTION
    """`production` refuses what the production guide forbids; `development` allows local conveniences."""
    image: str | None = None
    """Image reference, e.g. `deepset/hayhooks:v2.1.0@sha256:<digest>`; may instead be passed as an Output."""
    pipelines_path: str = "pipelines"
    """Local directory of pipelines (relative to the working directory), bind-mounted read-only; for an engine on
    another machine, copied into a volume mounted read-only."""
    server: ServerSettings = Field(default_factory=ServerSettings)
    """Server settings (env vars). `host` stays `0.0.0.0` inside the container; limit exposure with `publish`."""
    workload_type: WorkloadType = WorkloadType.IO
    """`io` (one worker) or `cpu` (2 x CPU limit + 1 workers; incompatible with durable mode)."""
    resources: ContainerResourcesArgs = Field(default_factory=ContainerResourcesArgs)
    """Memory and CPU limits."""
    scratch: ScratchArgs = Field(default_factory=ScratchArgs)
    """Sizes of the writable `/tmp` and `HOME` (tmpfs: they use memory as they fill)."""
    healthcheck: HealthcheckArgs = Field(default_factory=HealthcheckArgs)
    """Health check timings."""
    user: str = "10001:10001"
    """`uid:gid` the server runs as (both >= 10000; the official image runs as any UID)."""
    publish: PublishArgs | None = Field(default_factory=PublishArgs)
    """The published host port; `null` publishes nothing (reach the server on its network by its alias)."""
    secrets: dict[SecretEnvName, ConfigSecret] = Field(default_factory=dict)
    """Secret environment variables, by name, from Pulumi config: the pipelines', and the server's
    `HAYHOOKS_TRACING_TOKEN` and `HAYHOOKS_DURABLE_REDIS_URL` (with a password)."""
    env_file: str | None = None
    """A `KEY=VALUE` file read at deploy time; every value is kept secret. Local testing only: refused in production."""
    log_options: LogOptionsArgs = Field(default_factory=LogOptionsArgs)
    """Log driver and rotation."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on the container and the network."""

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        match = _USER.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not numeric uid:gid, e.g. 10001:10001")
        for part in ("uid", "gid"):
            number = int(match.group(part))
            if number < MIN_UID:
                raise ValueError(f"{part} {number} is below {MIN_UID} (it could collide with a host user's)")
        return f"{int(match.group('uid'))}:{int(match.group('gid'))}"

    @field_validator("secrets")
    @classmethod
    def _sorted(cls, value: dict[str, ConfigSecret]) -> dict[str, ConfigSecret]:
        return dict(sorted(value.items()))

    @property
    def uid(self) -> int:
        return int(self.user.split(":")[0])

    @property
    def gid(self) -> int:
        return int(self.user.split(":")[1])
