"""Schema checks of a render: built-in kinds against Kubernetes' own schemas (strict), custom
resources against their CRDs (by default the ones the package ships, `hayhooks_pulumi/crds`).
Needs the `check` extra (kubernetes-validate, jsonschema): `require_check_extra` says so plainly."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..crds import CRD_DIR

CHECK_EXTRA_MODULES = ("kubernetes_validate", "jsonschema")
# The oldest Kubernetes release still supported by its maintainers that we validate against,
# besides the newest schema kubernetes-validate ships.
OLDEST_KUBERNETES = "1.33.0"


@dataclass(frozen=True)
class SchemaIssue:
    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


class MissingCheckExtraError(RuntimeError):
    pass


def require_check_extra() -> None:
    """Fail before any work when the `check` extra is not installed, naming the extra."""
    import importlib.util

    missing = [name for name in CHECK_EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingCheckExtraError(
            f"the schema checks need {', '.join(missing)}: pip install 'hayhooks-pulumi[check]'"
        )


def kubernetes_versions() -> list[str]:
    import kubernetes_validate

    return [OLDEST_KUBERNETES, kubernetes_validate.latest_version()]


def _loader() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _crd_files(crd_dir: Path) -> list[Path]:
    """The packaged CRDs are JSON; a folder of upstream files given with --crd-dir is YAML."""
    return sorted([*crd_dir.glob("*.json"), *crd_dir.glob("*.yaml")])


@cache
def crd_schemas(crd_dir: Path = CRD_DIR) -> dict[tuple[str, str], dict[str, Any]]:
    """openAPIV3Schema by (apiVersion, kind), for every served version of every CRD in the folder."""
    schemas = {}
    for path in _crd_files(crd_dir):
        text = path.read_text()
        crd = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_loader())
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            continue
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def validate_custom_resource(body: dict[str, Any], crd_dir: Path = CRD_DIR) -> list[str]:
    """The body without apiVersion, kind and metadata against the served version's schema."""
    import jsonschema

    schema = crd_schemas(crd_dir).get((str(body.get("apiVersion")), str(body.get("kind"))))
    if schema is None:
        return [f"no served CRD version for {body.get('apiVersion')} {body.get('kind')} in {crd_dir}"]
    rest = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
    # metadata is the API server's to check (some CRDs, e.g. Traefik's, list it as required); keep the rest.
    schema = {
        **schema,
        "properties": {k: v for k, v in schema.get("properties", {}).items() if k != "metadata"},
        "required": [k for k in schema.get("required", []) if k not in ("apiVersion", "kind", "metadata")],
    }
    validator = jsonschema.Draft7Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(rest)]


def validate_manifest(
    body: dict[str, Any], crd_dir: Path = CRD_DIR, versions: Iterable[str] | None = None
) -> list[str]:
    """Problems of one manifest; built-in kinds under every Kubernetes version (default: kubernetes_versions())."""
    import kubernetes_validate

    if body.get("apiVersion", "").split("/")[0] in {group for group, _ in _crd_groups(crd_dir)}:
        return validate_custom_resource(body, crd_dir)
    problems = []
    for version in kubernetes_versions() if versions is None else versions:
        try:
            kubernetes_validate.validate(body, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(map(str, error.path)) or "(root)"
            problems.append(f"Kubernetes {version}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"Kubernetes {version}: no schema: {error}")
    return problems


def _crd_groups(crd_dir: Path) -> set[tuple[str, str]]:
    return {(api.split("/")[0], kind) for api, kind in crd_schemas(crd_dir)}


def rendered_manifests(render_dir: Path) -> list[Path]:
    """A render's manifest files in apply order: the objects and the Secret templates (`*.yaml.template`)."""
    folder = render_dir / "manifests"
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yaml.template")])


def validate_render(render_dir: Path, crd_dir: Path = CRD_DIR) -> list[SchemaIssue]:
    """Every manifest of a render, the Secret templates too (as they are once filled in); an empty list means all
    valid."""
    versions = kubernetes_versions()
    issues: list[SchemaIssue] = []
    for path in rendered_manifests(render_dir):
        body = yaml.load(path.read_text(), Loader=_loader())
        issues.extend(SchemaIssue(path.name, m) for m in validate_manifest(body, crd_dir, versions))
    return issues
