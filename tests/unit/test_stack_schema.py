"""The JSON Schema of stack files says what the models say, wherever JSON Schema can say it.

The oracle is the models: every bad input of the shared corpus (`helpers.bad_inputs`) is validated by the args
model of each target and by the schema, as the stack file an editor would hold. Each refusal of the model whose
kind JSON Schema expresses (an unknown key, a value of another type, outside its bounds or not among its values)
must be flagged by the schema at that key; what only a validator knows (an origin's form, a quantity, the
production profile's rules) is the render's. And what the models accept (the repository's stack files, the base
configs) the schema accepts.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hayhooks_pulumi.docker.args import HayhooksContainerArgs
from hayhooks_pulumi.errors import user_loc
from hayhooks_pulumi.kubernetes.args import HayhooksServiceArgs
from hayhooks_pulumi.stack_schema import SCHEMA_FILE, schema_text, stack_schema
from helpers.bad_inputs import ADVANCED_REFUSALS, INVALID_VALUES, PRODUCTION_REFUSALS, REFUSALS, UNKNOWN_KEYS, with_key
from helpers.docker import dev_args
from helpers.kubernetes import base_args
from pydantic import BaseModel, ValidationError

# Kinds of pydantic errors a JSON Schema keyword says as well: the schema must flag these.
EXPRESSIBLE = {
    "extra_forbidden",  # additionalProperties: false
    "missing",  # required
    "enum",
    "literal_error",
    "bool_parsing",
    "bool_type",
    "int_parsing",
    "int_type",
    "int_from_float",
    "float_parsing",
    "float_type",
    "string_type",
    "list_type",
    "dict_type",
    "model_type",
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_short",
    "too_long",
    "string_too_short",
    "string_too_long",
}
PROJECT = "hayhooks"


def _with_server(args: dict[str, Any], server: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(args)
    merged["server"] = {**merged.get("server", {}), **server}
    return merged


def corpus() -> list[tuple[str, str, dict[str, Any]]]:
    """(id, target, service args) for every bad input of the shared corpus, on each target it applies to."""
    cases = []
    for index, (config, path, _) in enumerate([*REFUSALS, *ADVANCED_REFUSALS]):
        cases.append((f"server-{index}-{path}", "kubernetes", _with_server(base_args(), config)))
        cases.append((f"server-{index}-{path}-docker", "docker", _with_server(dev_args(), config)))
    for key, value, path, _ in PRODUCTION_REFUSALS:
        cases.append((f"production-{path}", "kubernetes", with_key(base_args(), key, value)))
    for path in UNKNOWN_KEYS:
        cases.append((f"unknown-{path}", "kubernetes", with_key(base_args(), path, 1)))
    for index, (patch, path, _) in enumerate(INVALID_VALUES):
        cases.append((f"invalid-{index}-{path}", "kubernetes", {**base_args(), **patch}))
    return cases


CORPUS = corpus()
MODELS: dict[str, type[BaseModel]] = {"kubernetes": HayhooksServiceArgs, "docker": HayhooksContainerArgs}


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _stack(target: str, service: dict[str, Any]) -> dict[str, Any]:
    # JSON as a YAML stack file holds it: what the args hold (paths, numbers, lists), through json for the types.
    return {"config": {f"{PROJECT}:target": target, f"{PROJECT}:service": json.loads(json.dumps(service))}}


def _flagged(validator: jsonschema.Draft7Validator, document: dict[str, Any]) -> list[tuple[list[Any], str]]:
    prefix = ["config", f"{PROJECT}:service"]
    found = []
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        assert path[:2] == prefix, (path, error.message)
        found.append((path[2:], error.message))
    return found


def test_the_packaged_schema_is_generated_from_the_current_models() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), "stack.schema.json is out of date: run `make schema`"


@pytest.mark.parametrize(("case", "target", "service"), CORPUS, ids=[c[0] for c in CORPUS])
def test_the_schema_flags_what_the_models_refuse_wherever_json_schema_can_say_it(
    validator: jsonschema.Draft7Validator, case: str, target: str, service: dict[str, Any]
) -> None:
    try:
        MODELS[target].model_validate(service)
        refused: list[tuple[str, list[Any]]] = []
    except ValidationError as error:
        refused = [(item["type"], user_loc(item["loc"])) for item in error.errors(include_url=False)]
    flagged = _flagged(validator, _stack(target, service))
    for kind, loc in refused:
        if kind not in EXPRESSIBLE:
            continue
        # An unknown key is flagged at the mapping that holds it (`additionalProperties`), naming the key.
        at = loc[:-1] if kind == "extra_forbidden" else loc
        assert any(path == at for path, _ in flagged), (
            f"{case}: the model refuses {'.'.join(map(str, loc))} ({kind}); the schema flags {flagged}"
        )
    if not refused:
        # What the models accept (a refusal of the plan, e.g. the production profile's), an editor must not flag.
        assert not flagged, f"{case}: the models accept it, the schema flags {flagged}"
    for path, message in flagged:
        # Nor may it flag a key the models found nothing wrong with.
        assert any(loc[: len(path)] == path for _, loc in refused), f"{case}: the schema flags {path}: {message}"


def test_the_corpus_has_refusals_of_both_kinds() -> None:
    """A corpus of only validator refusals would let a schema that flags nothing pass."""
    kinds = set()
    for _, target, service in CORPUS:
        try:
            MODELS[target].model_validate(service)
        except ValidationError as error:
            kinds.update(item["type"] for item in error.errors())
    assert {"extra_forbidden", "enum", "greater_than_equal", "less_than_equal", "bool_parsing"} <= kinds
    assert "value_error" in kinds


@pytest.mark.parametrize("target", ["kubernetes", "docker"])
def test_the_base_configs_of_each_target_pass(validator: jsonschema.Draft7Validator, target: str) -> None:
    service = base_args() if target == "kubernetes" else dev_args()
    assert not _flagged(validator, _stack(target, service))


def test_the_target_decides_which_args_the_service_is_checked_against(validator: jsonschema.Draft7Validator) -> None:
    # `ingress` is a key of HayhooksService only; `publish` of HayhooksContainer only.
    kubernetes = _stack("kubernetes", {**base_args(), "publish": {"hostIp": "127.0.0.1"}})
    assert any("'publish' was unexpected" in message for _, message in _flagged(validator, kubernetes))
    docker = _stack("docker", {**dev_args(), "ingress": {"host": "x.example.com"}})
    assert any("'ingress' was unexpected" in message for _, message in _flagged(validator, docker))
    # No target key: kubernetes, as the render's default.
    default = {"config": {f"{PROJECT}:service": {**dev_args(), "publish": {"hostIp": "127.0.0.1"}}}}
    assert any("'publish' was unexpected" in e.message for e in validator.iter_errors(default))


def test_server_version_is_a_release_number_in_the_schema_too(validator: jsonschema.Draft7Validator) -> None:
    for text, valid in (("2.1.0", True), ("2.1", False), ("v2.1.0", False)):
        service = {**base_args(), "server": {"version": text}}
        flagged = _flagged(validator, _stack("kubernetes", service))
        assert (not flagged) == valid, (text, flagged)


def test_descriptions_are_the_models_docs_on_one_line() -> None:
    server = stack_schema()["definitions"]["ServerSettings"]["properties"]["version"]["description"]
    assert server.startswith("The Hayhooks release the image runs") and "\n" not in server
