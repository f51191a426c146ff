"""The repository's folders, as the tests find them."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIPELINES = str(REPO / "pipelines")
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
