"""Checks and facts every target's plan shares: the args model, the component name, the image, labels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ConfigError, Problem, config_source, format_path, located_problems
from .image import ImageRef, parse_image
from .pipelines import PipelineSet, durable_problems, load_pipelines
from .profile import Profile
from .server.facts import HOME_DIR, IMAGE_DIRS, TMP_DIR
from .server.models import ServerSettings
from .server.version import ServerVersion, select_release, setting_problems
from .types import dns_label

APP_NAME = "hayhooks"
# Addresses that mean "every interface" inside a container: the only ones a Service, a probe or a
# published port reaches.
ANY_ADDRESS = frozenset({"0.0.0.0", "::"})
MAX_NAME = 40  # leaves room for the longest child suffix within 63 characters
# Seconds both targets allow beyond the server's own drain timeout before the engine kills it.
SHUTDOWN_MARGIN = 5
ModelT = TypeVar("ModelT", bound=BaseModel)


def without_profile_rules(args: ModelT, problems: Problems) -> ModelT:
    """A wrong `profile` is reported, and nothing is judged by the production default standing in for it: the
    profile-dependent checks run as for development, which refuses least."""
    if problems.left_out("profile"):
        return args.model_copy(update={"profile": Profile.DEVELOPMENT})
    return args


def validate_args(model: type[ModelT], args: ModelT | Mapping, problems: Problems) -> ModelT | None:
    """The validated model, from itself or from the camelCase mapping a stack file holds. Each invalid value is
    recorded in `problems` and left out, its default standing in, so that the checks after validation still run on
    the rest; `problems` then skips what they say about a key left out (a check that needs a value that is itself
    wrong). A required key left out takes its parent along. None when no model can be made at all."""
    if isinstance(args, model):
        return args
    data: Any = args
    while True:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            located = located_problems(error, model)
        # All of a round first: two wrong items of one list are two problems, though the list goes as one.
        problems.extend([problem for _, problem in located])
        left_out = False
        for loc, _ in located:
            keys = _present_keys(data, loc)
            if keys:
                data = _without(data, keys)
                problems.skip(format_path(keys))
                left_out = True
        if not left_out:
            return None


def _present_keys(data: Any, loc: Sequence[str | int]) -> list[str]:
    """The longest run of mapping keys of `loc` that `data` holds (up to a list, or to a key that is missing)."""
    keys: list[str] = []
    for part in loc:
        if not isinstance(part, str) or not isinstance(data, Mapping) or part not in data:
            break
        keys.append(part)
        data = data[part]
    return keys


def _without(data: Mapping, keys: Sequence[str]) -> dict:
    """A copy of `data` without the value at `keys`; the caller's mappings are never changed."""
    copy = dict(data)
    if len(keys) == 1:
        del copy[keys[0]]
    else:
        copy[keys[0]] = _without(data[keys[0]], keys[1:])
    return copy


def _related(path: str, other: str) -> bool:
    """One config path is the other or lies under it."""

    def under(inner: str, outer: str) -> bool:
        return inner == outer or inner.startswith((f"{outer}.", f"{outer}["))

    return bool(path and other) and (under(path, other) or under(other, path))


class Problems:
    """Collects every problem of a config, so one error lists them all; skips those about keys left out because
    their value was wrong (`skip`), which a check could only judge by the default standing in."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.skipped: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.extend([Problem(path, message)])

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(p for p in problems if not any(_related(p.path, key) for key in self.skipped))

    def left_out(self, path: str) -> bool:
        """Whether the value at `path` was wrong and left out, its default standing in."""
        return path in self.skipped

    def skip(self, path: str) -> None:
        """Problems at `path`, under it or above it are not the config's own from now on."""
        self.skipped.append(path)

    @contextmanager
    def collect(self) -> Iterator[None]:
        """Record a ConfigError raised inside instead of stopping at the first one."""
        try:
            yield
        except ConfigError as error:
            self.extend(error.problems)

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


def check_name(problems: Problems, name: str) -> None:
    try:
        dns_label(name)
        if len(name) > MAX_NAME:
            raise ValueError(f"at most {MAX_NAME} characters, so child names stay within 63")
    except ValueError as error:
        problems.add("name", f"component name: {error}")


