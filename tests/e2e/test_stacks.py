"""Every example stack and the consumer project through the real engine: `up`, the objects in the cluster are
the offline render's, a preview with no change, `destroy` leaves nothing of the stack.

The programs run unchanged (this repository's `__main__.py` for the examples, the consumer project's own);
custom resources are registered by the program as users get them, and the CRD reads of `checkCrds` run
against the cluster. What runs and what stands in is said in tests/e2e/test_engine.py's header; in short:
the controllers the cluster lacks are played by status writes (ExternalSecret Ready, HTTPRoute Accepted, an
Ingress address, the latter only where the stack waits for one), pulumi-random by the stand-in.

The stacks go through this WORKERS at a time, each in its own thread, and each test reports its own: they overlap
their waits (the provider gives a Service's endpoints 10 s to settle). The namespaces they keep (emptied by their
destroy) and those made for them are left to the session's cluster, as conftest's `namespace` fixture says why.

What the test copy of a stack file changes: a `secure:` placeholder of a `fromConfig` secret is removed and the
secret set with `pulumi config set --secret` (a test value); an example's namespace is `hayhooks-<stack>` (all
of them name `hayhooks`, and here they run side by side); namespaces a stack refers to without creating them
are created first, labelled `restricted` as the components label theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Cluster
from controllers import Controllers
from engine import Engine
from projects import project_copy, stack_engine

from .support import (
    CONSUMER,
    EXAMPLES,
    Render,
    differences_from_render,
    engine_versions,
    ensure_namespace,
    in_namespace,
    registered,
    render,
    rendered_names,
    stored,
    torn_down,
)

# examples/local-cluster.yaml goes up, previews no change and is destroyed by the plain CLI, as the README has
# users do it (test_cli.py), its pods on the real node; the other examples' pods go to kwok's node.
STACKS = [*(path.stem for path in EXAMPLES if path.stem != "local-cluster"), "consumer"]
SKIP_AWAIT = "pulumi.com/skipAwait"
# Stacks at once: all of them. On 2 cores (2026-12-08) the eight took 88 s, against 99 s four at a time: each step
# is slower, the whole is faster, the CPU never idle.
WORKERS = len(STACKS)


def from_config_keys(source: Path) -> list[str]:
    """The config keys a stack file's `fromConfig` secrets are read from (`<project>:<key>`)."""
    config = yaml.safe_load(source.read_text())["config"]
    service = [v for k, v in config.items() if k.endswith(":service")]
    project = next(iter(config)).split(":", 1)[0]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "fromConfig" and isinstance(value, str):
                    found.append(f"{project}:{value}")
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(service)
    return sorted(set(found))


class Clock:
    """Seconds each phase took, printed with the test's output."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.phases: list[tuple[str, float]] = []

    def mark(self, phase: str) -> None:
        now = time.monotonic()
        self.phases.append((phase, now - self.last))
        self.last = now

    def __call__(self, phase: str, action: Callable[[], Any]) -> Any:
        self.mark("before " + phase)
        result = action()
        self.mark(phase)
        return result

    def __str__(self) -> str:
        return ", ".join(f"{phase} {seconds:.1f}s" for phase, seconds in self.phases)


def waits_for_address(stack: Render) -> bool:
    return any(SKIP_AWAIT not in (b["metadata"].get("annotations") or {}) for b in stack.of_kind("Ingress"))


@dataclass
class StackRun:
    """One stack's way through the engine: what its test says, and the failure it ends with, if any."""

    name: str
    said: list[str] = field(default_factory=list)
    failure: BaseException | None = None


@dataclass(frozen=True)
class Prepared:
    engine: Engine
    rendered: Render


