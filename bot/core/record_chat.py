"""The certification record in chat: /record for a learner, /rate for assessors, /team for supervisors."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.messages import DocumentReply, ImageReply, Redraw, Reply, TextReply
from bot.core.roles import Role
from certification.exports import TeamRow, team_overview_xlsx
from certification.rules import JOB_COMPETENCIES, format_result
from certification.views import learner_record
from quizzes.attempts import half_year_cycle
from quizzes.competency import INSTRUMENTS, PROGRAMME_INSTRUMENTS, instrument_code
from storage.learner_repository import LearnerRecord, LearnerRepository
from storage.record_repository import RecordRepository

RadarRenderer = Callable[..., bytes]
StreakLine = Callable[[Session, int, datetime], str]  # 「🔥 已连续练习 N 天」 (bot/core/reminder_chat.py)
RADAR = "radar"  # the renderer name a stored /record reply redraws its picture with
RATED_INSTRUMENTS = {  # instruments an assessor rates 1–3 (no items to answer in chat)
    competency: tuple(p.instrument for p in PROGRAMME_INSTRUMENTS if p.competency == competency and p.items is None)
    for competency in JOB_COMPETENCIES
}


@dataclass
class RecordChat:
    records: RecordRepository
    learners: LearnerRepository
    render_radar: RadarRenderer | None = None
    streak_line: StreakLine | None = None

    def show(self, session: Session, learner: LearnerRecord, *, now: datetime) -> list[Reply]:
        cycle = half_year_cycle(now)
        job_level, last_cycle = self.records.job_level(session, learner.learner_id)
        view = learner_record(
            name=learner.name,
            learner_entries=self.records.entries(session, learner_ids=[learner.learner_id]),
            cycle_entries=self.records.entries(session, cycle=cycle),
            cycle=cycle,
            job_level=job_level,
            last_promotion_cycle=last_cycle,
        )
        streak = f"\n\n{self.streak_line(session, learner.learner_id, now)}" if self.streak_line else ""
        replies: list[Reply] = [TextReply(view.text + streak)]
        if self.render_radar is not None:
            target = view.assessment.next_level or job_level
            drawing = {"learner_name": learner.name, "levels": dict(view.levels), "target_level": target}
            redraw = Redraw(RADAR, json.dumps(drawing, ensure_ascii=False, sort_keys=True))
            png = self.render_radar(**drawing)
            replies.append(ImageReply(png, caption=f"能力雷达:当前 vs {target}目标", redraw=redraw))
        return replies

    @property
    def renderers(self) -> dict[str, RadarRenderer]:
        """What draws this chat's pictures again from their `Redraw` (see reply_codec)."""
        return {RADAR: self.render_radar} if self.render_radar is not None else {}

    def rate(self, session: Session, assessor: LearnerRecord, args: str, *, now: datetime) -> list[Reply]:
        parts = args.split()
        if len(parts) != 4 or parts[3] not in {"1", "2", "3"}:
            return [TextReply(texts.RATE_USAGE)]
        employee_no, competency, instrument_text, score = parts
        target = self.learners.find_by_employee_no(session, employee_no.upper())
        if target is None:
            return [TextReply(texts.GRANT_UNKNOWN.format(employee_no=employee_no))]
        refusal = rating_refusal(assessor, target)
        if refusal is not None:
            return [TextReply(refusal)]
        instrument = instrument_code(instrument_text)
        choices = RATED_INSTRUMENTS.get(competency, ())
        if instrument not in choices:
            names = "、".join(INSTRUMENTS[c] for c in choices) or "无"
            return [
                TextReply(
                    texts.RATE_BAD_INSTRUMENT.format(instrument=instrument_text, competency=competency, choices=names)
                )
            ]
        cycle = half_year_cycle(now)
        self.records.add_entry(
            session,
            learner_id=target.learner_id,
            competency=competency,
            instrument=instrument,
            raw_score=int(score),
            max_score=None,
            level=int(score),
            cycle=cycle,
            now=now,
            entered_by=assessor.learner_id,
        )
        return [
            TextReply(
                texts.RATE_DONE.format(
                    name=target.name,
                    competency=competency,
                    instrument=INSTRUMENTS[instrument],
                    level=score,
                    cycle=cycle,
                )
            )
        ]

    def team(self, session: Session, supervisor: LearnerRecord, *, now: datetime) -> list[Reply]:
        members = self.records.team(session, supervisor.learner_id)
        if not members:
            return [TextReply(texts.TEAM_NONE)]
        cycle = half_year_cycle(now)
        cycle_entries = self.records.entries(session, cycle=cycle)
        lines = [texts.TEAM_TITLE.format(cycle=cycle)]
        rows: list[TeamRow] = []
        cohorts: dict[tuple[str, str], list[int]] = {}  # each instrument's cohort computed once for the team
        for member in members:
            job_level, last_cycle = self.records.job_level(session, member.id)
            view = learner_record(
                name=member.name,
                learner_entries=[e for e in cycle_entries if e.learner_id == member.id],
                cycle_entries=cycle_entries,
                cycle=cycle,
                job_level=job_level,
                last_promotion_cycle=last_cycle,
                cohorts=cohorts,
            )
            started = any(e.learner_id == member.id for e in cycle_entries)
            level_texts = {c: format_result(level) for c, level in view.levels.items() if level is not None}
            levels = " ".join(f"{c[:2]}{level_texts.get(c, '—')}" for c in view.levels)
            status = "可晋级" if view.assessment.eligible else ("未开始" if not started else "未达标")
            lines.append(f"{member.employee_no} {member.name}({job_level}):{levels} · {status}")
            rows.append(
                TeamRow(
                    member.employee_no,
                    member.name,
                    job_level,
                    level_texts,
                    view.assessment.eligible,
                    view.assessment.next_level or "",
                    ";".join(view.assessment.reasons),
                    started,
                )
            )
        workbook = team_overview_xlsx(rows)
        return [
            TextReply("\n".join(lines)),
            DocumentReply(f"团队认证概况-{cycle}.xlsx", workbook, caption="团队概况(Excel)"),
        ]


def rating_refusal(assessor: LearnerRecord, target: LearnerRecord) -> str | None:
    """Why `assessor` may not rate `target` (in Chinese), or None. Nobody rates himself; an admin rates anyone
    else; a supervisor rates only the members of his own team."""
    if assessor.learner_id == target.learner_id:
        return texts.RATE_SELF
    role = Role(assessor.role)
    if role is Role.ADMIN:
        return None
    if role is not Role.SUPERVISOR:
        return texts.RATE_NOT_ASSESSOR.format(name=assessor.name)
    if target.supervisor_id != assessor.learner_id:
        return texts.RATE_NOT_YOUR_TEAM.format(name=target.name, employee_no=target.employee_no)
    return None
