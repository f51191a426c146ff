"""The toolchain e2e/toolchain.sh builds: every piece accounted for (built, the user's own, or
refused by the Go module proxy with the module@version it refused), and each built program is the
version versions.env asks for."""

from __future__ import annotations

import re
import subprocess

import pytest
from cluster import toolchain_dir

from .support import REPO, toolchain_manifest

PIECES = {
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-yaml",
    "pulumi-resource-kubernetes",
    "pulumi-resource-random",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kubelet",
    "kube-proxy",
    "kwok",
    "registry",
}


def versions() -> dict[str, str]:
    lines = (REPO / "e2e" / "versions.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def version_of(program: str, *args: str) -> str:
    result = subprocess.run(
        [str(toolchain_dir() / "bin" / program), *args], capture_output=True, text=True, timeout=30, check=False
    )
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def manifest() -> dict[str, tuple[str, str, str]]:
    rows = toolchain_manifest()
    if not rows:
        pytest.fail(f"no toolchain at {toolchain_dir()}: run `make toolchain` (e2e/toolchain.sh build)", pytrace=False)
    return rows


def test_every_piece_is_built_or_its_refusal_recorded(manifest: dict[str, tuple[str, str, str]]) -> None:
    assert set(manifest) == PIECES
    for piece, (status, _, detail) in manifest.items():
        assert status in {"built", "user", "refused"}, piece
        if status == "refused":
            assert re.search(r"\S+@\S+ refused by the Go module proxy \(.+\); blocks: .+", detail), detail
        else:
            assert (toolchain_dir() / "bin" / piece).is_file(), piece


def test_the_control_plane_programs_are_the_versions_asked_for(manifest: dict[str, tuple[str, str, str]]) -> None:
    asked = versions()
    kubernetes = asked["KUBERNETES_VERSION"]
    for program in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy"):
        assert f"Kubernetes {kubernetes}" in version_of(program, "--version"), program
    assert f"Client Version: {kubernetes}" in version_of("kubectl", "version", "--client")
    assert f"etcd Version: {asked['ETCD_VERSION'].lstrip('v')}" in version_of("etcd", "--version")
    assert asked["KWOK_VERSION"] in version_of("kwok", "--version")
    assert asked["REGISTRY_VERSION"] in version_of("registry", "--version")


def test_the_pulumi_cli_and_kubernetes_provider_are_the_versions_asked_for(
    manifest: dict[str, tuple[str, str, str]],
) -> None:
    asked = versions()
    status = manifest["pulumi"][0]
    assert status in {"built", "user"}
    if status == "built":
        assert version_of("pulumi", "version").strip() == asked["PULUMI_VERSION"]
    assert manifest["pulumi-resource-kubernetes"][:2] == ("built", asked["PULUMI_KUBERNETES_VERSION"])
    # A provider plugin answers the engine's handshake on stdout with the port it serves on.
    provider = subprocess.Popen(
        [str(toolchain_dir() / "bin" / "pulumi-resource-kubernetes")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert provider.stdout is not None and re.fullmatch(r"\d+\n", provider.stdout.readline())
    finally:
        provider.kill()
        provider.wait(timeout=10)


def test_the_python_language_host_is_the_release_asked_for_with_its_exec_script(
    manifest: dict[str, tuple[str, str, str]],
) -> None:
    """v3.79.0 of sdk/v3, the last that holds it (its own module is refused), beside the CLI's exec script."""
    asked = versions()
    assert manifest["pulumi-language-python"][:2] == ("built", asked["PULUMI_LANGUAGE_PYTHON_VERSION"])
    script = toolchain_dir() / "bin" / "pulumi-language-python-exec"
    assert script.is_file() and script.stat().st_mode & 0o111, f"{script} is missing or not executable"
    assert "pulumi" in script.read_text()
