"""components/ as a package of its own: one version, a changelog entry for it, every import declared."""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from hayhooks_pulumi import __version__
from helpers.paths import REPO

COMPONENTS = REPO / "components"
PACKAGE = COMPONENTS / "hayhooks_pulumi"
# semver.org's own pattern.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


def pyproject() -> dict:
    return tomllib.loads((COMPONENTS / "pyproject.toml").read_text())


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalize(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0])


def test_the_version_is_semver_and_written_once() -> None:
    assert SEMVER.match(__version__), __version__
    project = pyproject()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "hayhooks_pulumi._version.__version__"}
    assert importlib.metadata.version("hayhooks-pulumi") == __version__, "reinstall: make setup"


def test_the_changelog_has_an_entry_for_this_version() -> None:
    headings = re.findall(r"^## \[([^\]]+)\]", (COMPONENTS / "CHANGELOG.md").read_text(), re.M)
    assert headings[0] == "Unreleased"
    assert __version__ in headings, f"add `## [{__version__}]` to components/CHANGELOG.md"


# Run in a fresh interpreter: Python 3.11.2 keeps one AST recursion counter per interpreter, and asyncio logging a
# never-retrieved exception of an earlier mock-engine test from another thread parses source lines for its carets at
# the same time ("SystemError: AST constructor recursion depth mismatch").
_IMPORT_SCAN = """
import ast, json, pathlib, sys
found = {}
for path in pathlib.Path(sys.argv[1]).rglob("*.py"):
    names = found.setdefault(str(path), [])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
print(json.dumps(found))
"""


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level modules imported anywhere in the package, outside the standard library and itself."""
    scan = subprocess.run(
        [sys.executable, "-c", _IMPORT_SCAN, str(PACKAGE)], capture_output=True, text=True, check=True
    )
    found: dict[str, set[str]] = {}
    for path, names in json.loads(scan.stdout).items():
        for name in names:
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top not in {"hayhooks_pulumi", "__future__"}:
                found.setdefault(top, set()).add(str(Path(path).relative_to(COMPONENTS)))
    return found


def _pinned_by(distribution: str) -> set[str]:
    """What a distribution pins exactly (pydantic pins pydantic-core): those travel with it."""
    try:
        requires = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        return set()
    return {requirement_name(r) for r in requires if "==" in r.split(";")[0]}


def test_every_import_is_a_declared_dependency() -> None:
    project = pyproject()["project"]
    declared = {requirement_name(r) for r in project["dependencies"]}
    for extra in project.get("optional-dependencies", {}).values():
        declared |= {requirement_name(r) for r in extra}
    declared |= {pinned for name in set(declared) for pinned in _pinned_by(name)}
    distributions = importlib.metadata.packages_distributions()
    missing = {
        module: sorted(files)
        for module, files in _third_party_imports().items()
        if not {normalize(d) for d in distributions.get(module, [module])} & declared
    }
    assert missing == {}, "declare these in components/pyproject.toml (dependencies or an extra)"


def test_the_runtime_dependencies_are_what_the_core_imports() -> None:
    """No dependency is declared that nothing imports (extras aside)."""
    declared = {requirement_name(r) for r in pyproject()["project"]["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    imported = {normalize(d) for module in _third_party_imports() for d in distributions.get(module, [module])}
    assert declared - imported == set()


def test_the_public_api_loads_lazily_and_completely() -> None:
    import hayhooks_pulumi

    assert set(hayhooks_pulumi.__all__) == set(hayhooks_pulumi._EXPORTS) | {"__version__"}
    assert all(getattr(hayhooks_pulumi, name) is not None for name in hayhooks_pulumi.__all__)
    # A subpackage such as the policy rules must not pay for the providers' SDKs.
    code = "import sys, hayhooks_pulumi.policy; print(sorted(m for m in sys.modules if m.startswith('pulumi_')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
