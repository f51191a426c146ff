"""The render as `kubectl apply --server-side -f build/<stack>/manifests/` takes it without a Pulumi CLI (issue 19,
found on a real kubelet): the files sort in an order that works the first time (the Deployment once came before its
ServiceAccount: `FailedCreate: serviceaccount "hayhooks" not found`), and no Secret looks applicable (applied, they
held the text `[secret]`, and every login at the ingress failed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hayhooks_pulumi.crds import CRD_DIR
from hayhooks_pulumi.render.schemas import rendered_manifests, validate_manifest
from helpers.paths import REPO
from helpers.render import Rendered, Renders

# The extensions `kubectl apply -f <folder>` reads.
APPLIED = (".yaml", ".yml", ".json")
AUTH_SECRET = "nginx.ingress.kubernetes.io/auth-secret"


@pytest.fixture(scope="module")
def renders(stack_render: Renders, example_renders: dict[str, Rendered]) -> dict[str, Path]:
    found = {"prod": stack_render("prod"), **example_renders}
    for name, rendered in found.items():
        assert rendered.result.returncode == 0, f"{name}: {rendered.result.stderr}"
    return {name: rendered.out for name, rendered in found.items()}


def _pod_spec(body: dict[str, Any]) -> dict[str, Any]:
    return body.get("spec", {}).get("template", {}).get("spec", {}) if body["kind"] == "Deployment" else {}


def references(body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, name) of each object in its own namespace that `body` needs to exist when it is applied."""
    namespace = body["metadata"].get("namespace")
    if namespace:
        yield "Namespace", namespace
    spec = _pod_spec(body)
    if spec.get("serviceAccountName"):
        yield "ServiceAccount", spec["serviceAccountName"]
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"]
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"]
    for container in spec.get("containers", []):
        for entry in container.get("env", []):
            ref = entry.get("valueFrom", {})
            if "secretKeyRef" in ref:
                yield "Secret", ref["secretKeyRef"]["name"]
            if "configMapKeyRef" in ref:
                yield "ConfigMap", ref["configMapKeyRef"]["name"]
    annotations = body["metadata"].get("annotations") or {}
    if AUTH_SECRET in annotations:
        yield "Secret", annotations[AUTH_SECRET].rpartition("/")[2]


def makes(body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """What applying `body` brings into being: itself, and the Secret an ExternalSecret writes."""
    yield body["kind"], body["metadata"]["name"]
    if body["kind"] == "ExternalSecret":
        yield "Secret", body["spec"].get("target", {}).get("name") or body["metadata"]["name"]


def test_the_folder_applies_what_each_object_needs_before_it(renders: dict[str, Path]) -> None:
    checked = 0
    for name, out in renders.items():
        files = rendered_manifests(out)
        made_at: dict[tuple[str, str], int] = {}
        bodies = [(index, yaml.safe_load(path.read_text())) for index, path in enumerate(files)]
        for index, body in bodies:
            for made in makes(body):
                made_at.setdefault(made, index)
        for index, body in bodies:
            for needed in references(body):
                if needed in made_at:  # what the render does not make (a store's Secret, a TLS Secret) is yours
                    checked += 1
                    assert made_at[needed] < index, f"{name}: {files[index].name} comes before its {needed}"
    assert checked > 20


def test_no_secret_is_a_file_the_folders_apply_reads(renders: dict[str, Path]) -> None:
    templates = 0
    for name, out in renders.items():
        for path in (out / "manifests").iterdir():
            body = yaml.safe_load(path.read_text())
            if body["kind"] == "Secret":
                templates += 1
                assert not path.name.endswith(APPLIED), f"{name}: {path.name} would be applied holding [secret]"
            else:
                assert path.name.endswith(".yaml"), f"{name}: {path.name} would not be applied"
    assert templates >= 3


def test_a_secret_template_says_what_to_fill_in_and_applies_once_filled(renders: dict[str, Path]) -> None:
    [path] = (renders["prod"] / "manifests").glob("*-secret-*.yaml.template")
    text = path.read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    body = yaml.safe_load(text)
    # What to do, and what each value is.
    assert "NOT APPLIED" in header[0]
    assert any(path.name.removesuffix(".template") in line for line in header), header
    for key in body["stringData"]:
        assert any(line.startswith(f"#   {key}: ") and "htpasswd" in line for line in header), header
    # Filled in as the header says, it is a valid Secret (its place in the order: the test above).
    filled = yaml.safe_load(text.replace("[secret]", "hayhooks:$2y$05$abcdefghijklmnopqrstuv"))
    assert validate_manifest(filled, CRD_DIR) == []


def test_the_render_says_what_its_counts_are_made_of(stack_render: Renders) -> None:
    rendered = stack_render("prod")
    out = rendered.out
    lines = rendered.result.stdout.splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("rendered "))
    total = int(re.match(r"rendered (\d+) resources", lines[first])[1])  # type: ignore[index]
    applied = len(list((out / "manifests").glob("*.yaml")))
    templates = len(list((out / "manifests").glob("*.yaml.template")))
    assert lines[first + 1] == (
        f"  manifests/: {applied} Kubernetes object(s) to apply in file order, and {templates} Secret(s) to fill "
        "in first (*.yaml.template)"
    )
    others = total - applied - templates
    assert lines[first + 2].startswith(f"  resources.json: all {total}: those, and {others} without a file")


def test_the_readme_offers_the_apply_as_the_render_lays_it_out() -> None:
    readme = (REPO / "README.md").read_text()
    assert "namespace-hayhooks.yaml -f" not in readme  # the Namespace needs no file of its own first any more
    assert ".yaml.template" in readme and "kubectl apply --server-side -f build/local/manifests/" in readme
