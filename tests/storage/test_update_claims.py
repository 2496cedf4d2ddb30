"""Claiming an update (the redelivery guard every worker relies on), on SQLite and PostgreSQL.

A claim is keyed on the bot, the update id and the update's own identity (its digest), and remembers who sent it:
update ids are only unique per bot and start again when the bot, its token or a self-hosted Bot API server
changes, so an id seen before with other content or from someone else is a new update, and stored replies are
only ever handed back for their own sender.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta

from storage.db import UnitOfWork
from storage.interaction_repository import InteractionRepository, UpdateClaim

NOW = datetime(2026, 11, 23, 9, 0)
interactions = InteractionRepository()
ALICE_42 = UpdateClaim(
    channel="telegram", bot_id="7001", update_id="42", digest="m:1001:17", sender="1001", chat="1001"
)


def test_the_first_claim_wins_and_a_redelivery_is_refused(uow: UnitOfWork):
    with uow.begin() as session:
        assert interactions.claim_update(session, ALICE_42, now=NOW)
    with uow.begin() as session:
        assert not interactions.claim_update(session, ALICE_42, now=NOW)
        assert interactions.claim_update(session, dataclasses.replace(ALICE_42, channel="console"), now=NOW)


def test_the_same_id_from_another_bot_sender_or_message_is_a_new_update(uow: UnitOfWork):
    with uow.begin() as session:
        assert interactions.claim_update(session, ALICE_42, now=NOW)
        interactions.save_replies(session, ALICE_42, replies='[{"type":"notice","text":"Alice"}]')
    others = [
        dataclasses.replace(ALICE_42, bot_id="7002"),  # another bot over the same database
        dataclasses.replace(ALICE_42, sender="1002", chat="1002", digest="m:1002:3"),  # another person
        dataclasses.replace(ALICE_42, digest="m:1001:90"),  # Alice again, a new message under a restarted id
    ]
    with uow.begin() as session:
        for other in others:
            assert interactions.claim_update(session, other, now=NOW), other
            assert interactions.saved_replies(session, other) is None  # nothing of Alice's
    with uow.begin() as session:
        assert interactions.saved_replies(session, ALICE_42) == '[{"type":"notice","text":"Alice"}]'


def test_stored_replies_go_back_only_to_their_sender_and_chat(uow: UnitOfWork):
    with uow.begin() as session:
        interactions.claim_update(session, ALICE_42, now=NOW)
        interactions.save_replies(session, ALICE_42, replies="[]")
    with uow.begin() as session:
        # Even a claim whose digest matches (a forged or colliding digest) gets nothing for another sender or chat.
        assert interactions.saved_replies(session, dataclasses.replace(ALICE_42, sender="1002")) is None
        assert interactions.saved_replies(session, dataclasses.replace(ALICE_42, chat="1002")) is None
        assert interactions.saved_replies(session, ALICE_42) == "[]"


def test_a_rolled_back_claim_leaves_the_update_claimable(uow: UnitOfWork):
    try:
        with uow.begin() as session:
            assert interactions.claim_update(session, ALICE_42, now=NOW)
            raise RuntimeError("the use case failed after claiming")
    except RuntimeError:
        pass
    with uow.begin() as session:
        assert interactions.claim_update(session, ALICE_42, now=NOW)


def test_two_workers_claiming_the_same_update_at_once_get_one_yes(uow: UnitOfWork):
    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()
    claim = dataclasses.replace(ALICE_42, update_id="900")

    def worker() -> None:
        barrier.wait(30)
        with uow.begin() as session:
            claimed = interactions.claim_update(session, claim, now=NOW)
        with lock:
            results.append(claimed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False] * 7 + [True]


def test_prune_forgets_old_update_ids_and_buttons_only(uow: UnitOfWork):
    from storage.learner_repository import LearnerRepository

    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=1)
    old_claim, new_claim = (dataclasses.replace(ALICE_42, update_id=i) for i in ("old", "new"))
    with uow.begin() as session:
        learner = LearnerRepository().add_learner(
            session, name="王芳", employee_no="P0001", region="西宁", level="初级", role="learner", now=old
        )
        interactions.claim_update(session, old_claim, now=old)
        interactions.claim_update(session, new_claim, now=recent)
        interactions.add_action(session, token="stale", learner_id=learner, action="rate", payload={}, now=old)
        interactions.add_action(session, token="fresh", learner_id=learner, action="rate", payload={}, now=recent)
    with uow.begin() as session:
        assert interactions.prune(session, before=NOW - timedelta(days=30)) == (1, 1)
    with uow.begin() as session:
        assert interactions.claim_update(session, old_claim, now=NOW)  # forgotten
        assert not interactions.claim_update(session, new_claim, now=NOW)  # kept
        assert interactions.take_action(session, "stale") is None
        assert interactions.take_action(session, "fresh") is not None
