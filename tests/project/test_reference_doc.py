"""docs/reference.md is the config reference the models generate, written whole by `make reference`."""

from __future__ import annotations

import re

from hayhooks_pulumi.kubernetes.args import HayhooksServiceArgs
from hayhooks_pulumi.reference import reference, reference_document
from helpers.paths import REPO

REFERENCE = REPO / "docs" / "reference.md"


def test_the_reference_file_is_what_make_reference_writes() -> None:
    assert REFERENCE.read_text() == reference_document(), "regenerate: make reference"


def test_make_reference_writes_that_file_with_the_same_generator() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^reference:.*\n((?:\t.*\n)+)", makefile, re.M)

    assert recipe, "the Makefile lacks a reference target"
    assert "-m hayhooks_pulumi.reference --out docs/reference.md" in recipe.group(1)


def test_the_readme_links_the_reference() -> None:
    assert "(docs/reference.md)" in (REPO / "README.md").read_text()


def test_every_field_is_documented() -> None:
    text = reference(HayhooksServiceArgs, "hayhooks:service")
    assert "|  |" not in text and "| |" not in text
