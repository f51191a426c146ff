"""Fixtures every test may use. Where things live (tests/README.md has the longer map):

- `unit/`      one module of the package at a time, laid out like `components/hayhooks_pulumi/`
               (`unit/kubernetes/`, `unit/docker/`, `unit/policy/`, `unit/server/`, `unit/render/`, `unit/plugin/`,
               `unit/crds/`; a module at the top of `unit/` tests a top-level module or a rule both targets share).
- `stacks/`    the repository's stacks and examples, rendered and checked as `make render` / `make check` do.
- `project/`   the repository as a project: docs, CI workflows, packaging, the consumer example, `make bench`.
- `live/`      (marker `live`) the real Hayhooks server and nginx on loopback, driven by the renders.
- `e2e/`       a real control plane with kwok's node and a real node, and the real Pulumi engine (`make toolchain`,
               `make images`, `make e2e-venv`).
- `helpers/`   what several test modules share (paths, the mock engine, renders, args builders); test modules
               import from `helpers`, never from each other or from this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import hypothesis  # noqa: F401  imported before the mock engine runs: see below
import image
import pytest
from cluster import toolchain_dir
from hayhooks_pulumi.render.mocks import RecordingMonitor
from helpers import engine
from helpers.paths import EXAMPLES
from helpers.render import DOCKER_ENGINE_ENV, Rendered, Renders
from registry import Registry, RegistryError

# Debian's Python 3.11.2 can fail to compile a module imported late in the session, after the
# mock engine's threads ran ("AST constructor recursion depth mismatch"); hypothesis' pytest
# plugin imports it at the end otherwise.


@pytest.fixture(autouse=True)
def _default_docker_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and the renders it starts) sees pulumi-docker's default engine, the local socket, unless it
    names another: a developer's DOCKER_HOST or DOCKER_CONTEXT would change what HayhooksContainer registers."""
    for name in DOCKER_ENGINE_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def mock_engine() -> RecordingMonitor:
    """The SDK mock engine set for this test, for `@pulumi.runtime.test` programs; its monitor records.
    (A program given as a function runs under `helpers.engine.run` / `register`, which set the same engine.)"""
    return engine.install()


@pytest.fixture(scope="session")
def stack_render(tmp_path_factory: pytest.TempPathFactory) -> Renders:
    """`stack_render("prod")`, `stack_render("oidc", EXAMPLES_DIR / "oidc.yaml")`: the render of a repository stack
    (with a stack file of its own), made once per session the first time a test asks for it and shared by all."""
    return Renders(tmp_path_factory.mktemp("renders"))


@pytest.fixture(scope="session")
def example_renders(stack_render: Renders) -> dict[str, Rendered]:
    """Every example stack (`examples/<name>.yaml`) by name, rendered in parallel the first time a test asks
    (each render is its own interpreter); the same renders `stack_render(name, path)` returns."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        rendered = pool.map(lambda path: stack_render(path.stem, path), EXAMPLES)
        return {path.stem: render for path, render in zip(EXAMPLES, rendered, strict=True)}


@pytest.fixture(scope="session")
def images() -> tuple[image.Image, image.Image]:
    """The locally built Hayhooks image and the node's pause image (`make images`); a missing one fails."""
    hayhooks = image.cached()
    if hayhooks is None:
        pytest.fail("no locally built Hayhooks image: run `make images` (e2e/image.py build)", pytrace=False)
    try:
        return hayhooks, image.build_pause()
    except image.ImageError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def registry(images: tuple[image.Image, image.Image], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """The registry on loopback the real containers pull the images from, by digest; stopped at the end."""
    binary = toolchain_dir() / "bin" / "registry"
    if not binary.is_file():
        pytest.fail(f"{binary} is missing: run `make toolchain`", pytrace=False)
    served = Registry(binary, tmp_path_factory.mktemp("registry") / "registry.log")
    try:
        served.start(dies_with_parent=True)
        for built in images:
            served.ensure(built)
    except (RegistryError, OSError) as error:
        served.stop()
        pytest.fail(f"the image registry did not start: {error}", pytrace=False)
    print(f"images: {image.describe(images[0])} served as {served.reference(images[0])}")
    try:
        yield served
    finally:
        served.stop()
