"""The README's config reference is the one the models generate."""

from __future__ import annotations

import re

from conftest import REPO
from hayhooks_pulumi.kubernetes.args import HayhooksServiceArgs
from hayhooks_pulumi.reference import current, reference

START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def readme_reference() -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(re.escape(START) + r"\n(.*)" + re.escape(END), text, re.S)
    assert match, "README.md lacks the config-reference markers"
    return match.group(1)


def test_readme_reference_matches_the_models() -> None:
    expected = current()
    assert readme_reference() == expected, "regenerate: make reference"


def test_every_field_is_documented() -> None:
    text = reference(HayhooksServiceArgs, "hayhooks:service")
    assert "|  |" not in text and "| |" not in text
