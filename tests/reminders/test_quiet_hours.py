"""Sending windows: a wanted local time, quiet hours (across midnight or not), time zones, and streak days."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.quiet_hours import QuietHours, is_quiet, parse_clock, sending_window
from bot.core.streaks import streak_days

NIGHT = QuietHours(time(22), time(8))
SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 23)


def test_a_time_in_the_night_moves_to_the_morning_and_the_window_closes_when_the_night_begins():
    start, end = sending_window(day=DAY, at=time(7, 30), quiet=NIGHT, zone=SHANGHAI)
    assert (start, end) == (datetime(2026, 11, 23, 0, 0), datetime(2026, 11, 23, 14, 0))  # 08:00 and 22:00 +08:00


def test_a_time_just_before_midnight_belongs_to_the_next_morning():
    start, end = sending_window(day=DAY, at=time(23, 30), quiet=NIGHT, zone=SHANGHAI)
    assert start == datetime(2026, 11, 24, 0, 0)  # 08:00 the next day, Shanghai
    assert end == datetime(2026, 11, 24, 14, 0)


def test_quiet_hours_inside_one_day():
    lunch = QuietHours(time(12), time(13, 30))
    start, end = sending_window(day=DAY, at=time(12, 15), quiet=lunch, zone=SHANGHAI)
    assert start == datetime(2026, 11, 23, 5, 30)  # 13:30 local
    assert end == datetime(2026, 11, 24, 4, 0)  # the next day's 12:00: the window runs across midnight
    assert lunch.contains(time(12)) and not lunch.contains(time(13, 30)) and not lunch.contains(time(23))


def test_the_same_wall_clock_time_in_two_zones_is_two_instants():
    shanghai = sending_window(day=DAY, at=time(9), quiet=NIGHT, zone=SHANGHAI)[0]
    berlin = sending_window(day=DAY, at=time(9), quiet=NIGHT, zone=BERLIN)[0]
    assert shanghai == datetime(2026, 11, 23, 1, 0) and berlin == datetime(2026, 11, 23, 8, 0)
    # 23:00 UTC is 07:00 in Shanghai (quiet) but midnight in Berlin (quiet too); 12:00 UTC is 20:00 / 13:00
    assert is_quiet(datetime(2026, 11, 23, 23, 0), NIGHT, SHANGHAI) and is_quiet(
        datetime(2026, 11, 23, 23, 0), NIGHT, BERLIN
    )
    assert not is_quiet(datetime(2026, 11, 23, 12, 0), NIGHT, SHANGHAI)
    assert is_quiet(datetime(2026, 11, 23, 15, 0), NIGHT, SHANGHAI) and not is_quiet(
        datetime(2026, 11, 23, 15, 0), NIGHT, BERLIN
    )


def test_summer_time_keeps_the_wall_clock():
    summer = sending_window(day=date(2026, 7, 1), at=time(9), quiet=NIGHT, zone=BERLIN)[0]
    winter = sending_window(day=date(2026, 12, 1), at=time(9), quiet=NIGHT, zone=BERLIN)[0]
    assert (summer.hour, winter.hour) == (7, 8)


def test_no_quiet_hours_when_start_equals_end():
    never = QuietHours(time(0), time(0))
    start, end = sending_window(day=DAY, at=time(3), quiet=never, zone=SHANGHAI)
    assert not never.contains(time(3)) and (end - start).days == 1


@pytest.mark.parametrize(("text", "expected"), [("07:30", time(7, 30)), ("7:05", time(7, 5)), ("07:30", time(7, 30)),
                                                 ("24:00", None), ("7:60", None), ("早上", None)])  # fmt: skip
def test_parse_clock(text, expected):
    assert parse_clock(text) == expected


def test_a_streak_counts_days_in_a_row_and_survives_a_morning_not_yet_practised():
    days = {date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)}
    assert streak_days(days, today=date(2026, 11, 22)) == 3
    assert streak_days(days, today=date(2026, 11, 23)) == 3  # not yet today: still 3 until midnight
    assert streak_days(days, today=date(2026, 11, 24)) == 0  # a whole day missed
    assert streak_days(days | {date(2026, 11, 18)}, today=date(2026, 11, 22)) == 3  # the gap on the 19th
