"""The validated types the models share, each rule once: an `Annotated` alias with its validator, and, where a
model words its own refusal, the pattern or predicate the rule checks with.

Patterns end in `\\Z`, not `$`: Python's `$` also matches before a trailing newline, which would let `"x\\n"`
through. (A `Field(pattern=...)` is matched by pydantic's Rust engine instead, whose `$` is the end of the text.)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Hashable
from enum import StrEnum
from typing import Annotated, TypeVar

from pydantic import AfterValidator

T = TypeVar("T")
V = TypeVar("V")

# Kubernetes names (RFC 1123): labels of lowercase letters, digits and '-', never at either end. Lengths are
# checked beside each use (63 per label, 253 per dotted name), as the API server does.
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
# A namespace, Secret or component name (RFC 1035): a label that also starts with a letter.
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?\Z")
SUBDOMAIN = re.compile(rf"^{_SUBDOMAIN}\Z")
# A label, annotation or taint key: an optional DNS-subdomain prefix and a name.
QUALIFIED_NAME = re.compile(rf"^({_SUBDOMAIN}/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
# The host an edge answers (an Ingress host, a Gateway API Hostname): dotted, optionally a wildcard's `*.` first.
_EDGE_HOST = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})+\Z")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
# An HTTP header name (RFC 9110 token).
HTTP_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
# A Go duration (time.ParseDuration), e.g. the External Secrets Operator's refreshInterval.
_GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+\Z")
# A file name a driver writes into its mount (no directories, no dot-entries).
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][-._A-Za-z0-9]*\Z")
_HTTPS_URL = re.compile(r"^https://[^\s/?#]+[^\s]*\Z")
# A URL a proxy reads from an annotation: no quotes, spaces, semicolons or braces, which could end the value
# inside the controller's generated config (the ingress-nginx auth-url injection, CVE-2025-24514). `$` stays
# allowed for ingress-nginx's documented variables, e.g. `rd=$scheme://$host$escaped_request_uri`.
_PROXY_URL = re.compile(r"^https?://[A-Za-z0-9$._~%&=?/:+,@!*()\[\]-]+\Z")
# The API server's limit on all annotations of an object together.
ANNOTATIONS_BUDGET = 256 * 1024


class Unit(StrEnum):
    """What an integer key counts, as `Annotated` metadata (`Annotated[int, Field(ge=1), Unit.SECONDS]`): its refusal
    of a value such as `10 minutes` then says what to write instead."""

    SECONDS = "seconds"
    PERCENT = "percent"
    PODS = "pods"


def unique(values: list[T], what: str, key: Callable[[T], Hashable] | None = None, note: str = "") -> list[T]:
    """`values`, refused when two are the same (by `key`): "lists <what> twice (<note>)"."""
    keys = [value if key is None else key(value) for value in values]
    if len(set(keys)) != len(keys):
        raise ValueError(f"lists {what} twice" + (f" ({note})" if note else ""))
    return values


def unique_items(what: str) -> AfterValidator:
    """A list validator: no item twice, e.g. `Annotated[list[str], unique_items("a Secret")]`."""
    return AfterValidator(lambda values: unique(values, what))


def sorted_keys(value: dict[str, V]) -> dict[str, V]:
    """A mapping in key order, so a render never depends on the order a stack file lists it in."""
    return dict(sorted(value.items()))


def dns_label(value: str) -> str:
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a DNS label: lowercase letters, digits and '-', starting with a "
            "letter, at most 63 characters"
        )
    return value


def is_subdomain(value: str) -> bool:
    """A DNS subdomain as Kubernetes names most objects: dotted labels, at most 253 characters."""
    return len(value) <= 253 and bool(SUBDOMAIN.match(value))


def object_name(value: str) -> str:
    if not is_subdomain(value):
        raise ValueError(f"{value!r} is not a Kubernetes object name: lowercase letters, digits, '-' and '.'")
    return value


def is_qualified_name(value: str) -> bool:
    """`[prefix/]name`: a prefix of at most 253 characters, a name of at most 63."""
    prefix, _, name = value.rpartition("/")
    return len(name) <= 63 and len(prefix) <= 253 and bool(QUALIFIED_NAME.match(value))


def qualified_name(value: str) -> str:
    if not is_qualified_name(value):
        raise ValueError(f"{value!r} is not a valid key: [prefix/]name, e.g. example.com/team")
    return value


def is_label_value(value: str) -> bool:
    """A label (or taint) value: at most 63 letters, digits, '-', '_' and '.', starting and ending alphanumeric."""
    return len(value) <= 63 and bool(LABEL_VALUE.match(value))


def labels(value: dict[str, str]) -> dict[str, str]:
    for key, text in value.items():
        if not is_qualified_name(key):
            raise ValueError(f"{key!r} is not a valid label key")
        if not is_label_value(text):
            raise ValueError(f"{text!r} (label {key}) is not a valid label value")
    return sorted_keys(value)


def object_annotations(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        qualified_name(key)
    if sum(len(k) + len(v) for k, v in value.items()) > ANNOTATIONS_BUDGET:
        raise ValueError(f"annotations exceed the API server's {ANNOTATIONS_BUDGET} bytes")
    return sorted_keys(value)


def is_host_name(value: str) -> bool:
    """A DNS host name as a browser sends it in an origin: one or more labels of at most 63 characters each, no
    wildcard. Unlike an edge's host (`WildcardHostName`), a single label (`localhost`) is one; an edge's host must be
    dotted, may start with `*.` and is limited to 253 characters in all, but not per label (as the API server)."""
    return bool(SUBDOMAIN.match(value)) and all(len(label) <= 63 for label in value.split("."))


def edge_host(value: str) -> str:
    if len(value) > 253 or not _EDGE_HOST.match(value):
        raise ValueError(f"{value!r} is not a host name (lowercase, dotted, e.g. hayhooks.example.com)")
    return value


def edge_hosts(values: list[str]) -> list[str]:
    for value in values:
        edge_host(value)
    return unique(values, "a host name")


def absolute_path(path: str, example: str) -> str:
    """An absolute path other than `/`, normalised: no `.`, `..` or empty segment (a trailing `/` is dropped).
    One rule for every mount and directory a model takes, so `/opt/../tmp` cannot pass for a path it is not."""
    trimmed = path.rstrip("/")
    segments = trimmed.split("/")[1:]
    if not path.startswith("/") or not segments or any(s in ("", ".", "..") for s in segments):
        raise ValueError(f"must be an absolute path other than /, without '.', '..' or empty segments, e.g. {example}")
    return trimmed


def absolute(example: str) -> AfterValidator:
    """`absolute_path` as field metadata, naming `example` in its refusal: `Annotated[str, absolute("/mnt/x")]`."""
    return AfterValidator(lambda path: absolute_path(path, example))


def go_duration(value: str) -> str:
    if not _GO_DURATION.match(value):
        raise ValueError(f"{value!r} is not a duration: write e.g. 1h, 15m or 30s")
    return value


def env_name(value: str) -> str:
    """The syntax of a portable variable name only; what a user may set is `settings.UserEnvName`."""
    if not _ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid environment variable name")
    return value


def header_name(value: str) -> str:
    if not HTTP_TOKEN.match(value):
        raise ValueError(f"{value!r} is not an HTTP header name")
    return value


def header_names(values: list[str]) -> list[str]:
    for value in values:
        header_name(value)
    return unique(values, "a header", key=str.lower, note="header names are case-insensitive")


def https_url(value: str) -> str:
    if not _HTTPS_URL.match(value):
        raise ValueError(f"{value!r} is not an https:// URL")
    return value


def proxy_url(value: str) -> str:
    if not _PROXY_URL.match(value):
        raise ValueError(
            f"{value!r} is not an http(s) URL the controller can take safely: no spaces, quotes, ';', '{{', '}}' or '#'"
        )
    return value


def file_name(value: str) -> str:
    if len(value) > 253 or not _FILE_NAME.match(value):
        raise ValueError(
            f"{value!r} is not a file name: letters, digits, '-', '_' and '.', not starting with '.' or '-'"
        )
    return value


def network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR as the API server parses it: the prefix length written out, no host bits set."""
    try:
        if "/" not in value:
            raise ValueError
        return ipaddress.ip_network(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a network: write e.g. 10.0.0.0/8, 169.254.20.10/32 or ::/0") from None


def strictly_inside(
    inner: ipaddress.IPv4Network | ipaddress.IPv6Network, outer: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> bool:
    """`inner` is a part of `outer` smaller than it, of the same IP version."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner != outer and inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner != outer and inner.subnet_of(outer)
    return False


def _network_text(value: str) -> str:
    network(value)
    return value


def networks(values: list[str]) -> list[str]:
    for value in values:
        network(value)
    return unique(values, "a network")


DnsLabel = Annotated[str, AfterValidator(dns_label)]
ObjectName = Annotated[str, AfterValidator(object_name)]
QualifiedName = Annotated[str, AfterValidator(qualified_name)]
Labels = Annotated[dict[str, str], AfterValidator(labels)]
Annotations = Annotated[dict[str, str], AfterValidator(object_annotations)]
WildcardHostName = Annotated[str, AfterValidator(edge_host)]
WildcardHostNames = Annotated[list[str], AfterValidator(edge_hosts)]
GoDuration = Annotated[str, AfterValidator(go_duration)]
HeaderName = Annotated[str, AfterValidator(header_name)]
HeaderNames = Annotated[list[str], AfterValidator(header_names)]
HttpsUrl = Annotated[str, AfterValidator(https_url)]
ProxyUrl = Annotated[str, AfterValidator(proxy_url)]
FileName = Annotated[str, AfterValidator(file_name)]
Network = Annotated[str, AfterValidator(_network_text)]
Networks = Annotated[list[str], AfterValidator(networks)]
