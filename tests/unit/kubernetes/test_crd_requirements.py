"""The CRDs a service needs are read before anything is changed, in preview as in `up`: one read per custom
resource kind it registers, each naming the operator and version that serve it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hayhooks_pulumi import HayhooksService
from hayhooks_pulumi.kubernetes.crd_requirements import EXTERNAL_SECRET, REQUIREMENTS, served_versions
from hayhooks_pulumi.render import mocks
from hayhooks_pulumi.render.mocks import RecordingMonitor
from helpers import engine
from helpers.paths import EXAMPLES, REPO
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await


def run(config: dict[str, Any], preview: bool = False) -> RecordingMonitor:
    values = {"EXAMPLE_LLM_API_KEY": "v", "gateway.auth.oidc.clientSecret": "v"}
    return engine.run(lambda: HayhooksService("hh", config, secret_values=values), preview=preview)


def service_config(path: Path) -> dict[str, Any]:
    config = yaml.safe_load(path.read_text())["config"]["hayhooks:service"]
    return {**config, "pipelinesPath": str(REPO / config.get("pipelinesPath", "pipelines"))}


def custom_kinds(monitor: RecordingMonitor) -> set[str]:
    return {
        r.type.rsplit(":", 1)[1]
        for r in monitor.registrations
        if not r.type.startswith(
            (
                "kubernetes:core/",
                "kubernetes:apps/",
                "kubernetes:networking.k8s.io/",
                "kubernetes:policy/",
                "kubernetes:autoscaling/",
            )
        )
        and r.type.startswith("kubernetes:")
    }


@pytest.mark.parametrize("path", [REPO / "Pulumi.prod.yaml", *EXAMPLES], ids=lambda p: p.stem)
def test_each_custom_kind_registered_has_its_crd_read_first(path: Path) -> None:
    from hayhooks_pulumi.render.cli import offline_render

    with offline_render():
        monitor = run(service_config(path))
    read = {r.id for r in monitor.reads}
    kinds = custom_kinds(monitor)
    assert kinds <= {r.kind for r in REQUIREMENTS}, "a custom kind without its CrdRequirement"
    assert read == {r.crd for r in REQUIREMENTS if r.kind in kinds}
    read_urns = {r.urn for r in monitor.reads}
    for registration in monitor.registrations:
        if registration.type.startswith("kubernetes:") and registration.type.rsplit(":", 1)[1] in kinds:
            assert read_urns <= set(registration.dependencies), registration.name


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_in_an_update_everything_waits_for_the_reads_in_a_preview_only_the_custom_resources(preview: bool) -> None:
    from hayhooks_pulumi.render.cli import offline_render

    config = {**service_config(REPO / "examples" / "gateway-envoy-basic.yaml"), "namespace": {"name": "hh"}}
    with offline_render():
        monitor = run(config, preview=preview)
    read_urns = {r.urn for r in monitor.reads}
    assert read_urns
    kinds = custom_kinds(monitor)
    waiting = {r.name for r in monitor.registrations if r.custom and read_urns <= set(r.dependencies)}
    custom = {r.name for r in monitor.registrations if r.custom and r.type.rsplit(":", 1)[1] in kinds}
    others = {r.name for r in monitor.registrations if r.custom} - custom
    assert custom and {"hh-namespace", "hh-deployment", "hh-basic-auth-password"} <= others
    assert waiting & others == (set() if preview else others)
    assert custom <= waiting


def test_no_read_without_check_crds() -> None:
    from hayhooks_pulumi.render.cli import offline_render

    with offline_render():
        monitor = run({**service_config(REPO / "Pulumi.prod.yaml"), "checkCrds": False})
    assert monitor.reads == []


def test_a_crd_that_does_not_serve_the_version_fails_naming_operator_and_version(monkeypatch) -> None:
    from hayhooks_pulumi.render.cli import offline_render

    served_v1beta1 = {"spec": {"versions": [{"name": "v1beta1", "served": True, "storage": True}]}}
    monkeypatch.setattr(mocks, "packaged_crd", lambda name: served_v1beta1)
    values = {"EXAMPLE_LLM_API_KEY": "v"}
    config = service_config(REPO / "Pulumi.prod.yaml")
    monitor = engine.install()
    with offline_render(), pytest.raises(Exception, match=r"serves v1beta1, not v1") as refused:
        _sync_await(run_pulumi_func(lambda: HayhooksService("hh", config, secret_values=values)))
    assert "the External Secrets Operator 0.16.2 or later" in str(refused.value)
    # What waits for the read waits for its check: nothing but the component was registered.
    assert [r.type for r in monitor.registrations if r.custom] == []


def test_the_needs_line_names_crd_version_operator_and_minimum() -> None:
    assert EXTERNAL_SECRET.needs == (
        "needs the CRD externalsecrets.external-secrets.io serving v1: the External Secrets Operator 0.16.2 or later"
    )
    assert EXTERNAL_SECRET.served_problem(None) is None  # nothing read: the offline render
    assert EXTERNAL_SECRET.served_problem(served_versions({"versions": [{"name": "v1", "served": True}]})) is None
    assert served_versions(None) is None
    assert served_versions({"versions": [{"name": "v1", "served": False}, {"name": "v2", "served": True}]}) == ("v2",)
    assert "serves no version, not v1" in (EXTERNAL_SECRET.served_problem(()) or "")
