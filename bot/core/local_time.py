"""Times as a person reads them: the database keeps naive UTC; everything shown is in the programme's time zone
(`[app] time_zone`, default Asia/Shanghai — the zone half-year cycles are cut in)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from quizzes.attempts import PROGRAMME_TIME_ZONE

__all__ = ["PROGRAMME_TIME_ZONE", "local_time_text"]


def local_time_text(moment: datetime, time_zone: tzinfo = PROGRAMME_TIME_ZONE, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """`moment` (naive means UTC, as stored) in `time_zone`, formatted."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(time_zone).strftime(fmt)
