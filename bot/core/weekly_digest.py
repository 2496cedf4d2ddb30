"""The weekly digest a supervisor gets: who in the team practised this week, who has not started, and who is one
right answer from the next 等级 on a chat test. Pure: people, days and record entries in, one TextReply out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from bot.core import texts
from bot.core.messages import TextReply
from certification.model import RecordEntry
from certification.rules import TOP_LEVEL, current_entries
from quizzes.competency import CHAT_INSTRUMENTS, INSTRUMENTS, programme_instrument
from storage.reminder_repository import Person

MAX_NAMES = 30  # a line lists at most this many names, then 「等 N 人」


def one_step_away(entries: Sequence[RecordEntry], *, cycle: str) -> list[str]:
    """Per the programme's cut scores: each chat test of this cycle where one more right answer reaches the next
    等级 (「产品理解力 情境模拟测验 再答对 1 题可达 等级3」)."""
    found = []
    for entry in current_entries(entries):
        if entry.cycle != cycle or entry.instrument not in CHAT_INSTRUMENTS or entry.level >= TOP_LEVEL:
            continue
        programme = programme_instrument(entry.competency, entry.instrument)
        if programme is not None and programme.cuts[entry.level] - entry.raw_score == 1:
            name = INSTRUMENTS.get(entry.instrument, entry.instrument)
            found.append(f"{entry.competency} {name} 再答对 1 题可达 等级{entry.level + 1}")
    return found


def _names(people: Sequence[str]) -> str:
    if not people:
        return texts.DIGEST_NONE
    shown = "、".join(people[:MAX_NAMES])
    return shown if len(people) <= MAX_NAMES else f"{shown} 等 {len(people)} 人"


def weekly_digest(
    *,
    members: Sequence[Person],
    practised_days: Mapping[int, set[date]],
    started: set[int],
    entries: Mapping[int, Sequence[RecordEntry]],
    cycle: str,
    week: tuple[date, date],
) -> TextReply:
    """The digest of one team for the week `week` (first and last day, local)."""
    practised = [m for m in members if practised_days.get(m.learner_id)]
    idle = [m for m in members if not practised_days.get(m.learner_id) and m.learner_id in started]
    not_started = [m for m in members if m.learner_id not in started and not practised_days.get(m.learner_id)]
    lines = [texts.DIGEST_TITLE.format(start=f"{week[0]:%m-%d}", end=f"{week[1]:%m-%d}", count=len(members))]
    names = [f"{m.name}({len(practised_days[m.learner_id])} 天)" for m in practised]
    lines.append(texts.DIGEST_PRACTISED.format(count=len(practised), names=_names(names)))
    lines.append(texts.DIGEST_NOT_PRACTISED.format(count=len(idle), names=_names([m.name for m in idle])))
    lines.append(texts.DIGEST_NOT_STARTED.format(count=len(not_started), names=_names([m.name for m in not_started])))
    close = [(m, one_step_away(entries.get(m.learner_id, ()), cycle=cycle)) for m in members]
    close = [(m, steps) for m, steps in close if steps]
    lines.append(texts.DIGEST_ONE_STEP.format(count=len(close)))
    lines += [f"  · {m.name}:{';'.join(steps)}" for m, steps in close[:MAX_NAMES]] or [f"  {texts.DIGEST_NONE}"]
    return TextReply("\n".join(lines))
