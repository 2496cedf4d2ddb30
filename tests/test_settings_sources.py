"""Where settings come from (app.settings_sources): the rules pydantic-settings applied, now without importing it
(start-up time, issue 12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def config(tmp_path: Path):
    def write(text: str) -> Path:
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_a_command_neither_imports_pydantic_settings_nor_scans_for_pydantic_plugins(tmp_path):
    """Both cost every `coach` command time: pydantic-settings' sources, and pydantic reading the entry points of
    every installed distribution at its first model (we install no pydantic plugin)."""
    code = (
        "import sys\nfrom app.cli import main\nmain(sys.argv[1:])\nimport pydantic.plugin._loader as plugins\n"
        "print('LOADED', 'pydantic_settings' in sys.modules, plugins._plugins)"
    )
    argv = ["--data-dir", str(tmp_path / "data"), "quiz", "list"]
    done = subprocess.run([sys.executable, "-c", code, *argv], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.rsplit("LOADED", 1)[1].split() == ["False", "None"]


def test_keyword_overrides_then_environment_then_toml_merging_sections_key_by_key(config, monkeypatch):
    monkeypatch.setenv("COACH_APP__TIME_ZONE", "UTC")
    monkeypatch.setenv("coach_retrieval__default_k", "9")  # names in any case
    path = config('data_dir = "/from/toml"\n[app]\nchannel = "console"\n[retrieval]\ndefault_k = 3\ncandidates = 60\n')
    settings = load_settings(config_path=path, app={"time_zone": "Europe/Berlin"})
    assert settings.app.time_zone == "Europe/Berlin" and settings.app.channel == "console"
    assert (settings.retrieval.default_k, settings.retrieval.candidates) == (9, 60)
    assert settings.data_dir == Path("/from/toml")


def test_an_empty_variable_counts_as_unset(config, monkeypatch):
    monkeypatch.setenv("COACH_DATA_DIR", "")
    monkeypatch.setenv("COACH_RETRIEVAL__DEFAULT_K", "")
    settings = load_settings(config_path=config('data_dir = "/from/toml"\n[retrieval]\ndefault_k = 3\n'))
    assert settings.data_dir == Path("/from/toml") and settings.retrieval.default_k == 3


def test_a_section_or_a_tuple_is_json_in_the_environment(config, monkeypatch):
    monkeypatch.setenv("COACH_RETRIEVAL", '{"default_k": 4, "candidates": 70}')
    monkeypatch.setenv("COACH_RETRIEVAL__CANDIDATES", "80")
    monkeypatch.setenv("COACH_REMINDERS__CHANNELS", '["telegram"]')
    settings = load_settings(config_path=config(""))
    assert (settings.retrieval.default_k, settings.retrieval.candidates) == (4, 80)
    assert settings.reminders.channels == ("telegram",)
    monkeypatch.setenv("COACH_RETRIEVAL", "default_k=4")
    with pytest.raises(SettingsError, match="COACH_RETRIEVAL 应当是 JSON"):
        load_settings(config_path=config(""))


def test_an_unknown_key_in_the_environment_is_named_and_unknown_variables_are_left_alone(config, monkeypatch):
    monkeypatch.setenv("COACH_SOMETHING_ELSE", "1")
    assert load_settings(config_path=config("")).retrieval.default_k == 5
    monkeypatch.setenv("COACH_RETRIEVAL__DEFUALT_K", "3")
    with pytest.raises(SettingsError, match=r"retrieval\.defualt_k"):
        load_settings(config_path=config(""))


def test_secrets_are_read_under_their_own_names_only(config, monkeypatch):
    monkeypatch.setenv("COACH_TELEGRAM_BOT_TOKEN", "123456:NOT-READ")
    assert load_settings(config_path=config("")).telegram_bot_token is None
    monkeypatch.setenv("telegram_bot_token", "123456:READ")
    token = load_settings(config_path=config("")).telegram_bot_token
    assert token is not None and token.get_secret_value() == "123456:READ"


def test_a_toml_syntax_error_names_the_file(config):
    path = config("[retrieval\n")
    with pytest.raises(SettingsError, match=r"config\.toml"):
        load_settings(config_path=path)
