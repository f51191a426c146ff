"""Image references: what is accepted, what production refuses and how it says so, resolve_image on Outputs."""

from __future__ import annotations

import hashlib
import os
import warnings

import pulumi
import pytest
from hayhooks_pulumi import HayhooksService
from hayhooks_pulumi.errors import ConfigError
from hayhooks_pulumi.image import (
    RENDER_OFFLINE_ENV,
    ImageRef,
    PlaceholderDigestWarning,
    parse_image,
    resolve_image,
)
from hayhooks_pulumi.profile import Profile
from hayhooks_pulumi.render.cli import offline_render
from hayhooks_pulumi.types import labels
from helpers.engine import register
from helpers.kubernetes import base_args
from helpers.paths import REPO
from helpers.render import Renders
from hypothesis import example, given
from hypothesis import strategies as st

# A real-looking digest: sha256 of some bytes, 64 lowercase hex digits.
DIGEST = "sha256:" + hashlib.sha256(b"hayhooks v2.1.0").hexdigest()
HEX = DIGEST.removeprefix("sha256:")
PROFILES = list(Profile)


def _problem(ref: object, profile: Profile, path: str = "image") -> str:
    with pytest.raises(ConfigError) as caught:
        parse_image(ref, profile, path)  # type: ignore[arg-type]
    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0].path == path
    return problems[0].message


# --------------------------------------------------------------------------------------------
# Accepted references
# --------------------------------------------------------------------------------------------

PINNED = [
    (f"deepset/hayhooks:v2.1.0@{DIGEST}", "deepset/hayhooks", "v2.1.0"),
    (f"ghcr.io/org/img@{DIGEST}", "ghcr.io/org/img", None),
    (f"localhost:5000/x:1@{DIGEST}", "localhost:5000/x", "1"),
    (
        f"registry.example.com:443/team/sub/my_img:2.0-rc.1@{DIGEST}",
        "registry.example.com:443/team/sub/my_img",
        "2.0-rc.1",
    ),
    (f"hayhooks@{DIGEST}", "hayhooks", None),
    (f"docker.io/deepset/hayhooks:latest@{DIGEST}", "docker.io/deepset/hayhooks", "latest"),  # the digest decides
    (f"[::1]:5000/img:v1@{DIGEST}", "[::1]:5000/img", "v1"),
]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("text", "repository", "tag"), PINNED, ids=[p[0].split("@")[0] for p in PINNED])
def test_pinned_references_parse_into_their_parts(text: str, repository: str, tag: str | None, profile) -> None:
    ref = parse_image(text, profile)
    assert ref == ImageRef(repository=repository, tag=tag, digest=DIGEST)
    assert ref.pinned
    assert str(ref) == text
    assert parse_image(str(ref), profile) == ref


def test_surrounding_whitespace_is_ignored() -> None:
    ref = parse_image(f"  deepset/hayhooks:v2.1.0@{DIGEST}\n", Profile.PRODUCTION)
    assert str(ref) == f"deepset/hayhooks:v2.1.0@{DIGEST}"


# --------------------------------------------------------------------------------------------
# Profiles: production needs a digest, development at least a version tag
# --------------------------------------------------------------------------------------------


def test_production_refuses_a_tag_and_says_how_to_find_the_digest() -> None:
    message = _problem("deepset/hayhooks:v2.1.0", Profile.PRODUCTION)
    assert "not pinned by digest" in message
    assert "docker buildx imagetools inspect deepset/hayhooks:v2.1.0" in message
    assert "deepset/hayhooks:v2.1.0@sha256:<digest>" in message


def test_the_problem_carries_the_callers_config_path() -> None:
    _problem("deepset/hayhooks:v2.1.0", Profile.PRODUCTION, path="hayhooks:service.image")


