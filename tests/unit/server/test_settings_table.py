"""The settings table is the one list of the server's variables: every typed key of `ServerSettings` has its row,
every row's key is a key of the model, and what is written follows from the row alone."""

from __future__ import annotations

import json

import pytest
from hayhooks_pulumi.model import ConfigModel
from hayhooks_pulumi.server import releases
from hayhooks_pulumi.server.env import server_env
from hayhooks_pulumi.server.models import ServerSettings
from hayhooks_pulumi.server.settings_table import SETTINGS, Reader, SettingKind
from pydantic import ValidationError

# Keys of `ServerSettings` that are not one variable each (`version` says which release's table applies).
_NOT_SETTINGS = {"extraEnv", "advanced", "version"}


def _leaf_keys(model: type[ConfigModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
            keys += _leaf_keys(annotation, f"{key}.")
        else:
            keys.append(key)
    return keys


def test_every_typed_key_of_the_server_model_has_its_row() -> None:
    typed = {s.key for s in SETTINGS if s.key is not None}
    assert set(_leaf_keys(ServerSettings)) - _NOT_SETTINGS == typed


def test_each_variable_is_one_row() -> None:
    names = [s.env for s in SETTINGS]
    assert len(names) == len(set(names))


def test_a_row_written_by_the_component_says_why_and_nobody_else_may_set_it() -> None:
    for setting in SETTINGS:
        if setting.fixed is not None and setting.reader is Reader.APP:
            assert setting.owner
            with pytest.raises(ValidationError, match="the component"):
                ServerSettings.model_validate({"advanced": {setting.env: setting.fixed}})


@pytest.mark.parametrize("release", releases.releases(), ids=str)
def test_every_written_variable_has_the_form_of_its_kind_in_each_release(release: releases.Release) -> None:
    env = server_env(ServerSettings.model_validate({"rootPath": "/x", "durableRedisUrl": "redis://r:6379/0"}), release)
    for setting in SETTINGS:
        if setting.env not in env:
            assert setting.fixed is None or not setting.read_by(release), setting.env
            continue
        assert setting.read_by(release), f"{setting.env} is written for {release}, which does not read it"
        text = env[setting.env]
        kind = setting.kind_in(release)
        if kind is SettingKind.BOOL:
            assert text in ("true", "false"), setting.env
        elif kind is SettingKind.INT:
            assert int(text) >= 0, setting.env
        elif kind is SettingKind.LIST:
            assert isinstance(json.loads(text), list), setting.env
