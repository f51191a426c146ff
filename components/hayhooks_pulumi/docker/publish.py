"""The server port published on the host: where, who authenticates its clients, what production refuses and the
URL it makes."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator

from ..errors import Problem
from ..model import ConfigModel

if TYPE_CHECKING:
    from .args import HayhooksContainerArgs


class PublishAuth(StrEnum):
    """Who authenticates clients that reach the published port (the server itself has no authentication)."""

    NONE = "none"
    """Nobody: fine on loopback, refused in production on a wider address."""
    EXTERNAL = "external"
    """Something in front of the port does (a reverse proxy, a VPN, a firewall allow-list); you vouch for it."""


class PublishArgs(ConfigModel):
    """The server port published on the host."""

    host_ip: str = "127.0.0.1"
    """Host address to publish on. Loopback by default; anything wider is an explicit choice."""
    host_port: Annotated[int, Field(ge=1, le=65535)] = 1416
    """Host port."""
    auth: PublishAuth = PublishAuth.NONE
    """Who authenticates clients on this port; `none` with a non-loopback `hostIp` is refused in production."""

    @field_validator("host_ip")
    @classmethod
    def _ip(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IP address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)"
            ) from None

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.host_ip).is_loopback


def publish_production_problems(args: HayhooksContainerArgs) -> list[Problem]:
    """Production publishes beyond this host only when something in front of the port authenticates clients."""
    publish = args.publish
    if publish is None or publish.loopback or publish.auth is not PublishAuth.NONE:
        return []
    return [
        Problem(
            "publish.hostIp",
            f"{publish.host_ip} publishes the server beyond this host, and the server has no authentication "
            "of its own, so production refuses it with publish.auth 'none'. Publish on 127.0.0.1 behind an "
            "authenticating reverse proxy, or set publish: null and let the proxy reach the server on its "
            "network, or set publish.auth 'external' if something in front of the port authenticates clients",
        )
    ]


def published_url(publish: PublishArgs | None) -> str | None:
    """Where the server answers on the host, or None when no port is published."""
    if publish is None:
        return None
    address = ipaddress.ip_address(publish.host_ip)
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    host = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{host}:{publish.host_port}"
