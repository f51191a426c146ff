"""Container image references: `[registry/]repository[:tag][@sha256:<64 hex>]`."""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass

import pulumi

from .errors import ConfigError, Problem
from .profile import Profile

# The reference grammar of the distribution spec, reduced to what a deployment names.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"^(?:(?P<registry>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?$"
)
_SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")
# What a stack file carries until someone with registry access pins the real image: no image has it.
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64
# Set by the offline render only: a review of a stack still waiting for its digest is not a deployment.
RENDER_OFFLINE_ENV = "HAYHOOKS_RENDER_OFFLINE"


class PlaceholderDigestWarning(UserWarning):
    """A production image still carries the placeholder digest (accepted by the offline render only)."""


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference. The tag is kept beside the digest for readers; the digest decides."""

    repository: str
    tag: str | None
    digest: str | None

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    @property
    def version(self) -> str:
        """A label-safe version: the tag, else the digest's first 12 hex digits."""
        # A label value starts and ends with a letter or digit; a tag may start with '_' and end with '.' or '-'.
        version = self.tag[:63].strip("_.-") if self.tag else ""
        if version:
            return version
        return self.digest.split(":", 1)[1][:12] if self.digest else "unknown"

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _pin_hint(ref: str) -> str:
    return (
        f"find the digest of a tag with `docker buildx imagetools inspect {ref}` "
        f"(or `crane digest {ref}`) and write {ref}@sha256:<digest>"
    )


def parse_image(ref: str, profile: Profile, path: str = "image") -> ImageRef:
    """Parse and validate a reference; production refuses one without a digest."""
    match = _REFERENCE.match(ref.strip()) if isinstance(ref, str) else None
    if match is None:
        raise ConfigError(
            [
                Problem(
                    path,
                    f"{ref!r} is not an image reference; expected registry/repository[:tag]@sha256:<64 hex digits>",
                )
            ]
        )
    registry, repo_path, tag, digest = match.group("registry", "path", "tag", "digest")
    if digest is not None and not _SHA256.match(digest):
        raise ConfigError([Problem(path, f"digest {digest!r} must be sha256: followed by 64 lowercase hex digits")])
    if digest == PLACEHOLDER_DIGEST and profile is Profile.PRODUCTION:
        _placeholder(ref.strip().partition("@")[0], path)
    if digest is None and profile is Profile.PRODUCTION:
        raise ConfigError(
            [Problem(path, f"{ref!r} is not pinned by digest, which the production profile requires; {_pin_hint(ref)}")]
        )
    if digest is None and tag in (None, "latest"):
        raise ConfigError([Problem(path, f"{ref!r} names no version; pin a tag and a digest ({_pin_hint(ref)})")])
    repository = f"{registry}/{repo_path}" if registry else repo_path

    return ImageRef(repository=repository, tag=tag, digest=digest)


def digest_of(ref: str | None) -> str | None:
    """The `sha256:<hex>` digest of a reference (`repo[:tag]@sha256:...`, as an image or a repo digest names
    it), or None when it names none: the one format of the components' `imageDigest` output."""
    match = _REFERENCE.match(ref.strip()) if isinstance(ref, str) else None
    digest = match.group("digest") if match else None
    return digest if digest is not None and _SHA256.match(digest) else None


def _placeholder(unpinned: str, path: str) -> None:
    """Production refuses the placeholder (the pull would fail: ImagePullBackOff); the offline render warns."""
    if os.environ.get(RENDER_OFFLINE_ENV) == "1":
        warnings.warn(
            # One short line: the how is the README's (and `pulumi up`'s refusal below says it in full).
            f"{path}: placeholder digest: replace before pulumi up (README: Pin the image by digest)",
            PlaceholderDigestWarning,
            stacklevel=3,
        )
        return
    raise ConfigError(
        [
            Problem(
                path,
                f"{unpinned}@{PLACEHOLDER_DIGEST} carries the all-zero placeholder digest, which no image has "
                f"(the pull would fail); {_pin_hint(unpinned)}",
            )
        ]
    )


def resolve_image(image: pulumi.Input[str], profile: Profile, path: str = "image") -> pulumi.Output[str]:
    """Validate an image that may arrive as an Output (built elsewhere) inside `apply`."""
    return pulumi.Output.from_input(image).apply(lambda ref: str(parse_image(ref, profile, path)))
