"""`make setup` prints no setuptools banner (issue 19): the editable install of the package (`-e ./components`)
made setuptools print a framed "Editable installation" notice that pip's `--quiet` lets through. The Makefile
filters that one warning (`QUIET_BUILD`); this installs the package the way `make setup` does, with and without it."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from helpers.paths import REPO


def _quiet_build() -> dict[str, str]:
    """The environment the Makefile's `QUIET_BUILD` sets for pip, as make expands it."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-pn", "lint"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    [line] = [line for line in result.stdout.splitlines() if re.match(r"^QUIET_BUILD\s*:?=", line)]
    assignment = line.split("=", 1)[1].strip()
    return dict(item.split("=", 1) for item in shlex.split(assignment))


def _install(target: Path, extra_env: dict[str, str]) -> str:
    """`pip install --quiet -e ./components` into the venv at `target`, as `make setup` runs it; what it printed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"} | extra_env
    command = [sys.executable, "-m", "pip", "--python", str(target / "bin" / "python"), "install", "--quiet"]
    command += ["--no-deps", "-e", str(REPO / "components")]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_setting_up_prints_no_setuptools_banner(tmp_path: Path) -> None:
    quiet = _quiet_build()
    assert set(quiet) == {"PYTHONWARNINGS"}
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    assert "Editable installation" in _install(tmp_path / "venv", {}), "the banner this filters is gone: drop it"
    assert _install(tmp_path / "venv", quiet) == ""
