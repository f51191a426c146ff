"""Validators and patterns for names Kubernetes, Docker and HTTP accept."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# `\Z`, not `$`: `$` also matches before a trailing newline.
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?\Z")
# A DNS subdomain (a Kubernetes object name); callers add the 253-character limit.
SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
# A label, annotation or taint key: an optional DNS-subdomain prefix and a name; callers add the length limits.
QUALIFIED_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z"
)
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
# An HTTP header name (RFC 9110 token).
HTTP_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS label: lowercase letters, digits and '-', starting with a "
            "letter, at most 63 characters"
        )
    return value


def labels(value: dict[str, str]) -> dict[str, str]:
    for key, text in value.items():
        prefix, _, name = key.rpartition("/")
        if len(name) > 63 or len(prefix) > 253 or not QUALIFIED_NAME.match(key):
            raise ValueError(f"{key!r} is not a valid label key")
        if len(text) > 63 or not LABEL_VALUE.match(text):
            raise ValueError(f"{text!r} (label {key}) is not a valid label value")
    return dict(sorted(value.items()))


def env_name(value: str) -> str:
    """The syntax of a portable variable name only; what a user may set is `server.env.UserEnvName`."""
    if not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid environment variable name")
    return value


DnsLabel = Annotated[str, AfterValidator(dns_label)]
Labels = Annotated[dict[str, str], AfterValidator(labels)]


def absolute_path(path: str, example: str) -> str:
    """An absolute path other than `/`, normalised: no `.`, `..` or empty segment (a trailing `/` is dropped).
    One rule for every mount and directory a model takes, so `/opt/../tmp` cannot pass for a path it is not."""
    trimmed = path.rstrip("/")
    segments = trimmed.split("/")[1:]
    if not path.startswith("/") or not segments or any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"must be an absolute path other than /, without '.', '..' or empty segments, e.g. {example}")
    return trimmed
