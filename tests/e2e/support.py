"""What the end-to-end tests share: project folders for the engine, renders read back as the objects an API
server receives, the controllers the local cluster lacks (played by the tests), and what `make toolchain`
and `make e2e-venv` made."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cluster import Cluster, toolchain_dir
from engine import SDK_PYTHON, Engine, Outcome
from hayhooks_pulumi.render.schemas import rendered_manifests
from projects import REPO

EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))
CONSUMER = REPO / "examples" / "consumer"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_STANDIN = "the pulumi-random stand-in (tests/e2e/standin; pulumi-random cannot be built here)"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}


def sdk_python() -> Path:
    """The end-to-end tests' interpreter (`make e2e-venv`): the project's SDK, pulumi-kubernetes at the
    provider's version."""
    return SDK_PYTHON


def torn_down(engine: Engine) -> str | None:
    """Destroys what the stack still has (`Engine.teardown`); the stand-in line its test says, if it used one."""
    engine.teardown()
    if RANDOM_PASSWORD in engine.types_seen:
        return f"STAND-IN: {RANDOM_STANDIN} served the RandomPassword of stack {engine.stack!r}"
    return None


def engine_versions(sdk: Path) -> str:
    """The line an engine test says first: which CLI and which SDK ran its programs."""
    code = "import importlib.metadata as m; print(m.version('pulumi'), m.version('pulumi_kubernetes'))"
    out = subprocess.run([str(sdk), "-c", code], capture_output=True, text=True, check=True).stdout.split()
    sdks = f"Python SDK pulumi {out[0]}, pulumi-kubernetes {out[1]}"
    return f"engine: pulumi {describe_toolchain(only='pulumi')} via the Automation API; {sdks}"


# ------------------------------------------------------------------------------------------------ renders


@dataclass(frozen=True)
class Render:
    name: str
    out: Path

    @property
    def files(self) -> list[Path]:
        """Every manifest in apply order, the Secrets' templates (values redacted) among them."""
        return rendered_manifests(self.out)

    def objects(self) -> list[dict[str, Any]]:
        return [yaml.safe_load(path.read_text()) for path in self.files]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [body for body in self.objects() if body["kind"] == kind]

    @property
    def namespaces(self) -> set[str]:
        """Every namespace an object is in."""
        return {body["metadata"]["namespace"] for body in self.objects() if "namespace" in body["metadata"]}

    @property
    def own_namespaces(self) -> set[str]:
        return {body["metadata"]["name"] for body in self.of_kind("Namespace")}

    @property
    def foreign_namespaces(self) -> set[str]:
        """The namespaces its objects are in that it does not make: its cluster has them."""
        return self.namespaces - self.own_namespaces


def render(name: str, out: Path, config: Path | None = None, project: Path = REPO) -> Render:
    """`make render` of one stack, in a fresh interpreter; fails the test with the render's own words."""
    command = [sys.executable, "-m", "hayhooks_pulumi.render", "--stack", name, "--out", str(out), "--quiet"]
    command += ["--project-dir", str(project)]
    if config is not None:
        command += ["--config", str(config)]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, f"render of {name} failed:\n{result.stderr}"
    return Render(name, out)


def ref(body: dict[str, Any]) -> str:
    """kind/name as kubectl names an object."""
    return f"{body['kind'].lower()}/{body['metadata']['name']}"


# ------------------------------------------------------------------------------------------------ the cluster


def stored(cluster: Cluster, body: dict[str, Any]) -> dict[str, Any] | None:
    """The cluster's object of a rendered one (the same apiVersion, kind, namespace and name), or None."""
    meta = body["metadata"]
    return cluster.api.get(cluster.api.resource_of(body), meta.get("namespace"), meta["name"])


