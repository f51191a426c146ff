"""`pulumi up` as users type it: the plain CLI runs this repository's program through the Python language host,
on the local cluster, with `examples/local-cluster.yaml` as the stack file (what the README's "Try it on a local
cluster" does).

What runs: the toolchain's `pulumi` and its Python language host, built from github.com/pulumi/pulumi/sdk/v3 at
the version e2e/versions.env names (the last release that still holds it; the host's own module is refused by
the proxy), which runs the program with the interpreter of `make e2e-venv`; the real pulumi-kubernetes provider.
Stand-ins: pulumi-random (the basic-auth password) and kwok's kubelet.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from cluster import Cluster
from engine import Engine

from .support import REPO, delete_namespaces, live, project_copy

STACK = "local"
EXAMPLE = REPO / "examples" / "local-cluster.yaml"


def test_the_plain_cli_inits_sets_a_secret_goes_up_previews_no_change_and_destroys(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path
) -> None:
    # The example's `secure:` placeholder goes; the value is set as a user sets it.
    project = project_copy(
        tmp_path, STACK, source=EXAMPLE, config={"hayhooks:exampleLlmApiKey": None}, image=cluster.hayhooks_image
    )
    engine = engines(project, STACK)
    try:
        steps = [
            ("stack", "init", STACK),
            ("config", "set", "--secret", "exampleLlmApiKey", "any-value"),
            ("up", "--yes"),
            ("preview", "--expect-no-changes"),
            ("destroy", "--yes"),
        ]
        said = {}
        for args in steps:
            result = engine.cli(*args, stack=args[:2] != ("stack", "init"))
            said[args[0]] = result
            assert result.returncode == 0, f"pulumi {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            if args[0] == "up":
                assert live(cluster, "deployment", "hayhooks", "hayhooks") is not None

        up = said["up"].stdout
        # The plain CLI has no other way to run a Python program than the language host beside it.
        assert re.search(r"\+ *\d+ to create|\d+ created", up), up
        assert "hayhooks:index:HayhooksService" in up
        assert "any-value" not in (project / f"Pulumi.{STACK}.yaml").read_text()
        assert live(cluster, "deployment", "hayhooks", "hayhooks") is None
    finally:
        delete_namespaces(cluster, "hayhooks")
