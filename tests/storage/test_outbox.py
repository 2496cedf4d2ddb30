"""The outbox on both databases: one row per due item, claims with a lease, one chat at a time, the shared rate;
two workers racing for the same rows on PostgreSQL; a worker killed between claim and send."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.core.messages import Reply, TextReply
from bot.core.outbox import DrainPolicy, OutboxDrainer
from bot.core.reply_codec import encode_replies
from storage.db import UnitOfWork
from storage.learner_repository import LearnerRepository
from storage.models import OutboxMessage
from storage.outbox_repository import OutboxItem, OutboxRepository

NOW = datetime(2026, 11, 23, 1, 0)
LEASE = timedelta(seconds=60)


def _learners(uow: UnitOfWork, count: int) -> list[int]:
    with uow.begin() as session:
        repo = LearnerRepository()
        return [
            repo.add_learner(
                session, name=f"学员{i}", employee_no=f"E{i:05d}", region="西宁", level="中级", role="learner", now=NOW
            )
            for i in range(count)
        ]


def _item(learner_id: int, *, key: str | None = None, address: str | None = None, due: datetime = NOW) -> OutboxItem:
    payload = encode_replies([TextReply(f"给 {learner_id} 的提醒")])
    return OutboxItem(
        key or f"review:{learner_id}:2026-11-23", learner_id, "review", "telegram", address or str(learner_id),
        payload, due, due + timedelta(hours=12),
    )  # fmt: skip


def _enqueue(uow: UnitOfWork, items: list[OutboxItem]) -> int:
    with uow.begin() as session:
        return OutboxRepository().enqueue(session, items, now=NOW)


def _claim(uow: UnitOfWork, worker: str, *, now: datetime = NOW, limit: int = 100) -> list[int]:
    with uow.begin() as session:
        claimed = OutboxRepository().claim(
            session, channel="telegram", worker=worker, now=now, limit=limit, lease=LEASE
        )
        return [c.learner_id for c in claimed]


def test_a_due_item_is_queued_once_however_often_it_is_planned(uow):
    (learner,) = _learners(uow, 1)
    assert _enqueue(uow, [_item(learner)]) == 1
    assert _enqueue(uow, [_item(learner), _item(learner)]) == 0
    with uow.read() as session:
        assert OutboxRepository().counts(session) == {"pending": 1}


def test_only_due_unexpired_unleased_rows_are_claimed_and_a_dead_workers_lease_runs_out(uow):
    a, b, c = _learners(uow, 3)
    _enqueue(uow, [_item(a), _item(b, due=NOW + timedelta(minutes=5)), _item(c, due=NOW - timedelta(hours=13))])
    assert _claim(uow, "w1") == [a]  # b is not due yet, c's window closed an hour ago
    assert _claim(uow, "w2") == []  # a is w1's for the lease
    # w1 was killed before sending: after the lease the row is anyone's, once
    later = NOW + LEASE + timedelta(seconds=1)
    assert _claim(uow, "w2", now=later) == [a]
    assert _claim(uow, "w3", now=later) == []
    with uow.read() as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.learner_id == a)).one()
        assert (row.claimed_by, row.attempts, row.status) == ("w2", 2, "pending")


def test_one_message_per_chat_at_a_time(uow):
    a, b = _learners(uow, 2)
    _enqueue(uow, [_item(a, key="k1", address="chat-1"), _item(b, key="k2", address="chat-1")])
    assert len(_claim(uow, "w1")) == 1
    assert _claim(uow, "w2", now=NOW + timedelta(milliseconds=500)) == []  # that chat had one half a second ago
    assert len(_claim(uow, "w2", now=NOW + timedelta(seconds=2))) == 1


def test_the_shared_bucket_lets_out_the_configured_rate(uow):
    repo = OutboxRepository()
    with uow.begin() as session:
        assert repo.take_send_tokens(session, channel="telegram", rate=10, burst=10, want=50, now=NOW) == 10
        assert repo.take_send_tokens(session, channel="telegram", rate=10, burst=10, want=50, now=NOW) == 0
        later = NOW + timedelta(milliseconds=500)
        assert repo.take_send_tokens(session, channel="telegram", rate=10, burst=10, want=50, now=later) == 5
        repo.return_send_tokens(session, channel="telegram", count=2)
        assert repo.take_send_tokens(session, channel="telegram", rate=10, burst=10, want=50, now=later) == 2
        assert repo.take_send_tokens(session, channel="wecom", rate=3, burst=3, want=50, now=later) == 3  # its own


class RecordingSender:
    channel = "telegram"

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.lock = threading.Lock()

    async def send(self, address: str, replies: Sequence[Reply], *, skip: int = 0) -> None:
        await asyncio.sleep(0.001)  # a network call
        with self.lock:
            self.sent.append(address)


@pytest.mark.postgres
def test_two_workers_racing_for_the_same_rows_send_each_exactly_once(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("the race that matters is on PostgreSQL (SQLite claims take turns)")
    uow = UnitOfWork(engine)
    learners = _learners(uow, 300)
    _enqueue(uow, [_item(i) for i in learners])
    sender = RecordingSender()
    clock = lambda: NOW + timedelta(seconds=1)  # noqa: E731
    policy = DrainPolicy(messages_per_second=10_000, batch_size=7)

    def worker(name: str) -> None:
        drainer = OutboxDrainer(uow, sender, name, policy, clock=clock)

        async def drain() -> None:
            while (await drainer.drain_once()).claimed:
                pass

        asyncio.run(drain())

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(Counter(sender.sent).values()) == [1] * 300  # every row, none twice
    with uow.read() as session:
        assert OutboxRepository().counts(session) == {"sent": 300}
        workers = Counter(session.scalars(select(OutboxMessage.claimed_by)))
    assert set(workers) == {"w0", "w1"}, workers  # both took part: they claimed side by side, not in turns


@pytest.mark.postgres
def test_a_claim_skips_the_rows_another_open_claim_holds_instead_of_taking_or_waiting_for_them(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite claims take turns")
    uow = UnitOfWork(engine)
    _enqueue(uow, [_item(i) for i in _learners(uow, 10)])
    with uow.begin() as first:
        mine = OutboxRepository().claim(first, channel="telegram", worker="w1", now=NOW, limit=5, lease=LEASE)
        with uow.begin() as second:  # a second worker while the first has not committed yet
            second.execute(text("SET LOCAL lock_timeout = '2s'"))  # waiting for the first would fail the test
            theirs = OutboxRepository().claim(second, channel="telegram", worker="w2", now=NOW, limit=5, lease=LEASE)
    assert len(mine) == len(theirs) == 5
    assert not {m.message_id for m in mine} & {t.message_id for t in theirs}
