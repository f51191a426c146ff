"""Every release of the settings table, as its real server: the table is what the release's own code says, the
release parses every variable the render writes for it as the table says, and it starts with the rendered pod.

Each release runs from its own scratch venv (`pip install hayhooks==X`, through `uv` with the dependencies of its
day: `hayhooks_pulumi.server.release_venvs`), cached outside the repository, so a warm run only starts servers.
Renders are the README's (`python -m hayhooks_pulumi.render`) of the prod stack with that release's image: one
with every variable the release reads set to a value other than its default (the parse: a variable the server
ignored would keep its default), one of the stack as it is (the start).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hayhooks_pulumi.server import release_venvs, releases
from hayhooks_pulumi.server.generate import introspect, release_entry
from hayhooks_pulumi.server.releases import Release, ReleaseSetting, SettingKind
from hayhooks_pulumi.server.settings_table import row
from helpers.paths import REPO
from helpers.processes import answers, free_port, http, scratch_dir, start_process, stop_process, wait_until
from helpers.render import render

from .kubelet import Render, materialise, secret_stand_in

pytestmark = pytest.mark.live

RELEASES = releases.releases()
DIGEST = "sha256:" + "ef" * 32
STARTUP_TIMEOUT = 120.0
# A probe value of a string setting: any text its type takes, and no path the server would act on at start.
_TEXT = "probe-{field}"


@pytest.fixture(scope="module")
def release_bins() -> dict[str, Path]:
    """Each release's venv (installed in parallel on a cold cache, only checked on a warm one)."""
    started = time.monotonic()
    try:
        bins = release_venvs.release_venvs([(r.version, r.uploaded) for r in RELEASES])
    except release_venvs.ReleaseVenvError as error:
        pytest.fail(str(error), pytrace=False)
    print(f"\nrelease venvs ready in {time.monotonic() - started:.1f}s under {release_venvs.cache_root()}")
    return bins


def _probe_value(setting: ReleaseSetting) -> Any:
    """A value of the setting's type other than its default, within its bounds."""
    default, bounds = setting.default, setting.constraints
    if setting.kind is SettingKind.BOOL:
        return not default
    if setting.kind in (SettingKind.INT, SettingKind.FLOAT):
        step = 1 if setting.kind is SettingKind.INT else 0.5
        high = bounds.get("le", bounds["lt"] - step if "lt" in bounds else None)
        return default + step if high is None or default + step <= high else default - step
    if setting.kind is SettingKind.LIST:
        if setting.choices:
            return [setting.choices[0]] if default != [setting.choices[0]] else [setting.choices[-1]]
        # One item of its own: a value no default has, and naming nothing the server acts on.
        return ["probe"]
    if setting.choices:
        return next(choice for choice in setting.choices if choice != default)
    return _TEXT.format(field=setting.field)


def _project() -> str:
    return yaml.safe_load((REPO / "Pulumi.yaml").read_text())["name"]


def _prod_service() -> dict[str, Any]:
    return yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())["config"][f"{_project()}:service"]