def check_image(problems: Problems, image: str | None, keyword: object, profile: Profile) -> ImageRef | None:
    """The parsed image of the args, unless the component's `image=` keyword gives it (an Output is validated in
    `apply` then). Given both ways, they must be the same string: one would win silently, and the other's
    warnings (a placeholder digest) would be about an image that never runs."""
    if (
        image is not None
        and keyword is not None
        and not (isinstance(keyword, str) and keyword.strip() == image.strip())
    ):
        given = repr(keyword) if isinstance(keyword, str) else "an Output"
        problems.add(
            "image",
            f"given twice, as {image!r} here and as the image= keyword ({given}); give it once: the keyword for an "
            "image known only at deploy time (a build's digest), else here",
        )
        return None
    if image is None and isinstance(keyword, str):
        image = keyword
    if image is None:
        if keyword is None:
            problems.add("image", "required: an image reference such as deepset/hayhooks:v2.1.0@sha256:<digest>")
        return None
    with problems.collect():
        return parse_image(image, profile)
    return None


def check_release(
    problems: Problems, image: ImageRef | None, keyword: object, server: ServerSettings, secrets: Iterable[str]
) -> tuple[ServerVersion | None, list[str]]:
    """The Hayhooks release the stack runs (the image's tag, or `server.version`) and the warnings about it; what of
    the settings that release lacks joins the problems. `keyword`: the component's `image=`, whose tag cannot be
    read before anything registers when it is an Output."""
    if problems.left_out("server.version"):
        return None, []
    is_output = keyword is not None and not isinstance(keyword, str)
    release, found, notes = select_release(image, is_output, server.version)
    problems.extend(found)
    if release is None:
        return None, notes
    lacking, more = setting_problems(server, release, secrets)
    problems.extend(lacking)
    return release, [*notes, *more]


def check_bind_address(problems: Problems, host: str, reached_by: str, limit_with: str) -> None:
    if host not in ANY_ADDRESS:
        problems.add(
            "server.host",
            f"{host!r} inside a container is unreachable through {reached_by}; keep 0.0.0.0 (or ::) "
            f"and limit exposure with {limit_with}",
        )


def check_pipelines(problems: Problems, directory: str, *, durable: bool) -> PipelineSet | None:
    """The pipelines of `directory`; in durable mode also what would make the server's start-up exit."""
    with problems.collect():
        pipelines = load_pipelines(directory)
        if durable:
            problems.extend(durable_problems(pipelines))
        return pipelines
    return None


def overlaps(first: str, second: str) -> bool:
    """One path is the other or lies inside it: a mount at either would hide, or be hidden by, the other."""
    a, b = first.rstrip("/") + "/", second.rstrip("/") + "/"
    return a.startswith(b) or b.startswith(a)


def check_pipelines_dir(problems: Problems, pipelines_dir: str) -> None:
    """The pipelines mount needs a path of its own: not on, in or above the writable mounts (a Pod may not
    mount two volumes at one path) nor what the image ships."""
    hint = "choose a directory of its own, e.g. /opt/hayhooks/pipelines"
    for mount in (TMP_DIR, HOME_DIR):
        if overlaps(pipelines_dir, mount):
            problems.add(
                "server.pipelinesDir", f"{pipelines_dir} overlaps the container's writable mount at {mount}; {hint}"
            )
    for shipped in IMAGE_DIRS:
        if overlaps(pipelines_dir, shipped):
            problems.add(
                "server.pipelinesDir",
                f"{pipelines_dir} is on, above or inside the image's {shipped}, which a mount there would hide; {hint}",
            )
            break


def check_secret_names(problems: Problems, names: Iterable[str], plain: Mapping[str, str]) -> None:
    """A secret variable may not also be a plain one: the container would get the name twice and one value
    would win silently. (What a user may name at all is `server.env.UserEnvName`, for both.)"""
    for name in names:
        if name in plain:
            problems.add(
                f"secrets.{name}",
                f"{name} is already set as a plain variable (server.extraEnv); set each variable once",
            )


def missing_secret(value_key: str, config_key: str) -> str:
    """Why a `fromConfig` secret has no value, by where the values come from: the stack's config, where the key is
    to be set, or the program's `secret_values=` argument, which lacks the entry."""
    if config_source().secrets_from_config:
        return f"no value given; set it with `pulumi config set --secret {config_key} <value>`"
    return (
        f"no value given: the secret_values= argument is missing or has no {value_key!r} entry; pass "
        f"secret_values={{{value_key!r}: <value>}}"
    )


def recommended_labels(name: str, image: ImageRef | None, extra: Mapping[str, str]) -> dict[str, str]:
    """The app.kubernetes.io labels, on every object of both targets."""
    labels = {
        **extra,
        "app.kubernetes.io/name": APP_NAME,
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/component": "server",
        "app.kubernetes.io/part-of": APP_NAME,
        "app.kubernetes.io/managed-by": "pulumi",
    }
    if image is not None:
        labels["app.kubernetes.io/version"] = image.version
    return dict(sorted(labels.items()))
