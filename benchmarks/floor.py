"""The SDK floor of `make bench`: the bench program's resources declared directly with the Pulumi SDK.

A render's wall time says little on its own (a busy machine doubles it); what the package owes is the
time it adds to what the SDK needs for the same resources anyway. So `make bench` renders, in the same
run and by the same CLI, a second program per size that registers exactly what the package's program
registers, with no component and no models: each custom resource by the SDK class a user would call,
its inputs as plain values (a secret as `Output.secret(value)`), its options (`depends_on` by name,
`ignore_changes`, timeouts...). What the package does besides is its own cost, the floor does none of
it: the components themselves, their outputs, and the CRDs a service reads to check them (`checkCrds`).

The data is taken from the package's own program under the render's mock engine (`record`, run once
per bench in a fresh interpreter), so the floor follows whatever the components register without a
second copy to keep in step; `bench.py` checks each floor render against the package's. The floor
reads it from a JSON file rather than generated source: the same plain values, and no compile of a
large literal module in the floor's time.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

DATA = "floor.json"
# The floor program: everything it does is the SDK's own work (json.loads of the data is ~0.2 ms a service).
PROGRAM = '''\
"""The SDK floor: the bench program's resources, declared directly with the Pulumi SDK."""

import importlib
import json
from pathlib import Path

import pulumi
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret


def sdk(path):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def plain(value):
    return pulumi.Output.secret(unwrap_rpc_secret(value)) if is_rpc_secret(value) else value


data = json.loads(Path(__file__).with_name("floor.json").read_text(), object_hook=plain)
made = {}
for resource in data["resources"]:
    options = resource["options"]
    if "custom_timeouts" in options:
        options["custom_timeouts"] = pulumi.CustomTimeouts(**options["custom_timeouts"])
    depends_on = [made[name] for name in resource["dependsOn"]]
    made[resource["name"]] = sdk(resource["class"])(
        resource["name"], **resource["args"], opts=pulumi.ResourceOptions(depends_on=depends_on, **options)
    )
'''
CUSTOM_RESOURCE = "pulumi_kubernetes.apiextensions.CustomResource"
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def sdk_class(token: str) -> str:
    """The dotted path of the SDK class that registers a type token: a Kubernetes kind of the provider's own
    (`kubernetes:apps/v1:Deployment` -> `pulumi_kubernetes.apps.v1.Deployment`) or a custom resource; a
    provider's `index` type (`random:index/randomPassword:RandomPassword` -> `pulumi_random.RandomPassword`)."""
    provider, module, kind = token.split(":")
    package = f"pulumi_{provider}"
    if provider == "kubernetes":
        group, _, version = module.rpartition("/")
        python = group.removesuffix(".k8s.io")
        if python.isidentifier():
            with_module = f"{package}.{python}.{version}"
            try:
                if hasattr(importlib.import_module(with_module), kind):
                    return f"{with_module}.{kind}"
            except ModuleNotFoundError:
                pass
        return CUSTOM_RESOURCE
    if module.startswith("index/"):
        return f"{package}.{kind}"
    raise ValueError(f"the floor does not know the SDK class of {token}")


def _keyword(key: str) -> str:
    """A resource's top-level input as the SDK class's keyword (`stringData` -> `string_data`)."""
    return _CAMEL.sub("_", key).lower()


def _options(registration: Any) -> dict[str, Any]:
    """The resource options the engine received, as `ResourceOptions` keywords; unset ones left out."""
    options = {
        "ignore_changes": registration.ignore_changes,
        "custom_timeouts": registration.custom_timeouts,
        "retain_on_delete": registration.retain_on_delete,
        "replace_on_changes": registration.replace_on_changes,
        "delete_before_replace": registration.delete_before_replace,
    }
    return {key: value for key, value in options.items() if value}


def record(project: Path, stack: str) -> dict[str, Any]:
    """Run the project's program under the render's mock engine; the custom resources it registers, as floor data."""
    from hayhooks_pulumi.render.cli import offline_render, run_program_recorded

    with offline_render():
        monitor, _ = run_program_recorded(project, stack, project / f"Pulumi.{stack}.yaml")
    # A floor resource depends on the custom resources the package's did (registered before it); not on what the
    # floor leaves out (the components, the CRDs read).
    names: dict[str, str] = {}
    resources = []
    for registration in monitor.registrations:
        if not registration.custom:
            continue
        resources.append(
            {
                "class": sdk_class(registration.type),
                "name": registration.name,
                "args": {_keyword(key): value for key, value in registration.inputs.items()},
                "dependsOn": sorted(names[urn] for urn in registration.dependencies if urn in names),
                "options": _options(registration),
            }
        )
        names[registration.urn] = registration.name
    return {"resources": resources}


def of_services(data: dict[str, Any], services: int) -> dict[str, Any]:
    """The part of a recording of the bench program that belongs to its first `services` services (each
    service's resources are named `svc<index>-...`, and none depends on a later service)."""
    owners = {f"svc{index}" for index in range(services)}
    return {"resources": [item for item in data["resources"] if item["name"].split("-", 1)[0] in owners]}


def recorded(project: Path, stack: str, env: dict[str, str]) -> dict[str, Any]:
    """`record`, in a fresh interpreter (the mock engine's settings and the program's imports stay there)."""
    to = project / DATA
    command = [sys.executable, __file__, str(project), stack, str(to)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise SystemExit(f"recording the floor from {project.name} failed:\n{result.stdout}\n{result.stderr}")
    data: dict[str, Any] = json.loads(to.read_text())
    to.unlink()
    return data


def write_floor(project: Path, data: dict[str, Any]) -> None:
    """Turn a bench project's directory into the floor's: its own program, and the data it registers."""
    (project / DATA).write_text(json.dumps(data))
    (project / "__main__.py").write_text(PROGRAM)


if __name__ == "__main__":
    Path(sys.argv[3]).write_text(json.dumps(record(Path(sys.argv[1]).resolve(), sys.argv[2])))