@pytest.mark.parametrize("text", ["deepset/hayhooks", "deepset/hayhooks:latest", "ghcr.io/org/img:main"])
def test_production_refuses_every_unpinned_reference(text: str) -> None:
    message = _problem(text, Profile.PRODUCTION)
    assert f"docker buildx imagetools inspect {text}" in message


def test_development_accepts_a_version_tag_without_digest() -> None:
    ref = parse_image("deepset/hayhooks:v2.1.0", Profile.DEVELOPMENT)
    assert ref == ImageRef(repository="deepset/hayhooks", tag="v2.1.0", digest=None)
    assert not ref.pinned
    assert str(ref) == "deepset/hayhooks:v2.1.0"


@pytest.mark.parametrize("text", ["deepset/hayhooks", "deepset/hayhooks:latest", "localhost:5000/x"])
def test_development_refuses_no_tag_and_latest(text: str) -> None:
    message = _problem(text, Profile.DEVELOPMENT)
    assert "names no version" in message
    assert f"docker buildx imagetools inspect {text}" in message


def test_development_accepts_a_digest_without_tag() -> None:
    assert parse_image(f"deepset/hayhooks@{DIGEST}", Profile.DEVELOPMENT).digest == DIGEST


# --------------------------------------------------------------------------------------------
# Refused references
# --------------------------------------------------------------------------------------------

BAD_DIGESTS = {
    "63 hex digits": "sha256:" + HEX[:63],
    "65 hex digits": "sha256:" + HEX + "0",
    "uppercase hex": "sha256:" + HEX.upper(),
    "sha512": "sha512:" + hashlib.sha512(b"x").hexdigest(),
    "md5 length": "sha256:" + HEX[:32],
}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("digest", BAD_DIGESTS.values(), ids=BAD_DIGESTS.keys())
def test_a_digest_that_is_not_sha256_64_lowercase_hex_is_refused(digest: str, profile: Profile) -> None:
    message = _problem(f"deepset/hayhooks:v2.1.0@{digest}", profile)
    assert "sha256" in message
    assert "64" in message


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        f"Deepset/Hayhooks:v2.1.0@{DIGEST}",  # repositories are lowercase
        f"deepset//hayhooks:v2.1.0@{DIGEST}",
        f"deepset/hayhooks:@{DIGEST}",
        f"deepset/hayhooks:v2.1.0@{DIGEST[:-1]}g",  # not hex
        f"deepset/hayhooks:vé@{DIGEST}",  # tags are ASCII
        f"deepset/hayhooks:.v1@{DIGEST}",  # a tag cannot start with '.'
        f"deepset/hayhooks:{'v' * 129}@{DIGEST}",  # tags are at most 128 characters
        f"deepset/hayhooks:v2.1.0 @{DIGEST}",
        f"-deepset/hayhooks:v2.1.0@{DIGEST}",
        f"https://docker.io/deepset/hayhooks@{DIGEST}",
        f"deepset/hayhooks:v2.1.0@sha256:{HEX}\nevil",
    ],
)
def test_malformed_references_are_refused(text: str, profile: Profile) -> None:
    assert "not an image reference" in _problem(text, profile)


@pytest.mark.parametrize("value", [None, 42, ["deepset/hayhooks"]])
def test_a_non_string_is_refused_with_a_config_error(value: object) -> None:
    assert "not an image reference" in _problem(value, Profile.DEVELOPMENT)


# --------------------------------------------------------------------------------------------
# .version: used as the app.kubernetes.io/version label value
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "version"),
    [
        (f"deepset/hayhooks:v2.1.0@{DIGEST}", "v2.1.0"),
        (f"deepset/hayhooks@{DIGEST}", HEX[:12]),
        ("deepset/hayhooks:2.1.0-rc.1", "2.1.0-rc.1"),
        ("deepset/hayhooks:_v1.", "v1"),  # a label value must start and end with a letter or digit
        ("deepset/hayhooks:__", "unknown"),  # nothing label-safe left, no digest
        (f"deepset/hayhooks:__@{DIGEST}", HEX[:12]),
    ],
)
def test_version(text: str, version: str) -> None:
    assert parse_image(text, Profile.DEVELOPMENT).version == version