def live(cluster: Cluster, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """The object (`kind` as kubectl names kinds; `namespace` empty for a cluster-wide kind), or None."""
    return cluster.api.get(cluster.api.resource(kind), namespace or None, name)


def names(cluster: Cluster, kind: str, namespace: str) -> set[str]:
    """The objects of a kind in the namespace that are not being deleted."""
    listed = cluster.api.list(cluster.api.resource(kind), namespace)
    return {item["metadata"]["name"] for item in listed if not item["metadata"].get("deletionTimestamp")}


def ensure_namespace(cluster: Cluster, name: str) -> None:
    """A namespace a stack refers to but does not create, made as its cluster would have it (`restricted`)."""
    if live(cluster, "namespace", "", name) is None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": RESTRICTED}}
        cluster.api.apply(body, manager="hayhooks-e2e")


def delete_namespaces(cluster: Cluster, *namespaces: str) -> None:
    if namespaces:
        cluster.kubectl("delete", "namespace", *namespaces, "--wait=true", "--timeout=120s", "--ignore-not-found")


def in_namespace(name: str) -> dict[str, str]:
    """The stack-file change that puts a stack's objects in namespace `name` (a `project_copy` change)."""
    return {"namespace.name": name}


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, what
        time.sleep(0.5)
    return value


# ------------------------------------------------------------------------------------------------ toolchain


def toolchain_manifest() -> dict[str, tuple[str, str, str]]:
    """What e2e/toolchain.sh recorded per piece: (status, version, detail)."""
    path = toolchain_dir() / "manifest.tsv"
    if not path.is_file():
        return {}
    rows = (line.split("\t") for line in path.read_text().splitlines() if line.strip())
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def describe_toolchain(only: str | None = None) -> str:
    rows = toolchain_manifest()
    if not rows:
        return f"no toolchain at {toolchain_dir()}: run `make toolchain`"
    return "; ".join(
        f"{name} {version if status != 'refused' else 'REFUSED'}"
        for name, (status, version, _) in rows.items()
        if only is None or name == only
    )


# ------------------------------------------------------------------------------------------------ render vs cluster


def rendered_resources(out: Path) -> list[dict[str, Any]]:
    """resources.json of a render: every resource the program registered, with its inputs."""
    return list(json.loads((out / "resources.json").read_text()))


def rendered_names(out: Path) -> set[tuple[str, str]]:
    return {(r["type"], r["name"]) for r in rendered_resources(out)}


def registered(outcome: Outcome) -> set[tuple[str, str]]:
    """(type, name) of every resource the program registered, as the engine announced them (reads, the stack
    and the providers left out): what a render's resources.json lists."""
    found = set()
    for event in outcome.events:
        pre = event.get("resource_pre_event")
        if pre and pre["metadata"]["op"] not in ("read", "read-replacement"):
            kind, name = pre["metadata"]["type"], pre["metadata"]["urn"].rsplit("::", 1)[-1]
            if kind != "pulumi:pulumi:Stack" and not kind.startswith("pulumi:providers:"):
                found.add((kind, name))
    return found


def auto_named(out: Path) -> set[str]:
    """The resources whose object the provider names (`<resource name>-<8 characters>`): a render shows a
    stand-in suffix, the cluster another one."""
    return {
        r["name"]
        for r in rendered_resources(out)
        if isinstance(r["inputs"].get("metadata"), dict) and not r["inputs"]["metadata"].get("name")
    }


def normalised(value: Any, prefixes: set[str]) -> Any:
    """`value` with every provider-made name written `<resource name>-*`."""
    if isinstance(value, dict):
        return {k: normalised(v, prefixes) for k, v in value.items()}
    if isinstance(value, list):
        return [normalised(v, prefixes) for v in value]
    if isinstance(value, str):
        head, _, tail = value.rpartition("-")
        if head in prefixes and len(tail) == 8 and tail.isalnum():
            return f"{head}-*"
    return value


def missing_from(sent: Any, kept: Any, path: str = "") -> list[str]:
    """Where what was sent is not what the API server stored (defaults it added are fine)."""
    if isinstance(sent, dict):
        if not isinstance(kept, dict):
            return [f"{path}: sent a mapping, stored {kept!r}"]
        return [p for k, v in sent.items() for p in missing_from(v, kept.get(k), f"{path}.{k}")]
    if isinstance(sent, list):
        if not isinstance(kept, list) or len(kept) != len(sent):
            return [f"{path}: sent {sent!r}, stored {kept!r}"]
        return [p for i, (a, b) in enumerate(zip(sent, kept, strict=True)) for p in missing_from(a, b, f"{path}[{i}]")]
    return [] if sent == kept else [f"{path}: sent {sent!r}, stored {kept!r}"]


def stored_like(cluster: Cluster, body: dict[str, Any], prefixes: set[str]) -> dict[str, Any] | None:
    """The cluster's object for a rendered one, found by its name or, when the provider names it, by the
    resource name it starts with; normalised like the render's."""
    name = normalised(body["metadata"]["name"], prefixes)
    if not name.endswith("-*"):
        found = stored(cluster, body)
        return None if found is None else normalised(found, prefixes)
    items = cluster.api.list(cluster.api.resource_of(body), body["metadata"].get("namespace"))
    matching = [normalised(i, prefixes) for i in items if normalised(i["metadata"]["name"], prefixes) == name]
    assert len(matching) <= 1, f"more than one {body['kind']} named {name}"
    return matching[0] if matching else None


def differences_from_render(cluster: Cluster, out: Path) -> dict[str, list[str]]:
    """Per rendered manifest, where the cluster's object differs from it (its secrets' values left out: a
    render redacts them). Empty when the engine applied exactly what the render shows."""
    prefixes = auto_named(out)
    found: dict[str, list[str]] = {}
    for path in rendered_manifests(out):
        body = normalised(yaml.safe_load(path.read_text()), prefixes)
        if body["kind"] == "Secret":
            body = {k: v for k, v in body.items() if k not in ("data", "stringData")}
        kept = stored_like(cluster, body, prefixes)
        problems = ["not stored"] if kept is None else missing_from(body, kept)
        if problems:
            found[path.name] = problems
    return found
