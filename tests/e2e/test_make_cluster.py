"""`make cluster`'s own output, pasted into a shell as the README says: its export lines give that shell the
cluster (kubectl reaches it) and the toolchain's `pulumi` first on the shell's own PATH, and `make cluster-down`
stops it and removes its folder.

The cluster is started by the script `make cluster` runs (e2e/cluster.py up), in a folder of the test's own, with
`--no-real-node`: the session's cluster already runs this machine's one real node (tests/e2e/conftest.py), which
the other tests exercise; kwok's node is enough for what is checked here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cluster import toolchain_dir
from engine import SDK_PYTHON

from .support import REPO

SCRIPT = REPO / "e2e" / "cluster.py"


def cluster_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=180, check=False
    )


def test_the_export_lines_give_a_shell_the_cluster_and_the_toolchain_and_down_removes_it(tmp_path: Path) -> None:
    state = tmp_path / "cluster"
    try:
        up = cluster_script("up", "--dir", str(state), "--no-real-node")
        assert up.returncode == 0, up.stderr
        exports = [line for line in up.stdout.splitlines() if line.startswith("export ")]
        # The user's PATH is extended in their shell, not replaced by the one `make` ran with.
        assert f"export PATH={toolchain_dir() / 'bin'}:$PATH" in exports
        # The interpreter the toolchain's Python language host runs the program with.
        assert f"export PULUMI_PYTHON_CMD={SDK_PYTHON}" in exports
        shell = subprocess.run(
            [
                "bash",
                "-c",
                "\n".join(
                    [
                        *exports,
                        "command -v pulumi",
                        # kubectl writes /readyz's answer without a line break.
                        'echo "$(kubectl get --raw /readyz)"',
                        "echo $PATH",
                        '"$PULUMI_PYTHON_CMD" -c "import hayhooks_pulumi, pulumi_kubernetes"',
                    ]
                ),
            ],
            env={**os.environ, "PATH": "/usr/local/bin:/usr/bin:/bin:/user/own/bin"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert shell.returncode == 0, shell.stderr
        pulumi, ready, path = shell.stdout.splitlines()
        assert pulumi == str(toolchain_dir() / "bin" / "pulumi")
        assert ready == "ok"
        assert path.endswith(":/user/own/bin")
    finally:
        down = cluster_script("down", "--dir", str(state))
    assert down.returncode == 0, down.stderr
    assert f"stopped the cluster at {state}" in down.stdout
    assert not state.exists()
