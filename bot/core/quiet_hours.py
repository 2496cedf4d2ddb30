"""When a reminder may go out: at a local time of day, never in the quiet hours (22:00–08:00 by default).

Pure: times of day and zones in, naive-UTC instants out (the database keeps naive UTC). Quiet hours may run across
midnight (22:00–08:00) or not (13:00–14:00); a wanted time inside them moves to their end. A message planned for
one day is sendable from its start until the next quiet hours begin — never later, so a backlog that is not
drained by then waits for no one's night.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

CLOCK = re.compile(r"^([01]?\d|2[0-3])[::](\d{2})$")


def parse_clock(text: str) -> time | None:
    """'07:30' (or full-width '07:30', or '7:30') → time(7, 30); None when it is no time of day."""
    match = CLOCK.match(text.strip())
    if match is None or int(match.group(2)) > 59:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def clock_text(moment: time) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


@dataclass(frozen=True)
class QuietHours:
    """From `start` (inclusive) to `end` (exclusive), local time; equal times mean no quiet hours."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # across midnight

    def text(self) -> str:
        return f"{clock_text(self.start)}–{clock_text(self.end)}"


def _utc(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def _next_at_or_after(moment: datetime, at: time) -> datetime:
    candidate = datetime.combine(moment.date(), at, moment.tzinfo)
    return candidate if candidate >= moment else candidate + timedelta(days=1)


def sending_window(*, day: date, at: time, quiet: QuietHours, zone: tzinfo) -> tuple[datetime, datetime]:
    """(start, end) in naive UTC for a message wanted on `day` at `at` (local): the start is `at`, or the end of the
    quiet hours when `at` falls in them; the end is the next start of the quiet hours (a day later without any)."""
    start = datetime.combine(day, at, zone)
    if quiet.contains(at):
        start = _next_at_or_after(start, quiet.end)
    if quiet.start == quiet.end:
        return _utc(start), _utc(start + timedelta(days=1))
    end = _next_at_or_after(start + timedelta(microseconds=1), quiet.start)
    return _utc(start), _utc(end)


def local_date(moment: datetime, zone: tzinfo) -> date:
    """The calendar day of `moment` (naive means UTC) in `zone`."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(zone).date()


def is_quiet(moment: datetime, quiet: QuietHours, zone: tzinfo) -> bool:
    """Whether `moment` (naive means UTC) falls in the quiet hours in `zone`."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return quiet.contains(aware.astimezone(zone).time())
