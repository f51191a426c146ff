"""Project folders for the real engine: a copy of a Pulumi project whose program is the original, unchanged, with a
stack file written from one of the repository's and the changes a test or a bench names; and the engine for a
stack of one on the local cluster. Standard library and PyYAML only (the end-to-end tests and `make bench` both
use it)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from cluster import Cluster
from engine import Engine

REPO = Path(__file__).resolve().parent.parent
# The end-to-end tests' stand-in for pulumi-random (a provider executable), put on the engine's PATH.
STANDIN_DIR = REPO / "tests" / "e2e" / "standin"


def stack_engine(cluster: Cluster, sdk: Path, root: Path, project: Path, stack: str, **kwargs: Any) -> Engine:
    """The real engine for one stack of a project folder, on the cluster, with the pulumi-random stand-in on PATH;
    its files (backend, plugins' home, runs) under `root`."""
    return Engine(
        project=project,
        stack=stack,
        root=root,
        toolchain=cluster.toolchain,
        python=sdk,
        path=(STANDIN_DIR,),
        extra_env={"KUBECONFIG": str(cluster.kubeconfig)},
        **kwargs,
    )


def stack_file(
    source: Path, changes: dict[str, Any] | None = None, config: dict[str, Any] | None = None, image: str | None = None
) -> str:
    """A stack file's text with `changes` applied to its `<project>:service` (dotted paths), `config` keys set or,
    given None, removed, and the image replaced (in `service.image`, or a `<project>:image` key of its own)."""
    stack = yaml.safe_load(source.read_text())
    if image is not None:
        services = [v for k, v in stack["config"].items() if k.endswith(":service")]
        for service in services:
            service["image"] = image
        if not services:
            [key] = [k for k in stack["config"] if k.endswith(":image")]
            stack["config"][key] = image
    if changes:
        [key] = [k for k in stack["config"] if k.endswith(":service")]
        for path, value in changes.items():
            *parents, leaf = path.split(".")
            node = stack["config"][key]
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = value
    for key, value in (config or {}).items():
        if value is None:
            stack["config"].pop(key, None)
        else:
            stack["config"][key] = value
    return yaml.safe_dump(stack, sort_keys=False)


def project_copy(
    root: Path,
    stack: str,
    source: Path = REPO / "Pulumi.prod.yaml",
    changes: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    project: Path = REPO,
    image: str | None = None,
) -> Path:
    """A project folder for the engine: `Pulumi.yaml` and the pipelines of `project` copied (once; a test may
    change a pipeline), its program linked unchanged, and `Pulumi.<stack>.yaml` written from `source` with
    the changes a test names. Written again on each call, so a test changes its stack file this way too.

    `image`: the repository's stack files name the image by a placeholder digest, which `pulumi up` refuses
    (it is no image's); the tests give the local rebuild's reference by digest (`Cluster.hayhooks_image`)."""
    folder = root / f"project-{project.name}"
    if not folder.exists():
        folder.mkdir(parents=True)
        shutil.copy(project / "Pulumi.yaml", folder / "Pulumi.yaml")
        (folder / "__main__.py").symlink_to(project / "__main__.py")
        shutil.copytree(project / "pipelines", folder / "pipelines")
    target = folder / f"Pulumi.{stack}.yaml"
    text = stack_file(source, changes, config, image)
    if target.exists():
        # Keep what the engine added (the encryption salt, secrets set with `pulumi config set --secret`).
        kept = yaml.safe_load(target.read_text())
        fresh = yaml.safe_load(text)
        for key, value in (kept.get("config") or {}).items():
            if isinstance(value, dict) and "secure" in value and key not in (config or {}):
                fresh["config"][key] = value
        if "encryptionsalt" in kept:
            fresh["encryptionsalt"] = kept["encryptionsalt"]
        text = yaml.safe_dump(fresh, sort_keys=False)
    target.write_text(text)
    return folder
