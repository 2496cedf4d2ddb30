"""The certification rules pinned against the domain notes (/work/shared/domain.md): cut scores, results shown
as 等级3/67%, no percentile under 5 people, corrections, competency levels, value creation and promotion."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from certification.model import RecordEntry
from certification.rules import (
    JOB_COMPETENCIES,
    CompetencyLevel,
    assess_promotion,
    cohort_scores,
    competency_levels,
    current_entries,
    format_result,
    missing_for_next_level,
    percentile,
    value_creation,
)
from quizzes.competency import PROGRAMME_INSTRUMENTS, level_for_score

CYCLE = "2026H2"
T0 = datetime(2026, 7, 1, 9, 0)
PROGRAMME = {(p.competency, p.instrument): p for p in PROGRAMME_INSTRUMENTS}

# The domain table: competency, instrument, items, cut scores for 等级1/2/3.
DOMAIN_TABLE = [
    ("产品理解力", "knowledge", 80, (45, 55, 75)),
    ("产品理解力", "situational", 10, (5, 7, 8)),
    ("产品理解力", "case_writing", None, (1, 2, 3)),
    ("客户洞察力", "situational", 10, (5, 7, 8)),
    ("客户洞察力", "knowledge", 20, (12, 14, 16)),
    ("销售推动力", "situational", 15, (8, 10, 12)),
    ("销售推动力", "structured_interview", None, (1, 2, 3)),
    ("销售推动力", "product_presentation", None, (1, 2, 3)),
    ("资源整合力", "situational", 10, (5, 7, 8)),
    ("资源整合力", "structured_interview", None, (1, 2, 3)),
    ("资源整合力", "solution_presentation", None, (1, 2, 3)),
]


def entry(
    entry_id: int,
    competency: str,
    instrument: str,
    raw: int,
    *,
    level: int | None = None,
    learner: int = 1,
    cycle: str = CYCLE,
    minutes: int = 0,
    supersedes: int | None = None,
) -> RecordEntry:
    p = PROGRAMME[(competency, instrument)]
    return RecordEntry(
        entry_id=entry_id,
        learner_id=learner,
        employee_no=f"E{learner:03d}",
        learner_name=f"学员{learner}",
        competency=competency,
        instrument=instrument,
        raw_score=raw,
        max_score=p.items,
        level=level_for_score(raw, p.cuts) if level is None else level,
        cycle=cycle,
        recorded_at=T0 + timedelta(minutes=minutes),
        supersedes=supersedes,
        reason="更正" if supersedes else "",
    )


def full_record(level: int, *, learner: int = 1, cycle: str = CYCLE, start_id: int = 1) -> list[RecordEntry]:
    """Every programme instrument at exactly `level` (the cut score itself; 0 = one below the first cut)."""
    return [
        entry(
            start_id + i,
            p.competency,
            p.instrument,
            p.cuts[level - 1] if level else p.cuts[0] - 1,
            learner=learner,
            cycle=cycle,
        )
        for i, p in enumerate(PROGRAMME_INSTRUMENTS)
    ]


def levels_all(level: int | None) -> dict[str, CompetencyLevel]:
    return {c: CompetencyLevel(c, level, () if level is not None else ("situational",), {}) for c in JOB_COMPETENCIES}


# --- cut scores -------------------------------------------------------------------------------------------


def test_programme_instruments_match_the_domain_table():
    assert [(p.competency, p.instrument, p.items, p.cuts) for p in PROGRAMME_INSTRUMENTS] == DOMAIN_TABLE
    assert JOB_COMPETENCIES == ("产品理解力", "客户洞察力", "销售推动力", "资源整合力")


@pytest.mark.parametrize(("competency", "instrument", "items", "cuts"), DOMAIN_TABLE)
def test_each_cut_score_is_the_first_score_of_its_level(competency, instrument, items, cuts):
    for level, cut in enumerate(cuts, start=1):
        assert level_for_score(cut, cuts) == level
        assert level_for_score(cut - 1, cuts) == level - 1


# --- current entries (append-only record, corrections supersede) ------------------------------------------


def test_a_superseded_entry_is_ignored_even_when_it_is_the_latest():
    old = entry(1, "客户洞察力", "situational", 6, minutes=10)
    fix = entry(2, "客户洞察力", "situational", 8, minutes=5, supersedes=1)
    assert current_entries([old, fix]) == [fix]


def test_a_chain_of_corrections_leaves_only_the_last():
    a = entry(1, "客户洞察力", "situational", 4)
    b = entry(2, "客户洞察力", "situational", 6, minutes=1, supersedes=1)
    c = entry(3, "客户洞察力", "situational", 7, minutes=2, supersedes=2)
    assert current_entries([c, a, b]) == [c]


def test_the_latest_entry_per_learner_competency_instrument_and_cycle_counts():
    first = entry(1, "客户洞察力", "situational", 4)
    second = entry(2, "客户洞察力", "situational", 9, minutes=30)
    other_competency = entry(3, "产品理解力", "situational", 5)
    other_cycle = entry(4, "客户洞察力", "situational", 3, cycle="2026H1")
    other_learner = entry(5, "客户洞察力", "situational", 2, learner=2)
    got = current_entries([first, second, other_competency, other_cycle, other_learner])
    assert got == [second, other_competency, other_cycle, other_learner]


def test_equal_times_are_decided_by_entry_id():
    a = entry(7, "客户洞察力", "knowledge", 12)
    b = entry(8, "客户洞察力", "knowledge", 15)
    assert current_entries([b, a]) == [b]


# --- percentile and formatting ----------------------------------------------------------------------------


def test_percentile_is_the_share_strictly_below_rounded_down():
    assert percentile(8, [3, 5, 6, 7, 8, 8]) == 66  # 4 of 6 = 66.7 → 66
    assert percentile(8, [1] * 33 + [8] * 67) == 33  # ties are not below
    assert percentile(9, [9] * 33 + [1] * 67) == 67
    assert percentile(1, [1, 2, 3, 4, 5]) == 0
    assert percentile(10, [1, 2, 3, 4, 10]) == 80


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_no_percentile_for_a_cohort_under_five(size):
    assert percentile(5, [5] * size) is None


def test_a_cohort_of_exactly_five_has_a_percentile():
    assert percentile(5, [1, 2, 3, 4, 5]) == 80


def test_cohort_scores_take_each_learners_current_result_of_that_competency_instrument_and_cycle():
    entries = [
        entry(1, "客户洞察力", "situational", 4, learner=1),
        entry(2, "客户洞察力", "situational", 6, learner=1, minutes=5),  # retake: only this counts
        entry(3, "客户洞察力", "situational", 9, learner=2),
        entry(4, "客户洞察力", "situational", 8, learner=2, minutes=1, supersedes=3),
        entry(5, "产品理解力", "situational", 10, learner=3),  # another competency's situational test
        entry(6, "客户洞察力", "situational", 1, learner=4, cycle="2026H1"),
    ]
    got = cohort_scores(entries, competency="客户洞察力", instrument="situational", cycle=CYCLE)
    assert sorted(got) == [6, 8]


@pytest.mark.parametrize(
    ("level", "pct", "text"),
    [
        (3, 67, "等级3/67%"),
        (3, None, "等级3"),
        (1, 0, "等级1/0%"),
        (2, None, "等级2"),
        (0, None, "未达等级1"),
        (0, 12, "未达等级1/12%"),
    ],
)
def test_format_result(level, pct, text):
    assert format_result(level, pct) == text


# --- competency levels and value creation ------------------------------------------------------------------


def test_a_competency_takes_the_lowest_level_of_its_instruments():
    record = [
        entry(1, "销售推动力", "situational", 12),  # 等级3
        entry(2, "销售推动力", "structured_interview", 2),  # 等级2
        entry(3, "销售推动力", "product_presentation", 3),  # 等级3
    ]
    got = competency_levels(record, cycle=CYCLE)["销售推动力"]
    assert got == CompetencyLevel(
        "销售推动力", 2, (), {"situational": 3, "structured_interview": 2, "product_presentation": 3}
    )
    assert got.complete


def test_a_competency_without_every_instrument_is_incomplete_and_names_the_missing():
    record = [entry(1, "产品理解力", "situational", 8)]
    got = competency_levels(record, cycle=CYCLE)
    assert got["产品理解力"].level is None
    assert got["产品理解力"].missing_instruments == ("knowledge", "case_writing")
    assert got["客户洞察力"].missing_instruments == ("situational", "knowledge")
    assert not got["产品理解力"].complete
    assert set(got) == set(JOB_COMPETENCIES)


def test_competency_levels_count_only_the_cycle_and_only_current_entries():
    record = [*full_record(3, cycle="2026H1", start_id=100), *full_record(2)]
    wrong = next(e for e in record if (e.competency, e.instrument, e.cycle) == ("客户洞察力", "knowledge", CYCLE))
    record.append(entry(50, "客户洞察力", "knowledge", 12, supersedes=wrong.entry_id))  # corrected down to 等级1
    got = competency_levels(record, cycle=CYCLE)
    assert {c: v.level for c, v in got.items()} == {"产品理解力": 2, "客户洞察力": 1, "销售推动力": 2, "资源整合力": 2}
    assert {c: v.level for c, v in competency_levels(record, cycle="2026H1").items()} == dict.fromkeys(
        JOB_COMPETENCIES, 3
    )


def test_a_score_below_the_first_cut_gives_level_zero():
    got = competency_levels(full_record(0), cycle=CYCLE)
    assert {v.level for v in got.values()} == {0}


def test_competency_levels_refuse_a_mix_of_learners():
    with pytest.raises(ValueError):
        competency_levels([*full_record(2, learner=1), *full_record(2, learner=2, start_id=50)], cycle=CYCLE)


@pytest.mark.parametrize(
    ("levels", "expected"),
    [((3, 3, 3, 3), 3), ((2, 2, 3, 3), 2), ((3, 3, 3, 2), 2), ((1, 1, 1, 2), 1), ((0, 3, 3, 3), 2), ((0, 0, 0, 3), 0)],
)
def test_value_creation_is_the_rounded_down_mean_of_the_four(levels, expected):
    got = {c: CompetencyLevel(c, lv, (), {}) for c, lv in zip(JOB_COMPETENCIES, levels, strict=True)}
    assert value_creation(got) == expected


def test_value_creation_needs_all_four_complete():
    got = levels_all(3)
    got["资源整合力"] = CompetencyLevel("资源整合力", None, ("structured_interview",), {})
    assert value_creation(got) is None
    assert value_creation({c: got[c] for c in JOB_COMPETENCIES[:3]}) is None
    assert value_creation(competency_levels(full_record(2), cycle=CYCLE)) == 2


# --- promotion ----------------------------------------------------------------------------------------------


def assess(current, level, *, vc="same", last=None, supervisor=None):
    levels = levels_all(level)
    return assess_promotion(
        current_job_level=current,
        levels=levels,
        value_creation=value_creation(levels) if vc == "same" else vc,
        last_promotion_cycle=last,
        cycle=CYCLE,
        supervisor_score=supervisor,
    )


@pytest.mark.parametrize(("current", "target"), [(None, "初级"), ("初级", "中级"), ("中级", "高级")])
def test_promotion_is_one_step_at_a_time(current, target):
    assert assess(current, 3, supervisor=95).next_level == target
    assert assess(current, 3, supervisor=95).eligible


def test_top_assessment_never_skips_a_level():
    got = assess(None, 3, supervisor=100)
    assert (got.eligible, got.next_level) == (True, "初级")


def test_senior_is_the_top():
    got = assess("高级", 3, supervisor=100)
    assert (got.eligible, got.next_level) == (False, None)
    assert got.reasons == ("已经是最高职级「高级」,没有更高一级可晋级。",)


def test_unknown_job_level_is_refused():
    with pytest.raises(ValueError):
        assess("专家", 3)


def test_at_most_one_promotion_per_cycle():
    got = assess("初级", 3, last=CYCLE)
    assert not got.eligible
    assert got.reasons == ("本半年周期(2026H2)已经晋级过一次,每个周期最多晋级一次,请下个周期再申请。",)
    assert assess("初级", 3, last="2026H1").eligible


@pytest.mark.parametrize(("current", "below", "enough"), [(None, 1, 2), ("初级", 2, 3)])
def test_required_level_per_target(current, below, enough):
    # 等级1 = assistant manager, 等级2 = junior, 等级3 = intermediate (domain: "and so on upwards")
    assert not assess(current, below).eligible
    assert assess(current, enough).eligible


def test_reasons_name_each_competency_below_the_bar():
    got = assess(None, 1)
    assert got.reasons == (
        "产品理解力:目前等级1,晋级初级需要 等级2。",
        "客户洞察力:目前等级1,晋级初级需要 等级2。",
        "销售推动力:目前等级1,晋级初级需要 等级2。",
        "资源整合力:目前等级1,晋级初级需要 等级2。",
        "价值创造力:目前等级1,晋级初级需要 等级2。",
    )


def test_reasons_for_an_incomplete_record_name_the_missing_instruments():
    levels = competency_levels(full_record(3)[:-1], cycle=CYCLE)  # no 方案演讲 yet
    got = assess_promotion(
        current_job_level="初级",
        levels=levels,
        value_creation=value_creation(levels),
        last_promotion_cycle=None,
        cycle=CYCLE,
    )
    assert not got.eligible
    assert got.reasons == (
        "资源整合力:还缺方案演讲的成绩,评不出等级;晋级中级需要 等级3。",
        "价值创造力:四项胜任力都评出等级后才能算出;晋级中级需要 等级3。",
    )


def test_a_level_zero_competency_reads_not_yet_level_one():
    levels = levels_all(2)
    levels["客户洞察力"] = CompetencyLevel("客户洞察力", 0, (), {})
    got = assess_promotion(
        current_job_level=None, levels=levels, value_creation=1, last_promotion_cycle=None, cycle=CYCLE
    )
    assert got.reasons[0] == "客户洞察力:目前未达等级1,晋级初级需要 等级2。"


@pytest.mark.parametrize(("score", "eligible"), [(None, False), (89.5, False), (90, True), (90.0, True), (98, True)])
def test_senior_needs_an_evaluation_of_at_least_90(score, eligible):
    assert assess("中级", 3, supervisor=score).eligible is eligible


def test_senior_evaluation_reasons():
    assert assess("中级", 3).reasons == ("晋级高级需要自评加上级评价达到 90 分,目前还没有录入评价分。",)
    assert assess("中级", 3, supervisor=85).reasons == ("晋级高级需要自评加上级评价达到 90 分,目前是 85 分。",)
    assert assess("中级", 3, supervisor=92).reasons == (
        "已满足晋级高级的条件:四项胜任力和价值创造力都达到 等级3,评价分 92 分。"
        "可以在本周期申请,还需上级评议和人力资源审核。",
    )


def test_the_evaluation_does_not_matter_below_senior():
    assert assess("初级", 3, supervisor=10).eligible


def test_every_unmet_condition_is_listed():
    got = assess("中级", 2, last=CYCLE, supervisor=80)
    assert not got.eligible
    assert len(got.reasons) == 1 + 4 + 1 + 1  # cycle, four competencies, value creation, evaluation


def test_an_eligible_learner_is_told_why():
    assert assess(None, 2).reasons == (
        "已满足晋级初级的条件:四项胜任力和价值创造力都达到 等级2。可以在本周期申请,还需上级评议和人力资源审核。",
    )


# --- what is missing for the next level ------------------------------------------------------------------


def test_missing_right_answers_use_the_programme_cuts():
    record = [
        entry(1, "客户洞察力", "situational", 6),  # 等级1; 等级2 at 7
        entry(2, "客户洞察力", "knowledge", 14),  # 等级2; 等级3 at 16
        entry(3, "产品理解力", "knowledge", 50),  # 等级1; 等级2 at 55
        entry(4, "产品理解力", "situational", 8),  # 等级3: not listed
        entry(5, "销售推动力", "situational", 3),  # 未达等级1; 等级1 at 8
    ]
    lines = missing_for_next_level(record, cycle=CYCLE)
    assert "客户洞察力 情境模拟测验:再答对 1 题可达 等级2" in lines
    assert "客户洞察力 知识测验:再答对 2 题可达 等级3" in lines
    assert "产品理解力 知识测验:再答对 5 题可达 等级2" in lines
    assert "销售推动力 情境模拟测验:再答对 5 题可达 等级1" in lines
    assert not any(line.startswith("产品理解力 情境模拟测验") for line in lines)


def test_missing_lists_instruments_without_a_result_and_assessor_ratings():
    record = [entry(1, "销售推动力", "structured_interview", 2), entry(2, "产品理解力", "case_writing", 3)]
    lines = missing_for_next_level(record, cycle=CYCLE)
    assert "销售推动力 结构化访谈:由评估人评分,目前等级2" in lines
    assert "销售推动力 集团客户产品演讲:还没有成绩(由评估人评分)" in lines
    assert "资源整合力 情境模拟测验:还没有成绩" in lines
    assert not any(line.startswith("产品理解力 案例撰写") for line in lines)
    assert len(lines) == len(PROGRAMME_INSTRUMENTS) - 1


def test_nothing_is_missing_at_level_three_and_the_cycle_counts():
    assert missing_for_next_level(full_record(3), cycle=CYCLE) == []
    assert len(missing_for_next_level(full_record(3), cycle="2027H1")) == len(PROGRAMME_INSTRUMENTS)


def test_missing_uses_the_corrected_result():
    record = [entry(1, "客户洞察力", "situational", 4), entry(2, "客户洞察力", "situational", 7, supersedes=1)]
    assert "客户洞察力 情境模拟测验:再答对 1 题可达 等级3" in missing_for_next_level(record, cycle=CYCLE)
