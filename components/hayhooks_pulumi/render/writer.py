"""What a render writes: one manifest per Kubernetes object, one spec per Docker resource,
`resources.json` of everything, with every secret value redacted.

`manifests/` is what `kubectl apply --server-side -f manifests/` may apply as it is, and in an order that works the
first time: kubectl reads a folder's files in name order, and each name starts with its kind's place in
`APPLY_ORDER` (`01-namespace-...`, `03-serviceaccount-...`, ..., `09-deployment-...`). A Secret is no such file: a
render never writes a secret's value, and applied as rendered it would hold the text `[secret]` (an API key of
`[secret]`, an htpasswd no login matches). It is written beside the others as `<NN>-secret-<name>.yaml.template`,
which a folder's apply skips, with a header saying what each value is; saved as `.yaml` once filled in, it is
applied in its place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret

from ..kubernetes.edge.ingress.controllers import IngressController
from ..kubernetes.edge.secret_keys import ENVOY_HTPASSWD_KEY, HTPASSWD_KEY, OIDC_SECRET_KEY
from .mocks import Registration

REDACTED = "[secret]"
MANIFEST_SUFFIX = ".yaml"
# kubectl applies a folder's `.yaml`, `.yml` and `.json` files only.
SECRET_TEMPLATE_SUFFIX = ".yaml.template"
# What an object refers to or needs in place comes before it: the namespace; the NetworkPolicy before any pod; the
# ServiceAccount, ConfigMap and Secrets (and what makes Secrets) before the pods that mount them; the Service and
# the workload; what guards the edge (a Middleware, a SecurityPolicy, the grants it needs) before the route. Kinds
# not listed come last.
APPLY_ORDER = (
    "Namespace",
    "NetworkPolicy",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "SecretProviderClass",
    "ExternalSecret",
    "Service",
    "Deployment",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "ReferenceGrant",
    "Middleware",
    "SecurityPolicy",
    "Ingress",
    "HTTPRoute",
)
UNLISTED = 99


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


def is_secret(body: dict[str, Any]) -> bool:
    return body.get("kind") == "Secret" and body.get("apiVersion") == "v1"


def manifest_filename(body: dict[str, Any], with_namespace: bool = False) -> str:
    """`<NN>-<kind>-[<namespace>-]<name>.yaml`, NN the kind's place in `APPLY_ORDER`; a Secret's `.yaml.template`."""
    kind = body["kind"]
    rank = APPLY_ORDER.index(kind) + 1 if kind in APPLY_ORDER else UNLISTED
    metadata = body["metadata"]
    namespace = f"{metadata.get('namespace') or 'cluster'}-" if with_namespace else ""
    stem = f"{rank:02d}-{kind.lower()}-{namespace}{metadata.get('name', 'unnamed')}"
    return stem + (SECRET_TEMPLATE_SUFFIX if is_secret(body) else MANIFEST_SUFFIX)


# What the Secrets the components write hold, by key, for the template's header; any other key is a variable's
# value (`secrets.<NAME>.fromConfig`) or an API client's key.
_BCRYPT_LINE = "`<user>:<bcrypt hash>` (`htpasswd -nbB <user> <password>`)"
_SECRET_VALUES = {
    HTPASSWD_KEY[IngressController.NGINX]: f"an htpasswd line for basic auth at ingress-nginx, {_BCRYPT_LINE}",
    HTPASSWD_KEY[IngressController.TRAEFIK]: f"an htpasswd line for Traefik's basic auth, {_BCRYPT_LINE}",
    ENVOY_HTPASSWD_KEY: "htpasswd lines for Envoy's basic auth, with SHA-1 hashes (`htpasswd -nbs <user> <password>`)",
    OIDC_SECRET_KEY: "the OIDC client secret the identity provider issued",
}


def secret_template(body: dict[str, Any], filename: str) -> str:
    """A Secret as a render can write it: its values redacted, behind a header saying what to fill in."""
    values = {**(body.get("stringData") or {}), **(body.get("data") or {})}
    applied = filename.removesuffix(SECRET_TEMPLATE_SUFFIX) + MANIFEST_SUFFIX
    lines = [
        "# NOT APPLIED by `kubectl apply -f` of this folder (the name ends in .template): a render never writes a",
        f"# secret's value, and as written this Secret would hold the text {REDACTED}. To apply it without Pulumi,",
        f"# replace each {REDACTED} (under stringData: the plain text) and save the file as {applied}",
        "# beside this one: the folder's apply then creates it in its place. `pulumi up` writes it itself.",
    ]
    for key in sorted(values):
        lines.append(f"#   {key}: {_SECRET_VALUES.get(key, f'the value of {key}')}")
    return "\n".join(lines) + "\n" + dump_yaml(body)


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
            files[manifest_filename(body, with_namespace=True)] = body
    return files


def write_render(out: Path, registrations: list[Registration], outputs: dict[str, Any]) -> list[dict[str, Any]]:
    check_unique_urns(registrations)
    records = resource_records(registrations)
    files = _manifest_files(records)
    (out / "manifests").mkdir(parents=True)
    for filename, body in files.items():
        (out / "manifests" / filename).write_text(
            secret_template(body, filename) if is_secret(body) else dump_yaml(body)
        )
    for record in records:
        if record["type"].startswith("docker:"):
            (out / "docker").mkdir(exist_ok=True)
            (out / "docker" / docker_filename(record)).write_text(
                dump_yaml({"type": record["type"], "name": record["name"], "inputs": record["inputs"]})
            )
    (out / "resources.json").write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
    (out / "outputs.json").write_text(json.dumps(redact(outputs), indent=2, sort_keys=True) + "\n")
    return records


def summary(records: list[dict[str, Any]], stack: str, out: Path) -> str:
    """What the count of resources is made of, and where each part went: the line a render ends with."""
    objects = [manifest(record) for record in records if is_kubernetes_object(record)]
    secrets = sum(is_secret(body) for body in objects)
    docker = [record for record in records if record["type"].startswith("docker:")]
    others = [record for record in records if not is_kubernetes_object(record) and record not in docker]
    lines = [f"rendered {len(records)} resources of stack {stack!r} to {out}:"]
    if objects:
        templates = f", and {secrets} Secret(s) to fill in first (*{SECRET_TEMPLATE_SUFFIX})" if secrets else ""
        lines.append(f"  manifests/: {len(objects) - secrets} Kubernetes object(s) to apply in file order{templates}")
    if docker:
        lines.append(f"  docker/: {len(docker)} Docker resource spec(s)")
    kinds = ", ".join(sorted({record["type"].rsplit(":", 1)[-1] for record in others}))
    more = f", and {len(others)} without a file of their own ({kinds})" if others else ""
    lines.append(f"  resources.json: all {len(records)}: those{more}")
    return "\n".join(lines)


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
