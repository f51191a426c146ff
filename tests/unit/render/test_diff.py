"""The comparison behind `make diff`: resources matched by the engine's identity, fields by stable paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hayhooks_pulumi.render.diff import MAX_VALUE, compare, diff_lines, flatten, summary


def _render(folder: Path, resources: list[dict[str, Any]], outputs: dict[str, Any] | None = None) -> Path:
    folder.mkdir()
    (folder / "resources.json").write_text(json.dumps(resources))
    (folder / "outputs.json").write_text(json.dumps(outputs or {}))
    return folder


def _configmap(name: str, data: dict[str, str]) -> dict[str, Any]:
    inputs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}, "data": data}
    return {"type": "kubernetes:core/v1:ConfigMap", "name": "hh-pipelines", "parent": "hh", "inputs": inputs}


def test_a_list_of_named_items_is_keyed_by_name_so_an_insert_is_one_change() -> None:
    before = flatten({"env": [{"name": "A", "value": "1"}, {"name": "C", "value": "3"}]})
    after = flatten({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]})
    assert set(after) - set(before) == {"env[B].name", "env[B].value"}
    assert flatten({"args": ["run", "--port", "1416"]}) == {"args[0]": "run", "args[1]": "--port", "args[2]": "1416"}


def test_resources_are_matched_by_type_name_and_parent_not_by_the_objects_name(tmp_path: Path) -> None:
    # A new pipelines ConfigMap has a new name (its checksum): the engine replaces the same resource.
    base = _render(tmp_path / "base", [_configmap("hh-pipelines-1111", {"a.yml": "x"})], {"url": "http://a"})
    head = _render(tmp_path / "head", [_configmap("hh-pipelines-2222", {"a.yml": "y"})], {"url": "http://a"})
    diff = compare(base, head)
    assert not diff.added and not diff.removed and not diff.outputs
    [change] = diff.changed
    assert [path for path, _, _ in change.fields] == ["data.a.yml", "metadata.name"]
    assert summary(diff) == "1 changed, 0 added, 0 removed, 0 unchanged"


def test_no_base_means_everything_is_added_and_long_values_are_cut(tmp_path: Path) -> None:
    head = _render(tmp_path / "head", [_configmap("hh-pipelines-1", {"a.yml": "x" * 1000})])
    diff = compare(None, head)
    assert [r.label for r in diff.added] == ["kubernetes:core/v1:ConfigMap hh-pipelines (ConfigMap ns/hh-pipelines-1)"]
    [line] = [line for line in diff_lines(diff) if "data.a.yml" in line]
    assert line.endswith("…") and len(line.split(": ", 1)[1]) == MAX_VALUE
