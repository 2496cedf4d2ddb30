from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_is_valid_and_documents_the_defaults():
    settings = load_settings()
    assert settings.retrieval.default_k == 5
    assert settings.vector_store.mode == "embedded"


def test_a_misspelt_key_is_an_error_naming_it(tmp_path):
    with pytest.raises(SettingsError, match=r"retrieval\.defualt_k"):
        load_settings(config_path=_config(tmp_path, "[retrieval]\ndefualt_k = 3\n"))


def test_a_bad_value_is_an_error_naming_the_key(tmp_path):
    with pytest.raises(SettingsError, match=r"vector_store\.mode"):
        load_settings(config_path=_config(tmp_path, '[vector_store]\nmode = "cloud"\n'))


def test_environment_overrides_and_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_RETRIEVAL__DEFAULT_K", "7")
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "elsewhere"))
    settings = load_settings(config_path=_config(tmp_path, ""))
    assert settings.retrieval.default_k == 7
    assert settings.data_dir == tmp_path / "elsewhere"
    assert settings.database_url == f"sqlite:///{tmp_path / 'elsewhere' / 'coach.sqlite3'}"
    assert settings.chroma_dir == tmp_path / "elsewhere" / "chroma"


def test_secrets_come_from_the_environment_and_never_print(tmp_path, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET-TOKEN")
    settings = load_settings(config_path=_config(tmp_path, ""))
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123456:SECRET-TOKEN"
    assert "SECRET-TOKEN" not in repr(settings) and "SECRET-TOKEN" not in str(settings.model_dump())


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(SettingsError, match="配置文件不存在"):
        load_settings(config_path=tmp_path / "nope.toml")


# --- the webhook secret (issue 11, items 7 and 10) -------------------------------------------------------------


def _env_example_value(key: str) -> str:
    env_example = Path(__file__).resolve().parent.parent / "deploy" / "env.example"
    for line in env_example.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{key}="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{key} not in deploy/env.example")


def test_the_webhook_secret_comes_from_the_environment_and_never_prints(tmp_path, monkeypatch):
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "Zq8_v2LrT0-kXw9aPd3sBn")
    settings = load_settings(config_path=_config(tmp_path, ""))
    assert settings.telegram_webhook_secret is not None
    assert settings.telegram_webhook_secret.get_secret_value() == "Zq8_v2LrT0-kXw9aPd3sBn"
    assert "Zq8_v2LrT0" not in repr(settings) and "Zq8_v2LrT0" not in str(settings.model_dump())


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(_env_example_value("TELEGRAM_WEBHOOK_SECRET"), id="env.example placeholder"),
        pytest.param("changethis", id="fastapi placeholder"),
        pytest.param("change-me-please-now", id="change-me"),
        pytest.param("your-webhook-secret-here", id="your-…-here"),
        pytest.param("aaaaaaaaaaaaaaaaaaaaaaaa", id="one character repeated"),
        pytest.param("hook-Secret_42", id="too short"),
        pytest.param("has spaces in it but long enough", id="characters Telegram refuses"),
    ],
)
def test_a_placeholder_or_short_webhook_secret_stops_the_start_naming_the_variable(tmp_path, monkeypatch, secret):
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", secret)
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET") as raised:
        load_settings(config_path=_config(tmp_path, ""))
    assert secret not in str(raised.value)  # the refusal never repeats the secret


def test_the_env_example_bot_token_placeholder_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", _env_example_value("TELEGRAM_BOT_TOKEN"))
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        load_settings(config_path=_config(tmp_path, ""))


def _code_defaults() -> dict[str, object]:
    """Every setting's default as the code states it, as TOML would write it (secrets excluded: environment only)."""
    from pydantic import BaseModel

    from app.settings import Settings

    defaults: dict[str, object] = {}
    for name, field in Settings.model_fields.items():
        if field.validation_alias is not None:
            continue
        value = field.get_default(call_default_factory=True)
        defaults[name] = value.model_dump(mode="json") if isinstance(value, BaseModel) else str(value)
    return defaults


def test_config_toml_shows_exactly_the_code_defaults_for_every_key():
    """config.toml says "the value shown is the default": each key it shows must be the code's default, and every
    setting the code has must be in it (embedding.model and retrieval.dense_weight once differed)."""
    import tomllib

    from app.settings import DEFAULT_CONFIG_PATH

    shown = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    code = _code_defaults()
    assert sorted(shown) == sorted(code), "sections or top-level keys differ between config.toml and the code"
    for section, value in code.items():
        if isinstance(value, dict):
            assert sorted(shown[section]) == sorted(value), f"[{section}]: keys differ between config.toml and code"
            for key, default in value.items():
                written = shown[section][key]
                assert written == default, f"{section}.{key}: config.toml {written!r}, code {default!r}"
        else:
            assert shown[section] == value, f"{section}: config.toml {shown[section]!r}, code {value!r}"
