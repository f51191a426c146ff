"""Every example stack and the consumer project through the real engine: `up`, the objects in the cluster are
the offline render's, a preview with no change, `destroy` leaves nothing of the stack.

The programs run unchanged (this repository's `__main__.py` for the examples, the consumer project's own);
custom resources are registered by the program as users get them, and the CRD reads of `checkCrds` run
against the cluster. What runs and what stands in is said in tests/e2e/test_engine.py's header; in short:
the controllers the cluster lacks are played by status writes (ExternalSecret Ready, HTTPRoute Accepted, an
Ingress address, the latter only where the stack waits for one), pulumi-random by the stand-in.

What the test copy of a stack file changes: a `secure:` placeholder of a `fromConfig` secret is removed and the
secret set with `pulumi config set --secret` (a test value); namespaces a stack refers to without creating
them are created first, labelled `restricted` as the components label theirs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from cluster import Cluster
from controllers import Controllers
from engine import Engine

from .support import (
    CONSUMER,
    EXAMPLES,
    Render,
    delete_namespaces,
    differences_from_render,
    ensure_namespace,
    project_copy,
    registered,
    render,
    rendered_names,
    stored,
)

# examples/local-cluster.yaml goes up, previews no change and is destroyed by the plain CLI, as the README has
# users do it (test_cli.py), its pods on the real node; the other examples' pods go to kwok's node.
STACKS = [*(path.stem for path in EXAMPLES if path.stem != "local-cluster"), "consumer"]
SKIP_AWAIT = "pulumi.com/skipAwait"


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


@pytest.mark.parametrize("name", STACKS)
def test_the_stack_goes_up_as_rendered_previews_no_change_and_is_destroyed(
    cluster: Cluster,
    engines: Callable[..., Engine],
    tmp_path: Path,
    name: str,
) -> None:
    if name == "consumer":
        source, project_dir, stack = CONSUMER / "Pulumi.prod.yaml", CONSUMER, "prod"
    else:
        source, project_dir, stack = next(p for p in EXAMPLES if p.stem == name), None, name
    secrets = from_config_keys(source)
    kwargs = {"project": project_dir} if project_dir else {}
    project = project_copy(
        tmp_path, stack, source=source, config=dict.fromkeys(secrets), image=cluster.hayhooks_image, **kwargs
    )
    engine = engines(project, stack)
    engine.init()
    for key in secrets:
        engine.set_config(key, f"e2e-value-of-{key}", secret=True)
    # The offline render of the very stack file the engine runs: what `up` must apply.
    rendered = render(stack, tmp_path / "render", project=project)
    made = [ns for ns in sorted(rendered.namespaces - rendered.own_namespaces) if ensure_namespace(cluster, ns)]
    clock = Clock()
    try:
        with Controllers(cluster, ingress=waits_for_address(rendered)):
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
        delete_namespaces(cluster, *made, *rendered.own_namespaces)
        clock.mark("namespaces deleted")
        print(f"{name}: {clock}")
