"""What a newcomer reads first (issue 19 §4): the README's first screen says what `make test` needs before anyone
runs it, and its install lines can be copied as they are (no `<org>` to guess)."""

from __future__ import annotations

import re

import pytest
from helpers.paths import REPO

READMES = [REPO / "README.md", REPO / "components" / "README.md"]
INSTALL = re.compile(r"^\s*(pip install|git clone|pulumi package add)\b")


def _first_screen() -> str:
    """The README up to its first subsection: what a newcomer sees before scrolling on."""
    text = (REPO / "README.md").read_text()
    return text.split("\n### ", 1)[0]


def test_the_first_screen_says_what_make_test_needs_before_it_is_run() -> None:
    screen = _first_screen()
    needs = screen[: screen.index("make test")] + screen[screen.index("make test") :].split("```", 1)[0]
    for fact in ("root", "Debian", "Go 1.26", "module proxy", "PyPI", "apt", "toolchain and images"):
        assert fact in needs, fact
    # How long the cold build takes, said before it is started.
    assert re.search(r"cold, about \d+ minutes", needs), needs
    # ... and offers what runs without them.
    assert "--ignore=tests/e2e" in screen


def _shell_lines(text: str) -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [line for block in blocks for line in block.splitlines()]


@pytest.mark.parametrize("readme", READMES, ids=lambda path: str(path.relative_to(REPO)))
def test_install_lines_copy_as_they_are(readme) -> None:
    installs = [line for line in _shell_lines(readme.read_text()) if INSTALL.match(line)]
    assert installs
    for line in installs:
        command = line.split("  #", 1)[0]
        assert not re.search(r"<[^>]+>", command), f"a placeholder to guess: {line}"
    assert "<org>" not in readme.read_text()
    # A path install from a clone comes first: nothing to look up.
    assert re.match(r"\s*pip install \./hayhooks-pulumi/components", next(i for i in installs if "pip" in i))
