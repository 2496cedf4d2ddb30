"""The WeCom channel's storage on both databases: one access token for every worker (fetched once, even when
they all ask at the same moment), and the sending lease of a claimed update's stored replies."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from bot.channels.wecom.api import SharedAccessToken
from storage.db import UnitOfWork
from storage.delivery_repository import DeliveryRepository
from storage.interaction_repository import InteractionRepository, UpdateClaim

T0 = datetime(2026, 12, 1, 9, 0, 0)


def test_workers_asking_at_once_share_one_fetched_token_and_a_refused_one_is_replaced(uow: UnitOfWork):
    fetched: list[str] = []
    lock = threading.Lock()
    now = [T0]

    def fetch() -> tuple[str, int]:
        time.sleep(0.2)  # WeCom takes a moment: the others must wait for this one, not fetch their own
        with lock:
            fetched.append(f"token-{len(fetched) + 1}")
            return fetched[-1], 7200

    workers = [SharedAccessToken(uow=uow, key="wecom:corp:1", fetch=fetch, clock=lambda: now[0]) for _ in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        tokens = list(pool.map(lambda w: w.get(), workers))
    assert fetched == ["token-1"] and set(tokens) == {"token-1"}
    assert workers[3].get() == "token-1"  # read from the database, no fetch
    assert workers[0].get(not_this="token-1") == "token-2"  # WeCom refused it (40014/42001): one new fetch
    assert workers[5].get(not_this="token-1") == "token-2"  # another worker refused the old one too: reads the new
    now[0] = T0 + timedelta(seconds=7200 - 200)  # within five minutes of expiring: replaced before use
    assert workers[2].get() == "token-3" and fetched == ["token-1", "token-2", "token-3"]
    other_app = SharedAccessToken(uow=uow, key="wecom:corp:2", fetch=fetch, clock=lambda: now[0])
    assert other_app.get() == "token-4"  # each app has its own


def _claimed(uow: UnitOfWork, *, update_id: str, sender: str = "wangxl", at: datetime = T0) -> UpdateClaim:
    claim = UpdateClaim("wecom", "1000002", update_id, f"digest-{update_id}", sender, sender)
    interactions = InteractionRepository()
    with uow.begin() as session:
        assert interactions.claim_update(session, claim, now=at)
        interactions.save_replies(session, claim, replies='[{"type":"notice","text":"好"}]')
    return claim


def test_one_worker_at_a_time_sends_a_claims_replies_and_only_to_its_sender(uow: UnitOfWork):
    repo = DeliveryRepository()
    claim = _claimed(uow, update_id="m1")
    with uow.begin() as session:
        state, pending = repo.take_lease(session, claim, now=T0, until=T0 + timedelta(seconds=60))
        assert state == "taken" and pending is not None and pending.sent_parts == 0
    with uow.begin() as session:  # a second worker, while the lease runs
        assert repo.take_lease(session, claim, now=T0 + timedelta(seconds=1), until=T0)[0] == "busy"
        repo.count_sent(session, claim, sent_parts=1)
    later = T0 + timedelta(seconds=61)  # the first worker died: the lease ran out, the rest goes from part 1
    with uow.begin() as session:
        state, pending = repo.take_lease(session, claim, now=later, until=later + timedelta(seconds=60))
        assert state == "taken" and pending is not None and pending.sent_parts == 1
        repo.mark_delivered(session, claim, now=later)
    with uow.begin() as session:
        assert repo.take_lease(session, claim, now=later, until=later)[0] == "delivered"
        stranger = UpdateClaim(claim.channel, claim.bot_id, claim.update_id, claim.digest, "lisi", "lisi")
        assert repo.take_lease(session, stranger, now=later, until=later) == ("missing", None)


def test_the_sweeper_sees_only_this_apps_undelivered_claims_past_their_grace(uow: UnitOfWork):
    repo = DeliveryRepository()
    old = _claimed(uow, update_id="old", at=T0)
    _claimed(uow, update_id="young", at=T0 + timedelta(seconds=58))
    done = _claimed(uow, update_id="done", at=T0)
    leased = _claimed(uow, update_id="leased", at=T0)
    telegram = UpdateClaim("telegram", "7000000001", "5", "d5", "1001", "1001")
    with uow.begin() as session:
        InteractionRepository().claim_update(session, telegram, now=T0)
        InteractionRepository().save_replies(session, telegram, replies="[]")
        repo.mark_delivered(session, done, now=T0)
        repo.take_lease(session, leased, now=T0, until=T0 + timedelta(minutes=5))
    now = T0 + timedelta(seconds=60)
    with uow.read() as session:
        pending = repo.undelivered(
            session,
            channel="wecom",
            bot_id="1000002",
            older_than=now - timedelta(seconds=5),
            newer_than=now - timedelta(days=1),
            now=now,
        )
    assert pending == [old]
