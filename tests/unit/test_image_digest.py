"""The `imageDigest` output: `sha256:<64 hex>` in both targets, unset when there is none to report (a
Kubernetes image named by tag only), never the whole reference."""

from __future__ import annotations

import hashlib
import json
import re

import pulumi
import pytest
from hayhooks_pulumi.image import digest_of
from hayhooks_pulumi.render.mocks import repo_digest
from helpers.docker import build as build_container
from helpers.docker import dev_args
from helpers.kubernetes import base_args
from helpers.kubernetes import build as build_service
from helpers.render import Renders

SHA256 = re.compile(r"^sha256:[0-9a-f]{64}\Z")
DIGEST = "sha256:" + hashlib.sha256(b"an image").hexdigest()
TAGGED = "deepset/hayhooks:v2.1.0"


@pytest.mark.parametrize(
    ("ref", "digest"),
    [
        (f"{TAGGED}@{DIGEST}", DIGEST),
        (f"deepset/hayhooks@{DIGEST}", DIGEST),  # a repo digest as Docker reports it
        (f"registry.example.com:5000/team/hayhooks:v2@{DIGEST}", DIGEST),
        (TAGGED, None),
        ("registry.example.com:5000/team/hayhooks", None),
        ("", None),
        (None, None),
        ("not a reference", None),
    ],
)
def test_digest_of(ref: str | None, digest: str | None) -> None:
    assert digest_of(ref) == digest


def test_kubernetes_reports_the_digest_or_nothing() -> None:
    _, outputs = build_service(base_args(image=f"{TAGGED}@{DIGEST}"))
    assert outputs["image_digest"] == DIGEST
    _, outputs = build_service(base_args(profile="development", image=TAGGED))
    assert outputs["image_digest"] is None
    unpinned = {k: v for k, v in base_args(profile="development").items() if k != "image"}
    # An image known only at deploy time: `server.version` says the release its tag would.
    unpinned["server"] = {**unpinned.get("server", {}), "version": "2.1.0"}
    _, outputs = build_service(unpinned, image=pulumi.Output.from_input(TAGGED))
    assert outputs["image_digest"] is None


@pytest.mark.parametrize("image", [TAGGED, f"{TAGGED}@{DIGEST}"])
def test_docker_reports_the_pulled_images_digest_alone(image: str) -> None:
    _, outputs = build_container(dev_args(image=image))
    assert SHA256.match(outputs["image_digest"]), outputs["image_digest"]
    if "@" in image:
        assert outputs["image_digest"] == DIGEST


def test_the_render_stand_in_is_a_repo_digest() -> None:
    # As the engine reports it: the repository (no tag) and a digest; the reference's own when it pins one.
    assert repo_digest(f"{TAGGED}@{DIGEST}") == f"deepset/hayhooks@{DIGEST}"
    stand_in = repo_digest(TAGGED)
    assert stand_in.startswith("deepset/hayhooks@sha256:") and SHA256.match(stand_in.split("@")[1])
    assert repo_digest(TAGGED) == stand_in  # deterministic
    assert repo_digest("localhost:5000/x/y:tag").startswith("localhost:5000/x/y@sha256:")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_render_the_same_format(stack: str, stack_render: Renders) -> None:
    rendered = stack_render(stack)
    assert rendered.result.returncode == 0, rendered.result.stderr
    outputs = json.loads((rendered.out / "outputs.json").read_text())
    assert SHA256.match(outputs["imageDigest"]), outputs["imageDigest"]
