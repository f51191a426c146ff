"""The Hayhooks release is a fact of the stack: the image's tag (or `server.version`) selects the settings table,
a setting that release lacks is refused naming it, an unknown release is refused listing the known ones, and a
release newer than the table is taken with a warning.

Expected releases and variables come from the generated table (`releases.json`), never from a list written here:
what a release has is asked of the table, and the test checks the component's answer against it.
"""

from __future__ import annotations

import logging
from typing import Any

import pulumi
import pytest
from hayhooks_pulumi.docker.plan import plan_container
from hayhooks_pulumi.errors import ConfigError
from hayhooks_pulumi.kubernetes.plan import plan_service
from hayhooks_pulumi.server import releases
from hayhooks_pulumi.server.settings_table import row
from hayhooks_pulumi.server.version import select_release
from helpers import docker as docker_helpers
from helpers.kubernetes import DIGEST, base_args, build, env_of, problem_at

NEWEST = releases.newest()
OLDEST = releases.releases()[0]
NEWER = ".".join(str(part) for part in (NEWEST.key[0], NEWEST.key[1] + 1, 0))


def image_of(version: str) -> str:
    return f"deepset/hayhooks:v{version}@{DIGEST}"


def problems(args: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        plan_service("hh", args, **kwargs)
    return {p.path: p.message for p in info.value.problems}


def only_in_some(variable_filter: Any = None) -> list[tuple[str, releases.Release, releases.Release]]:
    """(variable, a release that reads it, one that does not): every variable of an AppSettings some release of the
    table lacks."""
    cases = []
    for env in releases.app_settings():
        having = releases.reading(env)
        lacking = [r for r in releases.releases() if r not in having]
        if having and lacking and (variable_filter is None or variable_filter(env)):
            cases.append((env, having[-1], lacking[-1]))
    return cases


def test_the_table_covers_the_whole_newest_major_and_the_last_release_of_the_one_before() -> None:
    majors = sorted({release.key[0] for release in releases.releases()})
    assert majors[-2:] == [NEWEST.key[0] - 1, NEWEST.key[0]], "the table needs the last release of the major before"
    assert len([r for r in releases.releases() if r.key[0] == majors[-2]]) == 1


@pytest.mark.parametrize("release", releases.releases(), ids=str)
def test_the_image_tag_selects_the_release_and_only_its_variables_are_written(release: releases.Release) -> None:
    args = base_args(image=image_of(release.version))
    if not release.reads("HAYHOOKS_DURABLE_MODE"):
        args.update(profile="development", server={"durableMode": False})
    plan = plan_service("hh", args)
    assert plan.server_version is not None and plan.server_version.version == release.version
    server_variables = {name for name in plan.env if name.startswith("HAYHOOKS_")}
    unread = sorted(name for name in server_variables if not release.reads(name))
    assert not unread, f"{release} does not read {unread}, yet they are written"


def test_a_typed_key_whose_variable_the_release_lacks_is_refused_naming_the_release() -> None:
    lacking = [r for r in releases.releases() if not r.reads("HAYHOOKS_TRACING_ENABLED")]
    assert lacking, "every release of the table has the trace API: pick another key for this test"
    release = lacking[-1]
    args = base_args(image=image_of(release.version))
    args["server"] = {**args["server"], "tracing": {"enabled": True}}
    message = problem_at(args, "server.tracing.enabled")
    having = releases.listed(releases.reading("HAYHOOKS_TRACING_ENABLED"))
    assert message.startswith(f"Hayhooks {release.version} has no HAYHOOKS_TRACING_ENABLED (it is read by {having})")
    # Left at its default (off), the variable is simply not written for that release.
    env = plan_service("hh", base_args(image=image_of(release.version))).env
    assert "HAYHOOKS_TRACING_ENABLED" not in env


def test_durable_mode_on_a_release_without_it_is_refused_and_false_is_what_it_means() -> None:
    release = next(r for r in reversed(releases.releases()) if not r.reads("HAYHOOKS_DURABLE_MODE"))
    args = base_args(image=image_of(release.version), profile="development")
    assert problems(args)["server.durableMode"].startswith(f"Hayhooks {release.version} has no HAYHOOKS_DURABLE_MODE")
    assert "set it to false" in problems(args)["server.durableMode"]
    plan = plan_service("hh", {**args, "server": {"durableMode": False}})
    assert "HAYHOOKS_DURABLE_MODE" not in plan.env


# A typed key or a secret is refused in `advanced` whatever the release: those are the other tests'.
@pytest.mark.parametrize(("env", "having", "lacking"), only_in_some(lambda env: row(env) is None), ids=str)
def test_an_advanced_variable_the_release_lacks_is_refused_naming_it(
    env: str, having: releases.Release, lacking: releases.Release
) -> None:
    setting = releases.app_settings()[env]
    value = {"bool": "true", "int": "7", "float": "1.5", "list": '["x"]', "str": "x"}[setting.kind.value]
    if setting.choices:
        value = str(setting.choices[0]) if setting.kind.value != "list" else f'["{setting.choices[0]}"]'
    args = base_args(image=image_of(lacking.version))
    args["server"] = {**args["server"], "advanced": {env: value}}
    if not lacking.reads("HAYHOOKS_DURABLE_MODE"):
        args.update(profile="development")
        args["server"]["durableMode"] = False
    message = problem_at(args, f"server.advanced.{env}")
    assert message.startswith(f"Hayhooks {lacking.version} has no {env} (it is read by ")
    assert having.version in message
    args["image"] = image_of(having.version)
    if having.reads("HAYHOOKS_DURABLE_MODE"):
        args["server"].pop("durableMode", None)
    assert plan_service("hh", args).env[env] == value


def test_a_secret_setting_the_release_lacks_is_refused() -> None:
    release = next(r for r in reversed(releases.releases()) if not r.reads("HAYHOOKS_TRACING_TOKEN"))
    args = base_args(image=image_of(release.version), secrets={"HAYHOOKS_TRACING_TOKEN": {"fromConfig": "token"}})
    message = problems(args, secret_values={"HAYHOOKS_TRACING_TOKEN": "t"})["secrets.HAYHOOKS_TRACING_TOKEN"]
    assert message.startswith(f"Hayhooks {release.version} has no HAYHOOKS_TRACING_TOKEN")


def test_an_older_release_the_table_lacks_is_refused_listing_the_known_ones() -> None:
    older = f"{OLDEST.key[0] - 1}.9.0"
    message = problem_at(base_args(image=image_of(older)), "image")
    assert f"is Hayhooks {older}, whose settings this package does not know: it knows {releases.known_versions()}" in (
        message
    )
    assert "use an image of one of those releases" in message
    # Nor can server.version stand in for it: an older release has no table to check it against.
    assert "is not a release this package has the settings of" in problem_at(
        base_args(image=f"registry.example.com/team/assistant:1.0@{DIGEST}", server={"version": older}),
        "server.version",
    )


def test_a_newer_release_needs_server_version_then_takes_the_newest_table_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = problem_at(base_args(image=image_of(NEWER)), "image")
    assert f"set server.version: {NEWER}" in message and f"checked against {NEWEST.version}'s" in message
    server = {**base_args()["server"], "version": NEWER, "advanced": {"HAYHOOKS_SETTING_OF_TOMORROW": "on"}}
    plan = plan_service("hh", base_args(image=image_of(NEWER), server=server))
    assert plan.server_version is not None and plan.server_version.table.version == NEWEST.version
    assert plan.env["HAYHOOKS_SETTING_OF_TOMORROW"] == "on"
    assert any(f"Hayhooks {NEWER} is newer than the newest release" in w for w in plan.warnings)
    assert any("HAYHOOKS_SETTING_OF_TOMORROW: not a setting of Hayhooks" in w for w in plan.warnings)
    # `pulumi up` shows them as the component's warnings.
    with caplog.at_level(logging.WARNING):
        build(base_args(image=image_of(NEWER), server=server))
    assert any(f"Hayhooks {NEWER} is newer" in record.getMessage() for record in caplog.records)


def test_server_version_and_the_tag_must_agree() -> None:
    other = releases.releases()[-2].version
    message = problem_at(base_args(server={**base_args()["server"], "version": other}), "server.version")
    assert message.startswith(f"says {other}, but the image {image_of(NEWEST.version)} is Hayhooks {NEWEST.version}")


@pytest.mark.parametrize(
    "image",
    [
        f"registry.example.com/team/assistant:1.4.2@{DIGEST}",  # a build of one's own: its tag is its own
        f"deepset/hayhooks@{DIGEST}",  # the official image by digest alone
        f"deepset/hayhooks:main@{DIGEST}",
    ],
)
def test_an_image_whose_tag_names_no_release_needs_server_version(image: str) -> None:
    message = problem_at(base_args(image=image), "server.version")
    assert message.startswith(f"required: the image {image} does not say which Hayhooks release it runs")
    assert releases.known_versions() in message
    server = {**base_args()["server"], "version": NEWEST.version}
    assert plan_service("hh", base_args(image=image, server=server)).server_version is not None


def test_an_image_known_only_at_deploy_time_needs_server_version() -> None:
    output = pulumi.Output.from_input(image_of(NEWEST.version))
    message = problem_at(base_args(image=None), "server.version", image=output)
    assert message.startswith("required when the image is an Output")
    server = {**base_args()["server"], "version": NEWEST.version}
    registrations, _ = build(base_args(image=None, server=server), image=output)
    assert env_of(registrations)["HAYHOOKS_HOST"] == "0.0.0.0"


@pytest.mark.parametrize("text", ["2.1", "v2.1.0", "latest", "2.1.0-rc1"])
def test_server_version_is_a_release_number(text: str) -> None:
    message = problem_at(base_args(server={**base_args()["server"], "version": text}), "server.version")
    assert message.startswith(f"{text!r} is not a release: write MAJOR.MINOR.PATCH")


def test_the_docker_target_checks_the_release_too() -> None:
    release = next(r for r in reversed(releases.releases()) if not r.reads("HAYHOOKS_TRACING_ENABLED"))
    args = docker_helpers.dev_args(image=f"deepset/hayhooks:v{release.version}", server={"tracing": {"enabled": True}})
    with pytest.raises(ConfigError) as info:
        plan_container("hh", args)
    [message] = [p.message for p in info.value.problems if p.path == "server.tracing.enabled"]
    assert message.startswith(f"Hayhooks {release.version} has no HAYHOOKS_TRACING_ENABLED")


def test_select_release_says_nothing_when_the_image_itself_is_missing() -> None:
    # The image's own problem ("required: an image reference") says it; no second one about the release.
    assert select_release(None, False, None) == (None, [], [])
