"""Where the settings' values come from, merged before pydantic validates them: keyword overrides, then the
environment, then config.toml (the first that names a key wins; sections merge key by key).

This is what pydantic-settings did for `Settings` (env prefix `COACH_`, nested delimiter `__`, names in any case,
a field with an alias read only under its alias, JSON for sections and tuples), written out so that every
`coach` command does not import pydantic-settings and its unused sources (~0.1 s; bench/startup_bench.py).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

ENV_PREFIX = "COACH_"
NESTED_DELIMITER = "__"


class SourceError(ValueError):
    """A value could not be read (a TOML syntax error, JSON in an environment variable that is not JSON)."""


def settings_input(
    model: type[BaseModel], *, toml_path: Path, overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The merged input for `model` (not validated yet)."""
    merged = _toml(toml_path)
    _deep_update(merged, _environment(model, os.environ if environ is None else environ))
    _deep_update(merged, dict(overrides))
    return merged


def _toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{path}: {exc}") from None


def _environment(model: type[BaseModel], environ: Mapping[str, str]) -> dict[str, Any]:
    """The values the environment gives `model`'s fields; names compared without regard to case. An empty
    variable counts as unset: compose's `COACH_DATA_DIR: ${COACH_DATA_DIR}` with nothing exported must not put
    the database in the working folder."""
    env = {name.lower(): value for name, value in environ.items() if value != ""}
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        alias = field.validation_alias if isinstance(field.validation_alias, str) else None
        env_name = (alias or f"{ENV_PREFIX}{name}").lower()
        key = alias or name
        if env_name in env:
            values[key] = _decode(f"{env_name}", field, env[env_name])
        if alias is None and _is_section(field):
            nested = _nested(env, prefix=f"{env_name}{NESTED_DELIMITER}", section=field.annotation)  # type: ignore[arg-type]
            if nested:
                whole = values.get(key)
                values[key] = _deep_update(whole if isinstance(whole, dict) else {}, nested)
    return values


def _nested(env: Mapping[str, str], *, prefix: str, section: type[BaseModel]) -> dict[str, Any]:
    """`COACH_RETRIEVAL__DENSE_WEIGHT=0.2` → `{"dense_weight": "0.2"}` for the retrieval section. Names the section
    does not have are kept, so validation names them as unknown keys."""
    found: dict[str, Any] = {}
    for env_name, value in env.items():
        if not env_name.startswith(prefix):
            continue
        key = env_name[len(prefix) :]
        field = section.model_fields.get(key)
        found[key] = _decode(env_name, field, value) if field is not None else value
    return found


def _is_section(field: FieldInfo) -> bool:
    return isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)


def _is_complex(field: FieldInfo) -> bool:
    origin = get_origin(field.annotation)
    return _is_section(field) or field.annotation in (tuple, list, dict, set) or origin in (tuple, list, dict, set)


def _decode(env_name: str, field: FieldInfo, value: str) -> Any:
    """A section or a tuple is written as JSON; anything else is passed on as text for pydantic to convert."""
    if not value or not _is_complex(field):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise SourceError(f"环境变量 {env_name.upper()} 应当是 JSON") from None


def _deep_update(target: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value
    return target
