"""Half-year cycles are cut in the programme's configured time zone, not in UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.settings import SettingsError, load_settings
from quizzes.attempts import half_year_cycle


def test_the_last_evening_of_june_in_utc_is_already_july_in_beijing():
    now = datetime(2026, 6, 30, 20, 0)  # naive UTC, as the database stores it
    assert half_year_cycle(now, time_zone=ZoneInfo("Asia/Shanghai")) == "2026H2"
    assert half_year_cycle(now, time_zone=ZoneInfo("UTC")) == "2026H1"
    assert half_year_cycle(datetime(2026, 12, 31, 16, 0), time_zone=ZoneInfo("Asia/Shanghai")) == "2027H1"


def test_the_default_is_beijing_time():
    assert half_year_cycle(datetime(2026, 6, 30, 20, 0)) == "2026H2"
    assert str(load_settings().app.time_zone) == "Asia/Shanghai"


def test_an_unknown_time_zone_is_a_settings_error(monkeypatch):
    monkeypatch.setenv("COACH_APP__TIME_ZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="time_zone"):
        load_settings()
