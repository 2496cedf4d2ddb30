"""A correction cannot contradict the programme: its level comes from its score by the instrument's cut scores,
a score outside the instrument's range is refused, and correcting an entry that was already corrected
supersedes the current entry instead of ending in an IntegrityError. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest

from certification.corrections import CorrectionRefused, correct_entry
from certification.rules import current_entries
from storage.db import UnitOfWork
from storage.learner_repository import LearnerRepository
from storage.record_repository import RecordRepository

NOW = datetime(2026, 11, 23, 9, 0)
records = RecordRepository()


def _setup(uow: UnitOfWork, *, instrument: str = "situational", score: int = 6, max_score: int | None = 10):  # type: ignore[no-untyped-def]
    with uow.begin() as session:
        learner = LearnerRepository().add_learner(
            session, name="学员", employee_no="L00001", region="西宁", level="初级", role="learner", now=NOW
        )
        hr = LearnerRepository().add_learner(
            session, name="人事", employee_no="A00001", region="西宁", level="高级", role="admin", now=NOW
        )
        entry = records.add_entry(
            session,
            learner_id=learner,
            competency="产品理解力",
            instrument=instrument,
            raw_score=score,
            max_score=max_score,
            level=1,
            cycle="2026H2",
            now=NOW,
        )
    return learner, hr, entry


def _correct(uow: UnitOfWork, entry: int, score: int, *, by: int, level: int | None = None):  # type: ignore[no-untyped-def]
    with uow.begin() as session:
        return correct_entry(
            session, records, entry_id=entry, score=score, level=level, reason="阅卷复核", by=by, now=NOW
        )


def test_the_level_of_a_correction_is_computed_from_its_score(uow):
    learner, hr, entry = _setup(uow)
    outcome = _correct(uow, entry, 8, by=hr)
    assert outcome.level == 3 and outcome.superseded == entry  # 8 of 10 reaches the situational test's 8
    with uow.read() as session:
        current = current_entries(records.entries(session, learner_ids=[learner]))
    assert [(e.raw_score, e.level, e.max_score) for e in current] == [(8, 3, 10)]


def test_a_level_that_disagrees_with_the_score_is_refused(uow):
    _, hr, entry = _setup(uow)
    with pytest.raises(CorrectionRefused) as refused:
        _correct(uow, entry, 6, by=hr, level=3)
    assert "等级1" in refused.value.message  # 6 of 10 is 等级1 by the cut scores 5/7/8
    assert _correct(uow, entry, 6, by=hr, level=1).level == 1  # an agreeing level is fine


@pytest.mark.parametrize("score", [99, 11, -1])
def test_a_score_outside_the_instruments_range_is_refused(uow, score):
    _, hr, entry = _setup(uow)
    with pytest.raises(CorrectionRefused) as refused:
        _correct(uow, entry, score, by=hr)
    assert "0–10" in refused.value.message
    with uow.read() as session:
        assert len(records.entries(session)) == 1  # nothing recorded


def test_assessor_ratings_are_corrected_within_one_to_three(uow):
    _, hr, entry = _setup(uow, instrument="case_writing", score=2, max_score=None)
    with pytest.raises(CorrectionRefused):
        _correct(uow, entry, 4, by=hr)
    assert _correct(uow, entry, 3, by=hr).level == 3


def test_correcting_the_same_entry_twice_supersedes_the_current_correction(uow):
    learner, hr, entry = _setup(uow)
    first = _correct(uow, entry, 7, by=hr)
    second = _correct(uow, entry, 8, by=hr)  # was: IntegrityError (supersedes is unique)
    assert second.superseded == first.entry_id and "已被" in second.message
    with uow.read() as session:
        current = current_entries(records.entries(session, learner_ids=[learner]))
    assert [(e.entry_id, e.raw_score, e.level) for e in current] == [(second.entry_id, 8, 3)]


def test_an_unknown_entry_is_refused(uow):
    _, hr, _ = _setup(uow)
    with pytest.raises(CorrectionRefused):
        _correct(uow, 999, 5, by=hr)
