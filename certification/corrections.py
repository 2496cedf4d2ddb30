"""Correcting a record entry: a new entry that supersedes the current one, and never contradicts the programme.

Rules (README, "The certification record"):
- the score must lie in the instrument's range: 0 to its items for a chat test (situational 0–10 …), 1–3 for an
  assessor's rating;
- the level is computed from the score by the programme's cut scores; a level given with it must agree (it is
  a check, not an input), otherwise the correction is refused with the level the score earns;
- an entry already corrected is not corrected again side by side: the new entry supersedes the current end of
  its chain (A ← B, correcting A again gives A ← B ← C) and the message says so. Two corrections racing for
  the same entry: one wins, the other is refused (the `supersedes` column is unique) and may simply be re-run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from certification.rules import format_result
from quizzes.competency import INSTRUMENTS, level_for_score, programme_instrument
from storage.record_repository import RecordRepository

ASSESSOR_RANGE = (1, 3)  # an assessor rates 1–3, as `/rate` and `coach record rate` take it


class CorrectionRefused(Exception):
    """The correction would contradict the programme or the record; `message` says why, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CorrectionOutcome:
    entry_id: int  # the new entry
    superseded: int  # the entry it replaces (the current end of the corrected entry's chain)
    level: int
    message: str


def correct_entry(
    session: Session,
    records: RecordRepository,
    *,
    entry_id: int,
    score: int,
    level: int | None,
    reason: str,
    by: int | None,
    now: datetime,
) -> CorrectionOutcome:
    """Record a correction of `entry_id` in the caller's transaction, or raise CorrectionRefused."""
    old = records.entry(session, entry_id)
    if old is None:
        raise CorrectionRefused(f"没有编号为 {entry_id} 的记录")
    if not reason.strip():
        raise CorrectionRefused("更正必须写明原因(--reason)")
    name = INSTRUMENTS.get(old.instrument, old.instrument)
    programme = programme_instrument(old.competency, old.instrument)
    if programme is None:
        raise CorrectionRefused(f"能力体系里「{old.competency}」没有{name},无法按分数线更正")
    low, high = ASSESSOR_RANGE if programme.items is None else (0, programme.items)
    if not low <= score <= high:
        raise CorrectionRefused(f"「{old.competency}」{name}的分数必须在 {low}–{high} 之间,不能是 {score}")
    computed = level_for_score(score, programme.cuts)
    if level is not None and level != computed:
        cuts = "/".join(map(str, programme.cuts))
        raise CorrectionRefused(
            f"分数 {score} 按分数线 {cuts} 是「{format_result(computed)}」,与填写的等级{level}不符"
            "(等级由分数算出,可以不填 --level)"
        )
    head = records.current_entry_of(session, old.id)
    new_id = records.add_correction(
        session,
        supersedes=head.id,
        raw_score=score,
        max_score=programme.items,
        level=computed,
        now=now,
        entered_by=by,
        reason=reason.strip(),
    )
    if new_id is None:
        raise CorrectionRefused(f"记录 {head.id} 刚刚被另一条更正取代了,请重新执行这次更正")
    earlier = f"记录 {old.id} 已被记录 {head.id} 更正过;" if head.id != old.id else ""
    message = f"{earlier}已更正:新记录 {new_id}({format_result(computed)},{score} 分)取代记录 {head.id}(原记录保留)"
    return CorrectionOutcome(new_id, head.id, computed, message)
