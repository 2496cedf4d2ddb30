"""The certification record as plain data: what the rules, views and exports work on (no storage here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

JOB_LEVELS = ("初级", "中级", "高级")


@dataclass(frozen=True)
class RecordEntry:
    """One append-only record entry: a certification attempt's result or an assessor's rating.

    A correction is a new entry whose `supersedes` names the entry it replaces, with a `reason`.
    """

    entry_id: int
    learner_id: int
    employee_no: str
    learner_name: str
    competency: str  # 产品理解力 / 客户洞察力 / 销售推动力 / 资源整合力
    instrument: str  # code: situational, knowledge, case_writing, structured_interview, ...
    raw_score: int
    max_score: int | None  # None for assessor ratings (scored 1–3 directly)
    level: int  # 等级 0 (not yet 等级1) … 3
    cycle: str  # half-year cycle, e.g. "2026H2"
    recorded_at: datetime
    entered_by: str | None = None  # employee number of the assessor; None when a quiz wrote it
    attempt_id: int | None = None
    quiz_title: str | None = None
    quiz_version: int | None = None
    supersedes: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class AnsweredQuestion:
    """One answer of a certification attempt (xAPI exports one statement per answer)."""

    attempt_id: int
    employee_no: str
    learner_name: str
    question_key: str
    question_text: str
    correct: bool
    answered_at: datetime
    competency: str
    instrument: str
    quiz_title: str
    quiz_version: int
