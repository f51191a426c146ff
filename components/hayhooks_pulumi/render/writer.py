"""What a render writes: one manifest per Kubernetes object, one spec per Docker resource,
`resources.json` of everything, with every secret value redacted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret

from .mocks import Registration

REDACTED = "[secret]"


def redact(value: Any) -> Any:
    """Secret outputs become `[secret]`, wherever they sit; keys sorted, whole numbers as ints
    (the wire format carries every number as a double)."""
    if is_rpc_secret(value):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _redact_values(value: Any) -> Any:
    """A Secret's data map with its keys kept and every value redacted."""
    value = unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: REDACTED for k in sorted(value)}
    return REDACTED


def _parent_names(registrations: list[Registration]) -> dict[str, str]:
    return {r.urn: r.name for r in registrations}


def resource_records(registrations: list[Registration]) -> list[dict[str, Any]]:
    names = _parent_names(registrations)
    records = [
        {"type": r.type, "name": r.name, "parent": names.get(r.parent_urn), "inputs": redact(_secret_data(r))}
        | ({"autoName": r.auto_name} if r.auto_name else {})
        for r in registrations
    ]
    return sorted(records, key=lambda r: (r["type"], r["name"]))


def _secret_data(registration: Registration) -> dict[str, Any]:
    """Kubernetes Secrets keep their key names, whether or not the engine marked them secret."""
    inputs = registration.inputs
    if registration.type == "kubernetes:core/v1:Secret":
        inputs = {**inputs, **{k: _redact_values(inputs[k]) for k in ("data", "stringData") if k in inputs}}
    return inputs


def is_kubernetes_object(record: dict[str, Any]) -> bool:
    inputs = record["inputs"]
    return record["type"].startswith("kubernetes:") and "kind" in inputs and "apiVersion" in inputs


def manifest(record: dict[str, Any]) -> dict[str, Any]:
    """The object as the provider would send it: apiVersion, kind, metadata first; Secret data redacted; an
    auto-named object under the render's stand-in for the provider's name."""
    inputs = dict(record["inputs"])
    metadata = dict(inputs.pop("metadata", {}))
    if "autoName" in record:
        metadata = {"name": record["autoName"], **metadata}
    body = {"apiVersion": inputs.pop("apiVersion"), "kind": inputs.pop("kind"), "metadata": metadata}
    body.update(inputs)
    return body


def manifest_filename(body: dict[str, Any]) -> str:
    return f"{body['kind'].lower()}-{body['metadata'].get('name', 'unnamed')}.yaml"


# libyaml's emitter is ~6x faster; with no line folding it writes the same bytes as PyYAML's own,
# so a render is identical on machines with and without it.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
NO_FOLDING = 2**31 - 1


def dump_yaml(data: Any, dumper: type = _DUMPER) -> str:
    return yaml.dump(
        data, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=NO_FOLDING
    )


def docker_filename(record: dict[str, Any]) -> str:
    kind = record["type"].rsplit(":", 1)[-1].lower()
    return f"{kind}-{record['name']}.yaml"


class DuplicateUrnError(ValueError):
    """Two resources of one program have one URN: the engine refuses the second, so `pulumi up` would fail."""


def check_unique_urns(registrations: list[Registration]) -> None:
    """Refuse what the engine refuses, with its message: a URN registered twice (same name, type and parents)."""
    seen: set[str] = set()
    for registration in registrations:
        if registration.urn in seen:
            raise DuplicateUrnError(f"Duplicate resource URN '{registration.urn}'; try giving it a unique name")
        seen.add(registration.urn)


class DuplicateObjectError(ValueError):
    """Two resources of one program are the same Kubernetes object: the API server would keep one."""


def _manifest_files(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Manifest file name -> object. Objects of one kind and name in different namespaces get the
    namespace in their file names; the same object registered twice is refused, not overwritten."""
    bodies = [(record, manifest(record)) for record in records if is_kubernetes_object(record)]
    by_file: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for record, body in bodies:
        by_file.setdefault(manifest_filename(body), []).append((record, body))
    files: dict[str, dict[str, Any]] = {}
    for filename, group in by_file.items():
        if len(group) == 1:
            files[filename] = group[0][1]
            continue
        namespaces = [body["metadata"].get("namespace") for _, body in group]
        if len(set(namespaces)) < len(namespaces):
            names = ", ".join(f"{record['type']} {record['name']!r}" for record, _ in group)
            raise DuplicateObjectError(f"{names} are the same object ({filename.removesuffix('.yaml')})")
        for _, body in group:
            kind, name = body["kind"].lower(), body["metadata"].get("name", "unnamed")
            files[f"{kind}-{body['metadata'].get('namespace') or 'cluster'}-{name}.yaml"] = body
    return files


def write_render(out: Path, registrations: list[Registration], outputs: dict[str, Any]) -> list[dict[str, Any]]:
    check_unique_urns(registrations)
    records = resource_records(registrations)
    files = _manifest_files(records)
    (out / "manifests").mkdir(parents=True)
    for filename, body in files.items():
        (out / "manifests" / filename).write_text(dump_yaml(body))
    for record in records:
        if record["type"].startswith("docker:"):
            (out / "docker").mkdir(exist_ok=True)
            (out / "docker" / docker_filename(record)).write_text(
                dump_yaml({"type": record["type"], "name": record["name"], "inputs": record["inputs"]})
            )
    (out / "resources.json").write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
    (out / "outputs.json").write_text(json.dumps(redact(outputs), indent=2, sort_keys=True) + "\n")
    return records


def tree(records: list[dict[str, Any]]) -> str:
    """A short tree of what was registered, children under their parent."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for record in records:
        children.setdefault(record["parent"], []).append(record)
    lines: list[str] = []

    def walk(parent: str | None, indent: str) -> None:
        items = children.get(parent, [])
        for index, record in enumerate(items):
            last = index == len(items) - 1
            branch = "└─ " if last else "├─ "
            lines.append(f"{indent}{branch}{record['type']}  {record['name']}")
            walk(record["name"], indent + ("   " if last else "│  "))

    walk(None, "")
    return "\n".join(lines)
