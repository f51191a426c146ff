"""CORS as the server's Starlette middleware checks it: origins, methods and headers, each validated."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from ..model import ConfigModel
from ..types import HTTP_TOKEN, SUBDOMAIN, Unit
from .facts import WILDCARD

_STRANGER_ORIGINS = ("https://attacker.invalid", "http://attacker.invalid", "null")
# `\Z`, not `$`: `$` also matches before a trailing newline, which would let "x\n" through.
_ORIGIN = re.compile(r"^(?P<scheme>https?)://(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?\Z")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _origin(origin: str) -> str:
    """One origin exactly as a browser sends it in `Origin` (the server compares strings exactly)."""
    if origin == WILDCARD:
        return origin
    match = _ORIGIN.match(origin)
    if match is None:
        raise ValueError(
            f"{origin!r} is not an origin: write scheme://host[:port], e.g. "
            "https://app.example.com, with no path and no trailing slash, or '*'"
        )
    scheme, host, port = match.group("scheme", "host", "port")
    if host != host.lower():
        raise ValueError(f"{origin!r}: write the host in lowercase, as browsers send it (origins are compared exactly)")
    if not (_ipv6(host[1:-1]) if host.startswith("[") else _host_name(host)):
        raise ValueError(f"{origin!r}: {host!r} is neither a host name nor a bracketed IPv6 address")
    if port is not None:
        if port.startswith("0") or not 1 <= int(port) <= 65535:
            raise ValueError(f"{origin!r}: the port must be 1..65535, without leading zeros")
        if int(port) == _DEFAULT_PORTS[scheme]:
            raise ValueError(
                f"{origin!r}: browsers leave out the default port {port} of {scheme}, so this origin never "
                "matches; leave the port out"
            )
    return origin


def _host_name(host: str) -> bool:
    """A DNS name of labels of at most 63 characters (`localhost` included)."""
    return bool(SUBDOMAIN.match(host)) and max(len(label) for label in host.split(".")) <= 63


def _ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _method(method: str) -> str:
    if method != WILDCARD and method not in _HTTP_METHODS:
        raise ValueError(
            f"{method!r} is not an HTTP method: use one of {', '.join(sorted(_HTTP_METHODS))} (uppercase) or '*'"
        )
    return method


def _header(header: str) -> str:
    if header != WILDCARD and not HTTP_TOKEN.match(header):
        raise ValueError(f"{header!r} is not an HTTP header name")
    return header


# Item types, so that an error names the entry (`cors.allowOrigins[1]`).
Origin = Annotated[str, AfterValidator(_origin)]
Method = Annotated[str, AfterValidator(_method)]
Header = Annotated[str, AfterValidator(_header)]


class CorsSettings(ConfigModel):
    """CORS, checked by the server's Starlette middleware. The server's own defaults allow
    everything (`["*"]`), so every list is always written out, even when empty."""

    allow_origins: list[Origin] = Field(default_factory=list)
    """Origins allowed to call the API, e.g. `https://app.example.com` (scheme, host, optional
    port; no path, no trailing slash). Empty: no cross-origin browser access. `*`: any origin."""
    allow_methods: list[Method] = Field(default_factory=lambda: ["GET", "POST"])
    """HTTP methods allowed cross-origin (uppercase), or `*`."""
    allow_headers: list[Header] = Field(default_factory=lambda: ["Content-Type"])
    """Request headers allowed cross-origin, or `*`."""
    allow_credentials: bool = False
    """Allow cookies and `Authorization` on cross-origin requests. Never with origin `*`."""
    allow_origin_regex: str | None = None
    """A regular expression origins may match as well, e.g. `https://.*\\.example\\.com`.
    Unset means none (an empty string would be the empty regex, so it is refused)."""
    expose_headers: list[Header] = Field(default_factory=list)
    """Response headers the browser may read."""
    max_age: Annotated[int, Field(ge=0, le=86400), Unit.SECONDS] = 600
    """Seconds a browser may cache a preflight answer (0..86400)."""

    @field_validator("allow_origins", "allow_methods", "allow_headers", "expose_headers")
    @classmethod
    def _lists(cls, values: list[str]) -> list[str]:
        return _unique(values)

    @field_validator("allow_credentials")
    @classmethod
    def _credentials(cls, credentials: bool, info: ValidationInfo) -> bool:
        if credentials and WILDCARD in info.data.get("allow_origins", ()):
            raise ValueError(
                "cannot be true with allowOrigins '*' (the server would echo any origin "
                "with credentials); list the origins instead"
            )
        return credentials

    @field_validator("allow_origin_regex")
    @classmethod
    def _regex(cls, regex: str | None, info: ValidationInfo) -> str | None:
        if regex is None:
            return None
        if not regex:
            raise ValueError("an empty regex matches every origin; leave the key out instead")
        try:
            pattern = re.compile(regex)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        if info.data.get("allow_credentials") and matches_any_origin(pattern.pattern):
            raise ValueError(
                f"{regex!r} matches any origin (e.g. {_STRANGER_ORIGINS[0]}), which with allowCredentials "
                "is the same as '*' with credentials; anchor it to your domain, e.g. https://[a-z0-9-]+\\.example\\.com"
            )
        return regex

    @property
    def any_origin(self) -> bool:
        """Any origin is allowed: '*' listed, or a regex that takes a stranger's origin."""
        return WILDCARD in self.allow_origins or (
            self.allow_origin_regex is not None and matches_any_origin(self.allow_origin_regex)
        )


def matches_any_origin(regex: str) -> bool:
    """The middleware full-matches the regex; one that takes a stranger's origin acts as '*'."""
    pattern = re.compile(regex)
    return any(pattern.fullmatch(origin) for origin in _STRANGER_ORIGINS)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))
