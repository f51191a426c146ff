"""What the end-to-end tests share: renders of a project (the repository's stacks and examples come from
the session's `stack_render`), reading them back as the objects an API server receives, and what
`make toolchain` built."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cluster import toolchain_dir  # e2e/, which tests/e2e/conftest.py puts on sys.path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
CONSUMER = REPO / "examples" / "consumer"
# Applied first, as the engine orders them: what the rest lives in or refers to.
FIRST = ("Namespace", "ServiceAccount", "Secret", "ConfigMap")


@dataclass(frozen=True)
class Render:
    name: str
    out: Path

    @property
    def files(self) -> list[Path]:
        return sorted((self.out / "manifests").glob("*.yaml"))

    def objects(self) -> list[dict[str, Any]]:
        bodies = [yaml.safe_load(path.read_text()) for path in self.files]
        return sorted(bodies, key=lambda b: FIRST.index(b["kind"]) if b["kind"] in FIRST else len(FIRST))

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [body for body in self.objects() if body["kind"] == kind]

    @property
    def namespaces(self) -> set[str]:
        """Every namespace an object is in."""
        return {body["metadata"]["namespace"] for body in self.objects() if "namespace" in body["metadata"]}

    @property
    def own_namespaces(self) -> set[str]:
        return {body["metadata"]["name"] for body in self.of_kind("Namespace")}


def render(name: str, out: Path, config: Path | None = None, project: Path = REPO) -> Render:
    """`make render` of one stack, in a fresh interpreter; fails the test with the render's own words."""
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--stack", name, "--out", str(out), "--quiet"]
    command += ["--project-dir", str(project)]
    if config is not None:
        command += ["--config", str(config)]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"render of {name} failed:\n{result.stderr}"
    return Render(name, out)


def ref(body: dict[str, Any]) -> str:
    """kind/name as kubectl names an object."""
    return f"{body['kind'].lower()}/{body['metadata']['name']}"


def api_resource(body: dict[str, Any]) -> str:
    """The resource kubectl should ask for: kind.version.group, so equal kinds of two groups never mix."""
    group_version = body["apiVersion"]
    group, _, version = group_version.rpartition("/")
    return f"{body['kind']}.{version}.{group}" if group else body["kind"]


def toolchain_manifest() -> dict[str, tuple[str, str, str]]:
    """What e2e/toolchain.sh recorded per piece: (status, version, detail)."""
    path = toolchain_dir() / "manifest.tsv"
    if not path.is_file():
        return {}
    rows = (line.split("\t") for line in path.read_text().splitlines() if line.strip())
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def describe_toolchain() -> str:
    rows = toolchain_manifest()
    if not rows:
        return f"no toolchain at {toolchain_dir()}: run `make toolchain`"
    return "; ".join(
        f"{name} {version if status != 'refused' else 'REFUSED'}" for name, (status, version, _) in rows.items()
    )
