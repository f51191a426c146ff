"""`pulumi up` as users type it: the plain CLI runs this repository's program through the Python language host,
on the local cluster, with `examples/local-cluster.yaml` as the stack file (what the README's "Try it on a local
cluster" does).

What runs: the toolchain's `pulumi` and its Python language host, built from github.com/pulumi/pulumi/sdk/v3 at
the version e2e/versions.env names (the last release that still holds it; the host's own module is refused by
the proxy), which runs the program with the interpreter of `make e2e-venv`; the real pulumi-kubernetes provider;
the example's pods on the local cluster's real node (kubelet, containerd) from the local rebuild of the image, set
by digest as the README has users set it. Stand-in: pulumi-random (the basic-auth password; tests/e2e/standin).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from cluster import Cluster
from engine import Engine
from node import NODE_NAME
from projects import project_copy

from .support import REPO, delete_namespaces, differences_from_render, live, render

STACK = "local"
EXAMPLE = REPO / "examples" / "local-cluster.yaml"


def test_the_plain_cli_inits_sets_a_secret_goes_up_previews_no_change_and_destroys(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path
) -> None:
    # The example as the README has users copy it, `secure:` placeholder and placeholder digest included.
    project = project_copy(tmp_path, STACK, source=EXAMPLE)
    engine = engines(project, STACK)
    try:
        said, took = {}, []

        def step(*args: str) -> None:
            started = time.monotonic()
            result = engine.cli(*args, stack=args[:2] != ("stack", "init"))
            took.append(f"{' '.join(args[:2])} {time.monotonic() - started:.1f}s")
            said[args[0]] = result
            assert result.returncode == 0, f"pulumi {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"

        step("stack", "init", STACK)
        step("config", "set", "--path", "hayhooks:service.image", cluster.hayhooks_image)
        step("config", "set", "--secret", "exampleLlmApiKey", "any-value")
        # The offline render of the very stack file the CLI runs now: what `up` must apply.
        rendered = render(STACK, tmp_path / "render", project=project)
        step("up", "--yes")
        assert differences_from_render(cluster, rendered.out) == {}
        pods = json.loads(cluster.kubectl("get", "pods", "-n", "hayhooks", "-o", "json").stdout)["items"]
        # `up` waited for the rollout: the example's pods run on the real node, Ready.
        assert pods and {p["spec"]["nodeName"] for p in pods} == {NODE_NAME}, pods
        assert all(
            any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", [])) for p in pods
        )
        step("preview", "--expect-no-changes")
        step("destroy", "--yes")
        print(f"pulumi {', pulumi '.join(took)}")

        up = said["up"].stdout
        # The plain CLI has no other way to run a Python program than the language host beside it.
        assert re.search(r"\+ *\d+ to create|\d+ created", up), up
        assert "hayhooks:index:HayhooksService" in up
        assert "any-value" not in (project / f"Pulumi.{STACK}.yaml").read_text()
        assert live(cluster, "deployment", "hayhooks", "hayhooks") is None
    finally:
        delete_namespaces(cluster, "hayhooks")
