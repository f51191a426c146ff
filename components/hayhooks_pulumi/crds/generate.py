"""`python -m hayhooks_pulumi.crds.generate --lock LOCK UPSTREAM_DIR [--out DIR]`: the packaged CRDs.

Reads every file the lock names from UPSTREAM_DIR, refuses one whose sha256 differs from the lock,
and writes the part validation and an API server need as deterministic JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from . import CRD_DIR, SOURCE_ANNOTATION, SOURCE_SHA256_ANNOTATION

# What of a version an API server and a validator read: the rest (printer columns, deprecation
# notes) is presentation.
_VERSION_KEYS = ("name", "served", "storage", "schema", "subresources")
# The API server refuses a CRD in a *.k8s.io group without the approval annotation upstream carries.
_KEPT_ANNOTATIONS = ("api-approved.kubernetes.io",)


def lock_entries(lock: Path) -> Iterator[tuple[str, str, str]]:
    """(sha256, file name, upstream URL) per pinned file."""
    for line in lock.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            sha256, name, url = line.split()
            yield sha256, name, url


def strip_descriptions(schema: Any) -> Any:
    """The schema without its `description` strings; a property named `description` stays."""
    if isinstance(schema, dict):
        return {k: strip_descriptions(v) for k, v in schema.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(schema, list):
        return [strip_descriptions(item) for item in schema]
    return schema


def packaged(crd: dict[str, Any], source: str, sha256: str) -> dict[str, Any]:
    spec = crd["spec"]
    upstream = crd["metadata"].get("annotations") or {}
    kept = {k: upstream[k] for k in _KEPT_ANNOTATIONS if k in upstream}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": crd["metadata"]["name"],
            "annotations": {**kept, SOURCE_ANNOTATION: source, SOURCE_SHA256_ANNOTATION: sha256},
        },
        "spec": {
            "group": spec["group"],
            "names": spec["names"],
            "scope": spec["scope"],
            "versions": [
                strip_descriptions({k: version[k] for k in _VERSION_KEYS if k in version})
                for version in spec["versions"]
            ],
        },
    }


def generate(lock: Path, upstream: Path, out: Path) -> list[Path]:
    written = []
    for sha256, name, url in lock_entries(lock):
        data = (upstream / name).read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise SystemExit(f"error: {upstream / name} has sha256 {actual}, the lock pins {sha256}")
        crd = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        target = out / f"{Path(name).stem}.json"
        target.write_text(json.dumps(packaged(crd, url, sha256), indent=1, sort_keys=True) + "\n")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hayhooks_pulumi.crds.generate", description=__doc__)
    parser.add_argument("upstream", type=Path, help="folder of the pinned upstream CRD files")
    parser.add_argument("--lock", type=Path, required=True, help="the lock: sha256, file name, URL per line")
    parser.add_argument("--out", type=Path, default=CRD_DIR, help="where the packaged CRDs go (the package's crds/)")
    args = parser.parse_args(argv)
    if not args.upstream.is_dir():
        print(f"error: no folder {args.upstream} of upstream CRD files", file=sys.stderr)
        return 2
    written = generate(args.lock, args.upstream, args.out)
    print(f"{len(written)} CRD(s) written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