def prepare(cluster: Cluster, sdk: Path, root: Path, name: str, engines: dict[str, Engine]) -> Prepared:
    """The stack's project copy, its `pulumi stack init` and secrets, and the offline render of that very stack
    file: what `up` must apply. The engine is kept in `engines` before it makes anything, for the clean-up."""
    if name == "consumer":
        source, project_dir, stack = CONSUMER / "Pulumi.prod.yaml", CONSUMER, "prod"
        changes: dict[str, Any] = {}
    else:
        source, project_dir, stack = next(p for p in EXAMPLES if p.stem == name), None, name
        changes = in_namespace(f"hayhooks-{name}")
    secrets = from_config_keys(source)
    kwargs = {"project": project_dir} if project_dir else {}
    config = dict.fromkeys(secrets)
    image = cluster.hayhooks_image
    project = project_copy(root, stack, source=source, changes=changes, config=config, image=image, **kwargs)
    engine = engines[name] = stack_engine(cluster, sdk, root / "engine", project, stack)
    engine.init()
    for key in secrets:
        engine.set_config(key, f"e2e-value-of-{key}", secret=True)
    return Prepared(engine, render(stack, root / "render", project=project))


def lifecycle(cluster: Cluster, prepared: Prepared, run: StackRun) -> None:
    """`up`, the checks, a preview with no change, `destroy`; whatever is left of the stack destroyed after."""
    engine, rendered = prepared.engine, prepared.rendered
    clock = Clock()
    try:
        up = clock("up", engine.up)
        assert up.ok, up.text()
        assert registered(up) == rendered_names(rendered.out)
        assert differences_from_render(cluster, rendered.out) == {}
        for deployment in rendered.of_kind("Deployment"):
            kept = stored(cluster, deployment)
            assert kept is not None
            status = kept["status"]
            assert status.get("readyReplicas") == status.get("replicas") and status.get("replicas"), status

        clock.mark("checks")
        again = clock("preview", lambda: engine.preview(expect_no_changes=True))
        assert again.ok, again.text()

        destroyed = clock("destroy", engine.destroy)
        assert destroyed.ok, destroyed.text()
        left = [b["metadata"]["name"] for b in rendered.objects() if b["kind"] != "Namespace" and stored(cluster, b)]
        assert left == [], f"left after destroy: {left}"
    finally:
        said = torn_down(engine)
        clock.mark("torn down")
        run.said.extend([f"{run.name}: {clock}", *([said] if said else [])])


def each(names: list[str], runs: dict[str, StackRun], step: Callable[[str], None]) -> None:
    """`step` of every stack not failed yet, WORKERS at a time; a failure is its stack's, kept for its test."""

    def guarded(name: str) -> None:
        if runs[name].failure is None:
            try:
                step(name)
            except BaseException as failure:  # re-raised by the stack's own test
                runs[name].failure = failure

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="stack") as pool:
        list(pool.map(guarded, names))


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, cluster: Cluster, sdk: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, StackRun]:
    """Every selected stack's way through the engine, side by side (see the module's docstring)."""
    names = [
        item.callspec.params["name"]
        for item in request.session.items
        if item.path == request.path and hasattr(item, "callspec")
    ]
    root = tmp_path_factory.mktemp("stacks")
    runs = {name: StackRun(name) for name in names}
    engines: dict[str, Engine] = {}
    prepared: dict[str, Prepared] = {}
    begun: set[str] = set()  # each destroys what is left of its stack itself (`lifecycle`)

    def prepare_one(name: str) -> None:
        prepared[name] = prepare(cluster, sdk, root / name, name, engines)

    def lifecycle_one(name: str) -> None:
        begun.add(name)
        lifecycle(cluster, prepared[name], runs[name])

    try:
        each(names, runs, prepare_one)
        renders = [p.rendered for p in prepared.values()]
        for namespace in sorted({ns for r in renders for ns in r.foreign_namespaces}):
            ensure_namespace(cluster, namespace)
        awaited = {b["metadata"]["namespace"] for r in renders if waits_for_address(r) for b in r.of_kind("Ingress")}
        with Controllers(cluster, ingress=awaited) as controllers:
            for run in runs.values():
                run.said.append(controllers.describe())
            each(names, runs, lifecycle_one)
    finally:
        for name, engine in engines.items():
            if name not in begun:
                torn_down(engine)
    return runs


@pytest.mark.parametrize("name", STACKS)
def test_the_stack_goes_up_as_rendered_previews_no_change_and_is_destroyed(
    runs: dict[str, StackRun], sdk: Path, name: str
) -> None:
    run = runs[name]
    print(engine_versions(sdk))
    print("\n".join(run.said))
    if run.failure is not None:
        raise run.failure
