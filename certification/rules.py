"""The certification rules as pure functions: no I/O and no clock (the cycle is always an argument).

The rules, each stated once here and in the README:
- Current result: a superseded entry never counts (nor does anything further back in its chain); of the rest,
  the latest entry per learner, competency, instrument and cycle (by recorded_at, then entry_id) counts.
- Percentile: the share (0–100, rounded down) of the cohort — the current results of all examinees of the
  same competency's instrument in the same cycle, this one included — whose score is strictly below this one;
  none for a cohort under 5 people (privacy).
- Competency level: the lowest 等级 among the competency's programme instruments in the cycle; while any
  instrument has no result the competency is incomplete (no level) — it is only as strong as its weakest
  evidence.
- Value creation (价值创造力): the mean of the four job competencies' levels, rounded down; none until all
  four are complete.
- Job level: one step at a time (none → 初级 → 中级 → 高级), at most one promotion per half-year cycle, and
  only when all four competencies and value creation reach the 等级 of the target level: 初级 needs 等级2,
  中级 等级3 (the domain: 等级1 = assistant manager, 等级2 = junior, upwards), 高级 等级3 plus a self and
  supervisor evaluation ≥ 90 (the instruments stop at 等级3; the domain's senior bar adds the ≥ 90).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from certification.model import JOB_LEVELS, RecordEntry
from quizzes.competency import CHAT_INSTRUMENTS, INSTRUMENTS, PROGRAMME_INSTRUMENTS, VALUE_CREATION

JOB_COMPETENCIES = tuple(dict.fromkeys(p.competency for p in PROGRAMME_INSTRUMENTS))
TOP_LEVEL = 3  # the highest 等级 an instrument reports
MIN_COHORT = 5  # no percentile for smaller cohorts (privacy)
REQUIRED_LEVEL = {"初级": 2, "中级": 3, "高级": 3}  # 等级 every competency and value creation must reach
SENIOR_MIN_EVALUATION = 90.0  # self plus supervisor evaluation for 高级


@dataclass(frozen=True)
class CompetencyLevel:
    competency: str
    level: int | None  # None while incomplete
    missing_instruments: tuple[str, ...]  # instrument codes without a result in the cycle
    by_instrument: dict[str, int] = field(default_factory=dict)  # instrument code → 等级

    @property
    def complete(self) -> bool:
        return self.level is not None


@dataclass(frozen=True)
class PromotionAssessment:
    eligible: bool
    next_level: str | None  # None when already at the top
    reasons: tuple[str, ...]  # why (not) — in Simplified Chinese, for the learner


def current_entries(entries: Iterable[RecordEntry]) -> list[RecordEntry]:
    """Rule: a superseded entry never counts, nor does anything further back in its chain; of the rest, the
    latest entry per (learner, competency, instrument, cycle) by recorded_at, then entry_id, counts.

    A correction that is itself corrected stays superseded, so a chain A ← B ← C leaves only C.
    The result keeps the input order.
    """
    entries = list(entries)
    superseded = {e.supersedes for e in entries if e.supersedes is not None}
    latest: dict[tuple[int, str, str, str], int] = {}  # key → index into entries
    for index, entry in enumerate(entries):
        if entry.entry_id in superseded:
            continue
        key = (entry.learner_id, entry.competency, entry.instrument, entry.cycle)
        kept = entries[latest[key]] if key in latest else None
        if kept is None or (entry.recorded_at, entry.entry_id) > (kept.recorded_at, kept.entry_id):
            latest[key] = index
    chosen = set(latest.values())
    return [e for index, e in enumerate(entries) if index in chosen]


def cohort_scores(entries: Iterable[RecordEntry], *, competency: str, instrument: str, cycle: str) -> list[int]:
    """Rule: the cohort of a result is every learner's current score on the same competency's instrument in
    the same cycle — one score per learner (a learner's corrected or repeated results count once)."""
    return [
        e.raw_score
        for e in current_entries(entries)
        if (e.competency, e.instrument, e.cycle) == (competency, instrument, cycle)
    ]


def percentile(score: int, cohort_scores: Iterable[int]) -> int | None:
    """Rule: the share (0–100, rounded down) of the cohort whose score is strictly below `score`; None when
    the cohort — all examinees of that instrument and cycle, this one included — has fewer than 5 people."""
    scores = list(cohort_scores)
    if len(scores) < MIN_COHORT:
        return None
    return 100 * sum(1 for s in scores if s < score) // len(scores)


def format_result(level: int, pct: int | None = None) -> str:
    """'等级3/67%'; '等级3' without a percentile; level 0 reads '未达等级1' (with '/pct%' when known)."""
    text = f"等级{level}" if level > 0 else "未达等级1"
    return text if pct is None else f"{text}/{pct}%"


def _one_learner(entries: Iterable[RecordEntry], cycle: str) -> list[RecordEntry]:
    current = [e for e in current_entries(entries) if e.cycle == cycle]
    if len({e.learner_id for e in current}) > 1:
        raise ValueError("entries of more than one learner")
    return current


def competency_levels(entries: Iterable[RecordEntry], *, cycle: str) -> dict[str, CompetencyLevel]:
    """Rule: a competency's level is the LOWEST 等级 among its programme instruments' current results in
    `cycle` — a competency is only as strong as its weakest evidence. Every instrument must have a result;
    otherwise the level is None (incomplete) and `missing_instruments` lists them.

    `entries` are one learner's (any cycles; only `cycle` counts); instruments outside the programme are ignored.
    """
    results = {(e.competency, e.instrument): e.level for e in _one_learner(entries, cycle)}
    levels = {}
    for competency in JOB_COMPETENCIES:
        codes = [p.instrument for p in PROGRAMME_INSTRUMENTS if p.competency == competency]
        by_instrument = {code: results[(competency, code)] for code in codes if (competency, code) in results}
        missing = tuple(code for code in codes if code not in by_instrument)
        level = None if missing else min(by_instrument.values())
        levels[competency] = CompetencyLevel(competency, level, missing, by_instrument)
    return levels


def value_creation(levels: Mapping[str, CompetencyLevel]) -> int | None:
    """Rule: value creation (价值创造力) is the mean of the four job competencies' levels, rounded down;
    None unless all four are complete. (The general qualities are pass/fail and not in the record.)"""
    found = [levels[c].level for c in JOB_COMPETENCIES if c in levels]
    if len(found) < len(JOB_COMPETENCIES) or any(level is None for level in found):
        return None
    return sum(level for level in found if level is not None) // len(JOB_COMPETENCIES)


def _names(codes: Iterable[str]) -> str:
    return "、".join(INSTRUMENTS.get(code, code) for code in codes)


def assess_promotion(
    *,
    current_job_level: str | None,
    levels: Mapping[str, CompetencyLevel],
    value_creation: int | None,
    last_promotion_cycle: str | None,
    cycle: str,
    supervisor_score: float | None = None,
) -> PromotionAssessment:
    """Rules: one step at a time, never skipping (none → 初级 → 中级 → 高级); at most one promotion per
    half-year cycle (not eligible when `last_promotion_cycle == cycle`); and only with the assessment's
    support: every job competency and value creation at REQUIRED_LEVEL[target] (初级 等级2, 中级 等级3,
    高级 等级3), plus for 高级 a self and supervisor evaluation ≥ 90. Each unmet condition is one reason;
    when eligible, the reason says so. HR's own checks (quotas, client class, ratings, exam) come after.
    """
    if current_job_level is not None and current_job_level not in JOB_LEVELS:
        raise ValueError(f"unknown job level: {current_job_level!r}")
    if current_job_level == JOB_LEVELS[-1]:
        return PromotionAssessment(False, None, (f"已经是最高职级「{current_job_level}」,没有更高一级可晋级。",))
    target = JOB_LEVELS[0] if current_job_level is None else JOB_LEVELS[JOB_LEVELS.index(current_job_level) + 1]
    need = REQUIRED_LEVEL[target]
    reasons: list[str] = []
    if last_promotion_cycle == cycle:
        reasons.append(f"本半年周期({cycle})已经晋级过一次,每个周期最多晋级一次,请下个周期再申请。")
    for competency in JOB_COMPETENCIES:
        result = levels.get(competency)
        if result is None or result.level is None:
            missing = result.missing_instruments if result else ()
            detail = f"还缺{_names(missing)}的成绩" if missing else "还没有成绩"
            reasons.append(f"{competency}:{detail},评不出等级;晋级{target}需要 等级{need}。")
        elif result.level < need:
            reasons.append(f"{competency}:目前{format_result(result.level)},晋级{target}需要 等级{need}。")
    if value_creation is None:
        reasons.append(f"{VALUE_CREATION}:四项胜任力都评出等级后才能算出;晋级{target}需要 等级{need}。")
    elif value_creation < need:
        reasons.append(f"{VALUE_CREATION}:目前{format_result(value_creation)},晋级{target}需要 等级{need}。")
    if target == JOB_LEVELS[-1]:
        bar = f"晋级{target}需要自评加上级评价达到 {SENIOR_MIN_EVALUATION:g} 分"
        if supervisor_score is None:
            reasons.append(f"{bar},目前还没有录入评价分。")
        elif supervisor_score < SENIOR_MIN_EVALUATION:
            reasons.append(f"{bar},目前是 {supervisor_score:g} 分。")
    if reasons:
        return PromotionAssessment(False, target, tuple(reasons))
    ok = f"已满足晋级{target}的条件:四项胜任力和{VALUE_CREATION}都达到 等级{need}"
    if target == JOB_LEVELS[-1]:
        ok += f",评价分 {supervisor_score:g} 分"
    return PromotionAssessment(True, target, (ok + "。可以在本周期申请,还需上级评议和人力资源审核。",))


def missing_for_next_level(entries: Iterable[RecordEntry], *, cycle: str) -> list[str]:
    """Rule: for each programme instrument below 等级3 in `cycle` (one learner's entries), what is still
    missing for the next 等级 — chat tests: the right answers still needed, the programme's cut for the
    next 等级 minus the raw score (at least 1); assessor-rated instruments: that an assessor rates them;
    no result: '还没有成绩'. Instruments at 等级3 are not listed. Programme order.
    """
    results = {(e.competency, e.instrument): e for e in _one_learner(entries, cycle)}
    lines = []
    for p in PROGRAMME_INSTRUMENTS:
        label = f"{p.competency} {INSTRUMENTS[p.instrument]}"
        assessor = p.instrument not in CHAT_INSTRUMENTS
        entry = results.get((p.competency, p.instrument))
        if entry is None:
            lines.append(f"{label}:还没有成绩" + ("(由评估人评分)" if assessor else ""))
        elif entry.level >= TOP_LEVEL:
            continue
        elif assessor:
            lines.append(f"{label}:由评估人评分,目前{format_result(entry.level)}")
        else:
            more = max(1, p.cuts[entry.level] - entry.raw_score)
            lines.append(f"{label}:再答对 {more} 题可达 等级{entry.level + 1}")
    return lines