def test_a_long_tag_is_cut_to_a_label_value() -> None:
    tag = "v" + "1" * 127
    version = parse_image(f"deepset/hayhooks:{tag}", Profile.DEVELOPMENT).version
    assert len(version) == 63
    assert tag.startswith(version)


# --------------------------------------------------------------------------------------------
# Property tests: round trip and label safety over the reference grammar
# --------------------------------------------------------------------------------------------

_component = st.from_regex(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+){0,2}", fullmatch=True)
_domain = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?){1,3}", fullmatch=True),
    st.just("localhost"),
)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", fullmatch=True)
_digest = st.binary(min_size=1, max_size=32).map(lambda data: "sha256:" + hashlib.sha256(data).hexdigest())


@st.composite
def references(draw: st.DrawFn) -> tuple[str, str, str | None, str | None]:
    registry = draw(st.none() | _domain)
    port = draw(st.none() | st.integers(1, 65535)) if registry else None
    path = "/".join(draw(st.lists(_component, min_size=1, max_size=3)))
    repository = (f"{registry}{f':{port}' if port else ''}/" if registry else "") + path
    tag = draw(st.none() | _tag)
    digest = draw(st.none() | _digest)
    text = repository + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")
    return text, repository, tag, digest


@given(references())
def test_any_valid_reference_round_trips_or_is_refused_for_its_profile(ref: tuple) -> None:
    text, repository, tag, digest = ref
    for profile in Profile:
        must_refuse = digest is None and (profile is Profile.PRODUCTION or tag in (None, "latest"))
        if must_refuse:
            _problem(text, profile)
            continue
        parsed = parse_image(text, profile)
        assert parsed == ImageRef(repository=repository, tag=tag, digest=digest)
        assert str(parsed) == text
        assert parsed.pinned is (digest is not None)


@example(("deepset/hayhooks:_", "deepset/hayhooks", "_", None))  # a tag of separators alone
@given(references())
def test_the_version_is_always_a_valid_label_value(ref: tuple) -> None:
    text, _, tag, digest = ref
    if digest is None and tag in (None, "latest"):
        return
    version = parse_image(text, Profile.DEVELOPMENT).version
    labels({"app.kubernetes.io/version": version})  # raises when not a label value
    assert version
    if tag and tag.strip("_.-"):
        assert version in tag
    elif digest is None:
        assert version == "unknown"  # a tag of separators only, e.g. `_`: nothing of it is a label value


@given(st.text(max_size=60))
def test_arbitrary_text_is_either_a_reference_or_a_config_error(text: str) -> None:
    try:
        parsed = parse_image(text, Profile.DEVELOPMENT)
    except ConfigError as error:
        assert [p.path for p in error.problems] == ["image"]
    else:
        assert str(parsed) == text.strip()
        assert parsed.tag not in (None, "latest") or parsed.pinned


# --------------------------------------------------------------------------------------------
# resolve_image: the image may be an Output (built by another resource)
# --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("mock_engine")
@pytest.mark.parametrize("profile", PROFILES)
def test_resolve_image_validates_an_output(profile: Profile) -> None:
    text = f"deepset/hayhooks:v2.1.0@{DIGEST}"
    seen: list[str] = []

    @pulumi.runtime.test
    def program():
        return resolve_image(pulumi.Output.from_input(text), profile).apply(seen.append)

    program()
    assert seen == [text]


@pytest.mark.usefixtures("mock_engine")
def test_resolve_image_normalizes_a_plain_string() -> None:
    seen: list[str] = []

    @pulumi.runtime.test
    def program():
        return resolve_image(f"  ghcr.io/org/img@{DIGEST} ", Profile.PRODUCTION).apply(seen.append)

    program()
    assert seen == [f"ghcr.io/org/img@{DIGEST}"]


