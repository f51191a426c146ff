"""The CRD schemas ship with the package: generated from the pinned upstream files, complete for
every custom resource kind the components emit, and free of what neither a validator nor an API
server reads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from hayhooks_pulumi.crds import CRD_DIR, SOURCE_ANNOTATION, SOURCE_SHA256_ANNOTATION
from hayhooks_pulumi.crds.generate import generate, lock_entries, main, strip_descriptions
from helpers.paths import REPO

LOCK = REPO / ".github" / "crds.lock"


def packaged() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(CRD_DIR.glob("*.json"))}


def test_every_locked_upstream_file_is_packaged_with_its_sha256_and_source() -> None:
    files = packaged()
    expected = {f"{Path(name).stem}.json": (sha256, url) for sha256, name, url in lock_entries(LOCK)}

    assert set(files) == set(expected), "run `make crds UPSTREAM=<folder>` after changing .github/crds.lock"
    for name, crd in files.items():
        annotations = crd["metadata"]["annotations"]
        assert (annotations[SOURCE_SHA256_ANNOTATION], annotations[SOURCE_ANNOTATION]) == expected[name], name


def test_the_lock_pins_each_upstream_file_by_commit() -> None:
    for _, name, url in lock_entries(LOCK):
        assert url.endswith("/" + name)
        assert any(len(part) == 40 and all(c in "0123456789abcdef" for c in part) for part in url.split("/")), url


def test_packaged_crds_keep_what_an_api_server_needs_and_no_descriptions() -> None:
    for name, crd in packaged().items():
        assert crd["apiVersion"] == "apiextensions.k8s.io/v1" and crd["kind"] == "CustomResourceDefinition"
        spec = crd["spec"]
        assert set(spec) == {"group", "names", "scope", "versions"}, name
        assert crd["metadata"]["name"] == f"{spec['names']['plural']}.{spec['group']}"
        assert sum(v["storage"] for v in spec["versions"]) == 1, name
        for version in spec["versions"]:
            assert {"name", "served", "storage", "schema"} <= set(version)
            assert '"description": "' not in json.dumps(version), f"{name} {version['name']} keeps a description"


def test_strip_descriptions_keeps_a_property_named_description() -> None:
    schema = {
        "description": "drop me",
        "properties": {"description": {"type": "string", "description": "drop me too"}, "x": {"type": "integer"}},
    }
    assert strip_descriptions(schema) == {"properties": {"description": {"type": "string"}, "x": {"type": "integer"}}}


def upstream_crd(tmp_path: Path) -> tuple[Path, Path]:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com", "annotations": {"controller-gen.kubebuilder.io/version": "v0"}},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "additionalPrinterColumns": [{"name": "Age", "type": "date", "jsonPath": ".metadata.age"}],
                    "schema": {"openAPIV3Schema": {"type": "object", "description": "A widget."}},
                    "subresources": {"status": {}},
                }
            ],
        },
    }
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    data = yaml.safe_dump(crd).encode()
    (upstream / "example.com_widgets.yaml").write_bytes(data)
    lock = tmp_path / "crds.lock"
    sha256 = hashlib.sha256(data).hexdigest()
    lock.write_text(f"# test lock\n{sha256}  example.com_widgets.yaml  https://example.invalid/{'0' * 40}/w.yaml\n")
    return upstream, lock


def test_generation_is_deterministic_and_keeps_subresources(tmp_path: Path) -> None:
    upstream, lock = upstream_crd(tmp_path)
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    generate(lock, upstream, first)
    generate(lock, upstream, second)

    text = (first / "example.com_widgets.json").read_text()
    assert text == (second / "example.com_widgets.json").read_text()
    [version] = json.loads(text)["spec"]["versions"]
    assert version == {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object"}},
        "subresources": {"status": {}},
    }


def test_an_upstream_file_that_differs_from_the_lock_is_refused(tmp_path: Path) -> None:
    upstream, lock = upstream_crd(tmp_path)
    (upstream / "example.com_widgets.yaml").write_text("changed: true\n")
    with pytest.raises(SystemExit, match=r"example.com_widgets.yaml has sha256 [0-9a-f]{64}, the lock pins"):
        generate(lock, upstream, tmp_path)
    assert not list(tmp_path.glob("*.json"))


def test_a_missing_upstream_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nowhere"), "--lock", str(LOCK), "--out", str(tmp_path)]) == 2
    assert "no folder" in capsys.readouterr().err
