"""Every stack file of the repository names the JSON Schema of stack files, which the package ships, and is valid
against it: an editor with the YAML language server completes and checks it as the render would."""

from __future__ import annotations

import fnmatch
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml
from hayhooks_pulumi.server.releases import DATA_FILE
from hayhooks_pulumi.stack_schema import MODELINE, SCHEMA_FILE
from helpers.paths import REPO

STACK_FILES = sorted(
    [*REPO.glob("Pulumi.*.yaml"), *(REPO / "examples").glob("*.yaml"), *(REPO / "examples").glob("*/Pulumi.*.yaml")]
)


def test_the_repository_has_stack_files_to_check() -> None:
    names = {path.relative_to(REPO).as_posix() for path in STACK_FILES}
    assert {"Pulumi.prod.yaml", "Pulumi.dev.yaml", "examples/consumer/Pulumi.prod.yaml"} <= names


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_each_stack_file_names_the_packaged_schema_and_is_valid_against_it(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith(MODELINE), f"{path.name} must start with `{MODELINE}<path of stack.schema.json>`"
    named = (path.parent / first.removeprefix(MODELINE).strip()).resolve()
    assert named == SCHEMA_FILE.resolve(), f"{path.name} names {named}, not the packaged schema"
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA_FILE.read_text()))
    errors = [
        f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(yaml.safe_load(path.read_text()))
    ]
    assert not errors, errors


def test_the_package_ships_the_schema_and_the_release_table() -> None:
    """The installed package needs them at run time: the table for every plan, the schema for editors."""
    data = tomllib.loads((REPO / "components" / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = REPO / "components" / "hayhooks_pulumi"
    for shipped in (SCHEMA_FILE, DATA_FILE):
        relative = shipped.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in data["hayhooks_pulumi"]), relative
