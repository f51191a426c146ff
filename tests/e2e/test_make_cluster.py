"""`make cluster`'s export lines (e2e/cluster.py `export_lines`, what `make cluster` prints), pasted into a shell as
the README says: they give that shell the cluster (kubectl reaches it), the toolchain's `pulumi` first on the shell's
own PATH, the interpreter the Python language host runs the program with, and the image the real node pulls.

Pasted for the session's cluster, which `make cluster` starts the same way (e2e/cluster.py): starting a second one
here would cost half a minute and could not have the real node, which this machine runs once.
"""

from __future__ import annotations

import os
import subprocess

from cluster import Cluster, export_lines, toolchain_dir
from engine import SDK_PYTHON


def test_the_export_lines_give_a_shell_the_cluster_the_toolchain_and_the_image(cluster: Cluster) -> None:
    exports = export_lines(cluster)
    # The user's PATH is extended in their shell, not replaced by the one `make` ran with.
    assert f"export PATH={toolchain_dir() / 'bin'}:$PATH" in exports
    script = [
        *exports,
        "command -v pulumi",
        # kubectl writes /readyz's answer without a line break.
        'echo "$(kubectl get --raw /readyz)"',
        "echo $PATH",
        'echo "$PULUMI_PYTHON_CMD"',
        '"$PULUMI_PYTHON_CMD" -c "import hayhooks_pulumi, pulumi_kubernetes; print(pulumi_kubernetes.__name__)"',
        'echo "$HAYHOOKS_IMAGE"',
    ]
    shell = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        env={**os.environ, "PATH": "/usr/local/bin:/usr/bin:/bin:/user/own/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    pulumi, ready, path, python, imported, image = shell.stdout.splitlines()
    assert pulumi == str(toolchain_dir() / "bin" / "pulumi")
    assert ready == "ok"
    assert path.endswith(":/user/own/bin")
    assert python == str(SDK_PYTHON) and imported == "pulumi_kubernetes"
    assert image == cluster.hayhooks_image
