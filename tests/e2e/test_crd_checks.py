"""`checkCrds` for real: the component reads the CRDs its custom resources need from the cluster, in the
preview. With Traefik's Middleware CRD deleted, the preview of the Traefik example fails, naming the CRD and
the operator that serves it, and an `up` (the Automation API's skips the preview) fails the same way having
created nothing; with the CRD installed again, the preview passes. (Stand-ins as in test_engine.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from cluster import Cluster
from engine import Engine
from projects import project_copy

from .support import REPO, live

EXAMPLE = REPO / "examples" / "traefik-forward-auth.yaml"
CRD = "middlewares.traefik.io"
NAMESPACE = yaml.safe_load(EXAMPLE.read_text())["config"]["hayhooks:service"]["namespace"]["name"]


def test_a_missing_crd_fails_the_preview_naming_its_operator_and_an_installed_one_passes(
    cluster: Cluster, engines: Callable[..., Engine], tmp_path: Path
) -> None:
    engine = engines(project_copy(tmp_path, "traefik", source=EXAMPLE, image=cluster.hayhooks_image), "traefik")
    cluster.kubectl("delete", "crd", CRD, "--wait=true", "--timeout=60s")
    try:
        refused = engine.preview()
        failed = engine.up()
    finally:
        cluster.install_crds()
    assert not refused.ok
    said = refused.text() + "\n".join(refused.diagnostics())
    assert f"needs the CRD {CRD} serving v1alpha1: Traefik" in said, said
    assert CRD in "\n".join(refused.diagnostics("error")) or CRD in (refused.error or ""), said

    assert not failed.ok
    assert f"needs the CRD {CRD} serving v1alpha1: Traefik" in failed.text() + "\n".join(failed.diagnostics())
    made = [r["urn"] for r in engine.resources() if r["type"].startswith("kubernetes:") and not r.get("external")]
    assert made == [], f"created before the missing CRD was reported: {made}"
    assert live(cluster, "namespace", "", NAMESPACE) is None, "the namespace was created"

    passed = engine.preview()
    assert passed.ok, passed.text()
    assert any("needs the CRD" in line for line in passed.diagnostics("info"))
