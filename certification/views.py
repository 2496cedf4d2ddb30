"""What a learner and a supervisor read of the record. Pure: entries in, text out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from certification.model import RecordEntry
from certification.rules import (
    JOB_COMPETENCIES,
    PromotionAssessment,
    assess_promotion,
    cohort_scores,
    competency_levels,
    current_entries,
    format_result,
    missing_for_next_level,
    percentile,
    value_creation,
)
from quizzes.competency import INSTRUMENTS, VALUE_CREATION


@dataclass(frozen=True)
class LearnerRecordView:
    text: str
    levels: dict[str, int | None]
    assessment: PromotionAssessment


def learner_record(
    *,
    name: str,
    learner_entries: Sequence[RecordEntry],
    cycle_entries: Sequence[RecordEntry],
    cycle: str,
    job_level: str | None,
    last_promotion_cycle: str | None,
    supervisor_score: float | None = None,
    cohorts: dict[tuple[str, str], list[int]] | None = None,
) -> LearnerRecordView:
    """The /record view: per competency and instrument 等级/percentile, what is missing, eligibility, history.

    `cohorts` caches each instrument's cohort scores; pass one dict for a whole team so each is computed once.
    """
    cohorts = {} if cohorts is None else cohorts
    levels = competency_levels(learner_entries, cycle=cycle)
    composite = value_creation(levels)
    assessment = assess_promotion(
        current_job_level=job_level,
        levels=levels,
        value_creation=composite,
        last_promotion_cycle=last_promotion_cycle,
        cycle=cycle,
        supervisor_score=supervisor_score,
    )
    lines = [f"{name} 的认证记录({cycle},当前职级:{job_level or '未定级'})"]
    current = [e for e in current_entries(learner_entries) if e.cycle == cycle]
    for competency in JOB_COMPETENCIES:
        level = levels[competency]
        head = format_result(level.level) if level.level is not None else "未完成"
        lines.append(f"\n{competency}:{head}")
        for entry in (e for e in current if e.competency == competency):
            key = (competency, entry.instrument)
            if key not in cohorts:
                cohorts[key] = cohort_scores(
                    cycle_entries, competency=competency, instrument=entry.instrument, cycle=cycle
                )
            cohort = cohorts[key]
            score = f"{entry.raw_score}/{entry.max_score}" if entry.max_score else f"评分 {entry.raw_score}"
            pct = percentile(entry.raw_score, cohort)
            lines.append(
                f"  · {INSTRUMENTS.get(entry.instrument, entry.instrument)} {score} → {format_result(entry.level, pct)}"
            )
    lines.append(f"\n{VALUE_CREATION}:{format_result(composite) if composite is not None else '未完成'}")
    missing = missing_for_next_level(learner_entries, cycle=cycle)
    if missing:
        lines += ["", "还差什么:", *(f"  · {m}" for m in missing)]
    lines += [
        "",
        "晋级:" + ("可以申请" if assessment.eligible else "暂不符合"),
        *(f"  · {r}" for r in assessment.reasons),
    ]
    return LearnerRecordView("\n".join(lines), {c: levels[c].level for c in JOB_COMPETENCIES}, assessment)
