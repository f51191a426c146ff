"""Validators for names Kubernetes and Docker accept."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

# `\Z`, not `$`: `$` also matches before a trailing newline.
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?\Z")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z"
)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


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
        if len(name) > 63 or len(prefix) > 253 or not _LABEL_KEY.match(key):
            raise ValueError(f"{key!r} is not a valid label key")
        if len(text) > 63 or not _LABEL_VALUE.match(text):
            raise ValueError(f"{text!r} (label {key}) is not a valid label value")
    return dict(sorted(value.items()))


def env_name(value: str) -> str:
    """The syntax of a portable variable name only; what a user may set is `settings.UserEnvName`."""
    if not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid environment variable name")
    return value


DnsLabel = Annotated[str, AfterValidator(dns_label)]
Labels = Annotated[dict[str, str], AfterValidator(labels)]
