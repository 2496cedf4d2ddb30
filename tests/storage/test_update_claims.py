"""Claiming an update (the redelivery guard every worker relies on), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime

from storage.db import UnitOfWork
from storage.interaction_repository import InteractionRepository

NOW = datetime(2026, 11, 23, 9, 0)
interactions = InteractionRepository()


def test_the_first_claim_wins_and_a_redelivery_is_refused(uow: UnitOfWork):
    with uow.begin() as session:
        assert interactions.claim_update(session, channel="telegram", update_id="42", now=NOW)
    with uow.begin() as session:
        assert not interactions.claim_update(session, channel="telegram", update_id="42", now=NOW)
        assert interactions.claim_update(session, channel="console", update_id="42", now=NOW)  # another channel


def test_a_rolled_back_claim_leaves_the_update_claimable(uow: UnitOfWork):
    try:
        with uow.begin() as session:
            assert interactions.claim_update(session, channel="telegram", update_id="7", now=NOW)
            raise RuntimeError("the use case failed after claiming")
    except RuntimeError:
        pass
    with uow.begin() as session:
        assert interactions.claim_update(session, channel="telegram", update_id="7", now=NOW)


def test_two_workers_claiming_the_same_update_at_once_get_one_yes(uow: UnitOfWork):
    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait(30)
        with uow.begin() as session:
            claimed = interactions.claim_update(session, channel="telegram", update_id="900", now=NOW)
        with lock:
            results.append(claimed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False] * 7 + [True]


def test_prune_forgets_old_update_ids_and_buttons_only(uow: UnitOfWork):
    from datetime import timedelta

    from storage.learner_repository import LearnerRepository

    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=1)
    with uow.begin() as session:
        learner = LearnerRepository().add_learner(
            session, name="王芳", employee_no="P0001", region="西宁", level="初级", role="learner", now=old
        )
        interactions.claim_update(session, channel="telegram", update_id="old", now=old)
        interactions.claim_update(session, channel="telegram", update_id="new", now=recent)
        interactions.add_action(session, token="stale", learner_id=learner, action="rate", payload={}, now=old)
        interactions.add_action(session, token="fresh", learner_id=learner, action="rate", payload={}, now=recent)
    with uow.begin() as session:
        assert interactions.prune(session, before=NOW - timedelta(days=30)) == (1, 1)
    with uow.begin() as session:
        assert interactions.claim_update(session, channel="telegram", update_id="old", now=NOW)  # forgotten
        assert not interactions.claim_update(session, channel="telegram", update_id="new", now=NOW)  # kept
        assert interactions.take_action(session, "stale") is None
        assert interactions.take_action(session, "fresh") is not None
