"""Pulumi.<stack>.yaml as the engine hands it to a program: flat `namespace:key` strings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

SECRET_STAND_IN = "rendered-secret-stand-in"


@dataclass(frozen=True)
class StackFile:
    config: dict[str, str]
    secret_keys: list[str]


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def read_stack_file(path: Path, project: str) -> StackFile:
    """Objects become JSON (as `Config.get_object` expects); `secure:` values become secret
    stand-ins, so a render never needs the passphrase."""
    document = yaml.safe_load(path.read_text()) or {}
    raw = document.get("config") or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: `config` must be a mapping")
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full = _qualify(str(key), project)
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[full] = SECRET_STAND_IN
            secret_keys.append(full)
        elif isinstance(value, str):
            config[full] = value
        elif isinstance(value, bool):
            config[full] = "true" if value else "false"
        else:
            config[full] = json.dumps(value)
            if _has_secure(value):
                secret_keys.append(full)
    return StackFile(config=config, secret_keys=secret_keys)


def _has_secure(value: object) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def project_name(project_dir: Path) -> str:
    document = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    name = document.get("name")
    if not isinstance(name, str):
        raise ValueError(f"{project_dir / 'Pulumi.yaml'}: no project `name`")
    return name
