"""WeCom's configuration: [wecom] in config.toml, the three secrets only from the environment, the channel choice,
and `coach users bind` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from app.cli import main
from app.settings import SettingsError, load_settings
from app.worker_runtime import choose_channel
from bot.channels.wecom.worker import WeComSetupError, check_configuration
from tests.wecom.emulator import AES_KEY, SECRET, TOKEN


def test_the_secrets_come_from_the_environment_and_never_from_the_config_file(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("WECOM_TOKEN", TOKEN)
    monkeypatch.setenv("WECOM_ENCODING_AES_KEY", AES_KEY)
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    monkeypatch.setenv("COACH_WECOM__CORP_ID", "ww1436e0e65a779aee")
    monkeypatch.setenv("COACH_WECOM__AGENT_ID", "1000002")
    settings = load_settings()
    assert check_configuration(settings) == (TOKEN, AES_KEY, SECRET)
    assert choose_channel(settings) == "wecom"
    assert SECRET not in repr(settings) and TOKEN not in repr(settings)
    config = tmp_path / "config.toml"
    config.write_text('[wecom]\ncorp_id = "ww1"\nsecret = "written-in-the-file"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"wecom\.secret"):
        load_settings(config_path=config)
    monkeypatch.setenv("WECOM_SECRET", "replace-with-the-app-secret")  # deploy/env.example's placeholder
    with pytest.raises(SettingsError, match=r"WECOM_SECRET"):
        load_settings()


def test_a_worker_refuses_to_start_without_what_it_needs_and_names_it(settings):
    with pytest.raises(WeComSetupError, match="corp_id"):
        check_configuration(settings)
    w = settings.wecom.model_copy(update={"corp_id": "ww1436e0e65a779aee", "agent_id": 1000002})
    partial = settings.model_copy(update={"wecom": w, "wecom_token": SecretStr(TOKEN)})
    with pytest.raises(WeComSetupError, match="WECOM_ENCODING_AES_KEY"):
        check_configuration(partial)
    bad_key = partial.model_copy(update={"wecom_encoding_aes_key": SecretStr("x" * 42), "wecom_secret": SecretStr("s")})
    with pytest.raises(WeComSetupError, match="43 characters"):
        check_configuration(bad_key)


def test_the_channel_is_chosen_by_setting_or_by_the_secrets_present(settings):
    assert choose_channel(settings) == "console"
    with_wecom = settings.model_copy(update={"wecom_secret": SecretStr(SECRET)})
    assert choose_channel(with_wecom) == "wecom"
    both = with_wecom.model_copy(update={"telegram_bot_token": SecretStr("7000000001:AAFakeTokenForTestsOnly_01")})
    assert choose_channel(both) == "telegram"  # as before: a Telegram token means Telegram
    pinned = both.model_copy(update={"app": both.app.model_copy(update={"channel": "wecom"})})
    assert choose_channel(pinned) == "wecom"


def test_coach_users_bind_on_the_command_line(tmp_path: Path, capsys):
    data = ["--data-dir", str(tmp_path / "data")]
    assert main([*data, "users", "invite", "learner", "王小丽", "A1001", "西宁分公司", "中级"]) == 0
    # an invite is not a learner yet: binding needs the learner
    assert main([*data, "users", "bind", "A1001", "wecom:wangxl"]) == 1
    assert "A1001" in capsys.readouterr().err
    assert main([*data, "users", "bind", "A1001", "qq:12345"]) == 1
    assert "wecom:成员账号" in capsys.readouterr().err
    assert main([*data, "users", "bind"]) == 2
    assert main([*data, "users", "bind", "--from", str(tmp_path / "missing.xlsx")]) == 2
