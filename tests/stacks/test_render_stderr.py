"""A render's stderr holds its warnings and nothing else: no `Exception ignored in: <function BaseEventLoop.__del__
...> ValueError: Invalid file descriptor: -1` at exit (issue 19: about one render in twenty printed it). The SDK's
mock monitor gives each executor thread an event loop that nothing closed; the render now closes them all."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers.paths import REPO

RENDERS = 40


def _render(out: Path, stack: str = "prod", *python_options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *python_options, "-m", "hayhooks_pulumi.render", "--stack", stack, "--quiet"]
    return subprocess.run(
        [*command, "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


def _unexpected(stderr: str) -> list[str]:
    """Lines of stderr other than the render's own warnings."""
    return [line for line in stderr.splitlines() if not line.startswith("warning: ")]


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_a_render_leaves_no_event_loop_for_the_interpreter_to_finalize(tmp_path: Path, stack: str) -> None:
    # With ResourceWarning shown, every loop still open at exit says so when it is finalized: what the traceback
    # came from, seen on every render instead of one in twenty.
    result = _render(tmp_path / "out", stack, "-W", "always::ResourceWarning")
    assert result.returncode == 0, result.stderr
    assert "unclosed event loop" not in result.stderr, result.stderr
    assert _unexpected(result.stderr) == [], result.stderr


def test_many_renders_in_parallel_end_without_a_traceback(tmp_path: Path) -> None:
    workers = max(2, os.cpu_count() or 2)
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda index: _render(tmp_path / f"out{index}"), range(RENDERS)))
    failed = [result.stderr for result in results if result.returncode != 0]
    assert failed == [], failed[0]
    noisy = [result.stderr for result in results if _unexpected(result.stderr)]
    assert noisy == [], f"{len(noisy)} of {RENDERS} renders printed more than warnings:\n{noisy[0]}"
