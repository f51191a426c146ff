"""A stack's registrations, replayed through the real Pulumi engine as a Pulumi YAML program.

    python tests/e2e/replay.py --stack prod --out DIR [--project-dir DIR] [--config FILE]

The engine cannot run a Python program on these machines (the Go module proxy refuses the Python
language host; see e2e/versions.env). So the end-to-end tests run the project's own `__main__.py` under
the SDK's mock engine, as the offline render does, and write every Kubernetes resource it registered,
with its inputs and the options the engine acts on, as a Pulumi YAML program beside a `Pulumi.yaml`.
`pulumi preview`, `up` and `destroy` of that program are the real engine, the real pulumi-kubernetes
provider and the real API server acting on those registrations. What differs, and why:

- pulumi-random cannot be built either: a RandomPassword is not replayed; where its result is used,
  the render's deterministic stand-in is written, as a secret.
- Pulumi YAML cannot declare a CustomResource (pulumi-kubernetes#1971): each custom resource is one
  object of a `kubernetes:yaml/v2:ConfigGroup`, whose provider registers it as the Python SDK does. Its
  `customTimeouts` become the provider's equivalent annotation, `pulumi.com/timeoutSeconds`.
- The component resource itself is not replayed (no provider serves its type), so URNs differ.
- The CRD reads of `checkCrds` are not replayed: pulumi-yaml 1.25 cannot `get` a Kubernetes kind.
- A name the provider generates (an auto-named Secret) is referenced as `${<resource>.metadata.name}`
  wherever the mock engine's stand-in for it appears, as the Python program passes the Output.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret

TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
# Typed kinds the provider's schema has; any other kubernetes type is a custom resource.
SCHEMA_GROUPS = ("core/", "apps/", "networking.k8s.io/", "policy/", "autoscaling/", "rbac.authorization.k8s.io/")


def is_custom(kind: str) -> bool:
    return not kind.removeprefix("kubernetes:").startswith(SCHEMA_GROUPS)


def plain(value: Any, auto_names: dict[str, str]) -> Any:
    """Inputs as YAML: secrets as `fn::secret`, a generated name as a reference to its resource."""
    if is_rpc_secret(value):
        return {"fn::secret": plain(unwrap_rpc_secret(value), auto_names)}
    if isinstance(value, dict):
        return {k: plain(v, auto_names) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, auto_names) for v in value]
    if isinstance(value, str) and value in auto_names:
        return f"${{{auto_names[value]}.metadata.name}}"
    if isinstance(value, str):
        return value.replace("${", "$${")  # Pulumi YAML reads `${` as interpolation; `$${` is a literal one
    return value


def _seconds(value: str) -> int:
    return int(value.removesuffix("s"))


def program(registrations: list[Any], reads: list[Any], name: str, outputs: dict[str, Any]) -> dict[str, Any]:
    replayed = [r for r in registrations if r.custom and r.type.startswith("kubernetes:")]
    by_urn: dict[str, Any] = {r.urn: r for r in replayed}
    auto_names = {r.auto_name: r.name for r in replayed if r.auto_name}
    # What the program reads (the CRDs it needs, `checkCrds`) is not replayed: pulumi-yaml 1.25 asserts on a
    # `get` of a Kubernetes kind (its schema constants apiVersion and kind count as properties), so the reads
    # are checked under the mock engine (tests/test_crd_requirements.py).
    del reads
    resources: dict[str, Any] = {}
    for r in replayed:
        options: dict[str, Any] = {}
        depends = sorted({by_urn[u].name for u in r.dependencies if u in by_urn})
        if depends:
            options["dependsOn"] = [f"${{{d}}}" for d in depends]
        if r.ignore_changes:
            options["ignoreChanges"] = list(r.ignore_changes)
        if r.retain_on_delete:
            options["retainOnDelete"] = True
        inputs = plain(r.inputs, auto_names)
        if is_custom(r.type):
            timeouts = r.custom_timeouts
            if timeouts:
                annotations = inputs["metadata"].setdefault("annotations", {})
                annotations[TIMEOUT_ANNOTATION] = str(_seconds(timeouts.get("create") or timeouts["update"]))
            resources[r.name] = {"type": CONFIG_GROUP, "properties": {"objs": [inputs]}}
        else:
            if r.custom_timeouts:
                options["customTimeouts"] = dict(r.custom_timeouts)
            properties = {k: v for k, v in inputs.items() if k not in ("apiVersion", "kind")}
            resources[r.name] = {"type": r.type, "properties": properties}
        if options:
            resources[r.name]["options"] = options
    # The component's secret outputs (their stand-in values, as the render resolves them) stay secret.
    from hayhooks_pulumi import HayhooksService
    from hayhooks_pulumi.outputs import secret_outputs

    secret = secret_outputs(HayhooksService)
    exported = {k: {"fn::secret": v} if k in secret else v for k, v in outputs.items() if v is not None}
    return {"name": name, "runtime": "yaml", "resources": resources, "outputs": plain(exported, auto_names)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="replay.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--out", type=Path, required=True, help="the folder of the YAML program")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd())
    parser.add_argument("--config", type=Path)
    parser.add_argument("--name", default="hayhooks-replay", help="the replay's project name")
    args = parser.parse_args(argv)
    from hayhooks_pulumi.render.cli import offline_render, run_program_recorded

    project = args.project_dir.resolve()
    config = (args.config or project / f"Pulumi.{args.stack}.yaml").resolve()
    out = args.out.resolve()
    with offline_render():
        monitor, outputs = run_program_recorded(project, args.stack, config)
    registrations, reads = monitor.registrations, monitor.reads
    out.mkdir(parents=True, exist_ok=True)
    (out / "Pulumi.yaml").write_text(yaml.safe_dump(program(registrations, reads, args.name, outputs), sort_keys=False))
    names = {r.name: r.type for r in registrations}
    (out / "registered.json").write_text(json.dumps(names, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
