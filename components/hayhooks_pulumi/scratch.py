"""Writable scratch space on the read-only root filesystem, sized alike on both targets."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from .model import ConfigModel
from .quantity import parse_quantity

MIB = 2**20


def size_bytes(text: str) -> int:
    """A size as a Kubernetes quantity (`1Gi`, `512Mi`, `2G`), in whole bytes of at least 1 MiB."""
    value = parse_quantity(text)
    if value != int(value) or value < MIB:
        raise ValueError(f"{text!r} is not a size of at least 1Mi in whole bytes: write e.g. 512Mi or 2Gi")
    return int(value)


def _size(text: str) -> str:
    size_bytes(text)
    return text


Size = Annotated[str, AfterValidator(_size)]


def tmpfs_size(text: str) -> str:
    """The kernel's tmpfs `size=` for a quantity: MiB or KiB where whole (`1Gi` -> `1024m`), else bytes."""
    value = size_bytes(text)
    for unit, factor in (("m", MIB), ("k", 2**10)):
        if value % factor == 0:
            return f"{value // factor}{unit}"
    return str(value)


class ScratchArgs(ConfigModel):
    """Writable space on the read-only root filesystem (emptyDirs on Kubernetes, memory-backed tmpfs on Docker),
    as Kubernetes quantities, e.g. `512Mi`, `2Gi`."""

    tmp_size: Size = "1Gi"
    """Size of `/tmp`: wrapper copies, uploads, `/draw` renderings."""
    home_size: Size = "256Mi"
    """Size of the server's `HOME`: what libraries write under `~` (not model caches: see `cache` on Kubernetes)."""