def _stack_file(release: Release, tmp: Path, *, every_variable: bool) -> Path:
    """Pulumi.prod.yaml with the release's image; a release without durable mode runs the development profile
    without it; `every_variable`: each setting open to `server.advanced` set to a value other than its default."""
    stack = yaml.safe_load((REPO / "Pulumi.prod.yaml").read_text())
    service = stack["config"][f"{_project()}:service"]
    service["image"] = f"deepset/hayhooks:v{release.version}@{DIGEST}"
    if not release.reads("HAYHOOKS_DURABLE_MODE"):
        service["profile"] = "development"
        service["server"]["durableMode"] = False
    if every_variable:
        service["server"]["advanced"] = {
            env: _probe_value(setting) for env, setting in release.settings.items() if row(env) is None
        }
    path = tmp / f"Pulumi.{release.version}-{'parse' if every_variable else 'start'}.yaml"
    path.write_text(yaml.safe_dump(stack))
    return path


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Render]:
    """Per (release, every_variable): the render, made in parallel (each is its own interpreter)."""
    tmp = tmp_path_factory.mktemp("release-renders")
    jobs = [(release, every) for release in RELEASES for every in (True, False)]

    def one(job: tuple[Release, bool]) -> tuple[tuple[str, bool], Render]:
        release, every = job
        out = tmp / f"{release.version}-{every}"
        result = render("prod", out, _stack_file(release, tmp, every_variable=every))
        if result.returncode != 0:
            pytest.fail(f"render for {release} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
        return (release.version, every), Render.load(out)

    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(pool.map(one, jobs))


def _container_env(rendered: Render) -> dict[str, str]:
    """The container's variables as the kubelet sets them (a Secret's key as a stand-in value)."""
    container = rendered.one("Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {}
    for var in container["env"]:
        if "value" in var:
            env[var["name"]] = str(var["value"])
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = secret_stand_in(ref["name"], ref["key"])
    return env


def _read_as(kind: SettingKind, text: str) -> Any:
    """What the table says the variable's text means."""
    if kind is SettingKind.BOOL:
        return {"true": True, "false": False}[text]
    if kind is SettingKind.INT:
        return int(text)
    if kind is SettingKind.FLOAT:
        return float(text)
    if kind is SettingKind.LIST:
        return json.loads(text)
    return text


@pytest.mark.parametrize("release", RELEASES, ids=str)
def test_the_table_is_what_the_release_itself_says(release: Release, release_bins: dict[str, Path]) -> None:
    """`releases.json` is up to date: its entry is what the generator reads from the release now."""
    entry = json.loads(releases.DATA_FILE.read_text())["releases"][release.version]
    assert release_entry(release_bins[release.version], release.uploaded) == entry, (
        f"releases.json differs from what {release} says: run `make server-settings`"
    )


@pytest.mark.parametrize("release", RELEASES, ids=str)
def test_the_release_parses_every_rendered_variable_as_the_table_says(
    release: Release, release_bins: dict[str, Path], renders: dict[tuple[str, bool], Render]
) -> None:
    env = _container_env(renders[(release.version, True)])
    parsed = introspect(release_bins[release.version], "--parse", env=env)
    written = {name: text for name, text in env.items() if name.startswith("HAYHOOKS_")}
    # Every variable open to `server.advanced` is in the probe render; the typed ones are as the stack sets them.
    assert {env for env in release.settings if row(env) is None} <= set(written)
    for name, text in written.items():
        assert release.reads(name), f"the render writes {name}, which {release} does not read (ignored silently)"
        setting = release.setting(name)
        if setting is None:  # read by the server's logger, not its settings class
            assert name in release.logger_variables
            continue
        expected = _read_as(setting.kind, text)
        assert parsed[setting.field] == expected, f"{name}={text!r}: {release} parsed {parsed[setting.field]!r}"
        if row(name) is None:
            assert expected != setting.default, f"{name}: the probe value is the default, which proves nothing"


@pytest.fixture
def started(release_bins: dict[str, Path], renders: dict[tuple[str, bool], Render]) -> Iterator[Any]:
    """Start a release's server from its rendered pod (as this user: the venvs live in this user's cache); stopped
    by its pid when the test ends."""
    processes: list[Any] = []
    with scratch_dir("hayhooks-release-pod-") as root, scratch_dir("hayhooks-release-logs-") as logs:

        def start(release: Release) -> tuple[Any, Any]:
            rendered = renders[(release.version, False)]
            pod = materialise(rendered, root / "rootfs", release_bins[release.version], free_port)
            process = start_process(f"hayhooks-{release.version}", pod.argv, logs, env=pod.env, cwd=pod.cwd)
            processes.append(process)
            wait_until(
                f"{release}: GET /status", lambda: answers(pod.http_port, "/status"), STARTUP_TIMEOUT, proc=process
            )
            return pod, process

        try:
            yield start
        finally:
            for process in processes:
                stop_process(process)


@pytest.mark.parametrize("release", RELEASES, ids=str)
def test_the_release_starts_with_the_rendered_pod_and_serves_its_pipelines(release: Release, started: Any) -> None:
    pod, process = started(release)
    status = http(pod.http_port, "GET", "/status").json()
    loaded = set(status.get("pipelines", []))
    durable = pod.env.get("HAYHOOKS_DURABLE_MODE") == "true"
    deployment = pod.deployment["spec"]["template"]["spec"]["containers"][0]
    # The stack's required pipelines must have loaded; without durable mode a YAML pipeline on a read-only mount
    # is skipped by the server (it rewrites them in place), so there only the wrappers (folders) are asked for.
    required = set(_prod_service()["requiredPipelines"])
    if not durable:
        required = {name for name in required if (REPO / "pipelines" / name).is_dir()}
    assert required, "the prod stack names no required pipeline to check"
    assert required <= loaded, f"{release} loaded {sorted(loaded)}\n{process.tail()}"
    for name in required:
        assert http(pod.http_port, "GET", f"/status/{name}").status == 200
    assert deployment["image"].startswith(f"deepset/hayhooks:v{release.version}@")