@pytest.mark.usefixtures("mock_engine")
def test_resolve_image_fails_for_an_unpinned_output_in_production() -> None:
    seen: list[str] = []

    @pulumi.runtime.test
    def program():
        return resolve_image(pulumi.Output.from_input("deepset/hayhooks:v2.1.0"), Profile.PRODUCTION, "x.image").apply(
            seen.append
        )

    with pytest.raises(ConfigError) as caught:
        program()
    assert seen == []
    assert caught.value.problems[0].path == "x.image"
    assert "docker buildx imagetools inspect deepset/hayhooks:v2.1.0" in str(caught.value)


@pytest.mark.usefixtures("mock_engine")
def test_resolve_image_accepts_the_same_unpinned_output_in_development() -> None:
    seen: list[str] = []

    @pulumi.runtime.test
    def program():
        return resolve_image(pulumi.Output.from_input("deepset/hayhooks:v2.1.0"), Profile.DEVELOPMENT).apply(
            seen.append
        )

    program()
    assert seen == ["deepset/hayhooks:v2.1.0"]


# --------------------------------------------------------------------------------------------
# The all-zero placeholder digest: refused in production, a warning in the offline render only
# --------------------------------------------------------------------------------------------

PLACEHOLDER = "deepset/hayhooks:v2.1.0@sha256:" + "0" * 64


def test_production_refuses_the_placeholder_digest_saying_how_to_get_the_real_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(RENDER_OFFLINE_ENV, raising=False)
    message = _problem(PLACEHOLDER, Profile.PRODUCTION)
    assert "all-zero placeholder digest" in message
    assert "docker buildx imagetools inspect deepset/hayhooks:v2.1.0" in message


def test_the_offline_render_downgrades_the_placeholder_to_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RENDER_OFFLINE_ENV, "1")
    with pytest.warns(PlaceholderDigestWarning, match="placeholder digest: replace before pulumi up"):
        assert parse_image(PLACEHOLDER, Profile.PRODUCTION).digest == "sha256:" + "0" * 64


def test_development_takes_the_placeholder_without_a_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RENDER_OFFLINE_ENV, raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_image(PLACEHOLDER, Profile.DEVELOPMENT).pinned


def test_a_deployment_with_the_placeholder_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # What `pulumi up` runs: the component under the engine, without the render's flag.
    monkeypatch.delenv(RENDER_OFFLINE_ENV, raising=False)
    errors: list[ConfigError] = []

    def program() -> None:
        try:
            HayhooksService("hh", base_args(image=PLACEHOLDER))
        except ConfigError as error:
            errors.append(error)

    assert register(program) == {}
    assert [p.path for p in errors[0].problems] == ["image"]


def test_the_render_flag_is_set_only_while_the_program_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RENDER_OFFLINE_ENV, raising=False)
    with offline_render() as texts:
        assert os.environ[RENDER_OFFLINE_ENV] == "1"
        parse_image(PLACEHOLDER, Profile.PRODUCTION)
        parse_image(PLACEHOLDER, Profile.PRODUCTION)
    assert RENDER_OFFLINE_ENV not in os.environ
    assert len(texts) == 1 and "placeholder digest: replace before pulumi up" in texts[0]
    monkeypatch.setenv(RENDER_OFFLINE_ENV, "0")
    with offline_render():
        pass
    assert os.environ[RENDER_OFFLINE_ENV] == "0"


def test_the_prod_render_warns_on_stderr_and_succeeds(stack_render: Renders) -> None:
    result = stack_render("prod").result
    assert result.returncode == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "placeholder" in line]
    assert warning.startswith("warning: image: placeholder digest: replace before pulumi up")
    # One short line (issue 19: it once ran to two terminal lines); where to read how points to the README.
    assert len(warning) <= 100 and "Pin the image by digest" in warning
    assert "### Pin the image by digest" in (REPO / "README.md").read_text()
