"""The morning push: N learners with a mistake due, two workers on PostgreSQL, the outbox drained at the rate
configured for all workers together. Prints; never asserts.

Each worker is its own process running what a Telegram worker runs (`bot.core.reminder_loop.run_reminders`: plan
every minute, drain every tick) with a sender standing in for Telegram (a fixed round trip per message, every call
recorded with its time). The clock is real time shifted to Monday 09:00 in Shanghai, the review time, so the plan
starts at once and the drain runs at its real pace. Measured: how long the plan takes, how long the drain takes and
its rate against the configured one (the ratio), every due message sent exactly once (duplicates, missing), none
outside the sending window (quiet hours), the most messages in any one second across both workers (Telegram's ~30/s
per bot), and the outbox's own ceiling in the same run: the same two workers, no send latency, the rate set far
above what they reach (`--ceiling-learners`).

    PYTHONPATH=. .venv/bin/python bench/reminder_bench.py [--learners 10000] [--rate 25] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import multiprocessing
import os
import secrets
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

from bot.core.outbox import DrainPolicy, OutboxDrainer
from bot.core.quiet_hours import QuietHours, is_quiet
from bot.core.reminder_loop import run_reminders
from bot.core.reminder_plan import ReminderPlanner, ReminderSchedule
from quizzes.model import Option, Question, QuizSet
from quizzes.publishing import publish_quiz_set
from storage.db import UnitOfWork, create_database_engine
from storage.models import ChannelIdentity, Learner, Mistake, OutboxMessage
from storage.outbox_repository import OutboxRepository
from storage.quiz_repository import QuizRepository
from storage.schema import upgrade_to_head
from tests.support.postgres import create_scratch_database, drop_database

ZONE = ZoneInfo("Asia/Shanghai")
QUIET = QuietHours(clock_time(22), clock_time(8))
FAKE_START = datetime(2026, 11, 23, 1, 0)  # Monday 09:00 in Shanghai (naive UTC, as stored)
SCHEDULE = ReminderSchedule(
    time_zone=ZONE, quiet=QUIET, review_time=clock_time(9), digest_weekday=0, digest_time=clock_time(9),
    channels=("telegram",),
)  # fmt: skip


class StandInTelegram:
    """Takes a message after `latency` seconds and records (chat, wall time)."""

    channel = "telegram"

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.sent: list[tuple[str, float]] = []

    async def send(self, address: str, replies, *, skip: int = 0) -> None:  # type: ignore[no-untyped-def]
        if self.latency:
            await asyncio.sleep(self.latency)
        self.sent.append((address, time.time()))


def worker(url: str, name: str, start: float, rate: float, batch: int, latency: float, out: str, stop) -> None:  # type: ignore[no-untyped-def]
    engine = create_database_engine(url)
    uow = UnitOfWork(engine)

    def clock() -> datetime:
        return FAKE_START + timedelta(seconds=time.time() - start)

    planner = ReminderPlanner(uow, SCHEDULE, new_token=lambda: secrets.token_urlsafe(12), clock=clock)
    sender = StandInTelegram(latency)
    drainer = OutboxDrainer(uow, sender, name, DrainPolicy(messages_per_second=rate, batch_size=batch), clock=clock)

    async def main() -> None:
        task = asyncio.create_task(run_reminders(planner=planner, drainer=drainer, tick=0.25, plan_every=60))
        while not stop.is_set():
            await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    Path(out).write_text(json.dumps(sender.sent))
    engine.dispose()


def seed(url: str, learners: int) -> None:
    """Learners with a Telegram identity and one mistake due yesterday; one practice set."""
    engine = create_database_engine(url)
    upgrade_to_head(engine)
    uow = UnitOfWork(engine)
    quiz = QuizSet(
        title="练习", competency="客户洞察力", instrument="situational", level="中级", mode="practice", draw=1,
        cut_scores=(1, 1, 1),
        questions=(Question("q1", "single_choice", "客户嫌贵?", (Option("先了解需求", True), Option("降价", False))),),
    )  # fmt: skip
    with uow.begin() as session:
        version = publish_quiz_set(session, QuizRepository(), quiz, source_name="b.yaml", by=None, now=FAKE_START)
        for start in range(0, learners, 2000):
            ids = range(start + 1, min(learners, start + 2000) + 1)
            session.execute(insert(Learner), [
                {"id": i, "name": f"学员{i}", "employee_no": f"E{i:06d}", "region": "西宁", "level": "中级",
                 "role": "learner", "collection_filter": "", "created_at": FAKE_START} for i in ids])  # fmt: skip
            session.execute(insert(ChannelIdentity), [
                {"channel": "telegram", "external_id": str(700_000 + i), "learner_id": i} for i in ids])  # fmt: skip
            session.execute(insert(Mistake), [
                {"learner_id": i, "version_id": version.version_id, "question_key": "q1", "streak": 0,
                 "due_at": FAKE_START - timedelta(days=1), "added_at": FAKE_START - timedelta(days=2)}
                for i in ids])  # fmt: skip
        session.execute(text("SELECT setval('learners_id_seq', (SELECT max(id) FROM learners))"))
    engine.dispose()


def run(url: str, *, learners: int, workers: int, rate: float, batch: int, latency: float, timeout: float) -> dict:
    seed(url, learners)
    engine = create_database_engine(url)
    planner = ReminderPlanner(UnitOfWork(engine), SCHEDULE, new_token=lambda: secrets.token_urlsafe(12),
                              clock=lambda: FAKE_START)  # fmt: skip
    began = time.perf_counter()
    queued = planner.plan().review
    plan_seconds = time.perf_counter() - began
    began = time.perf_counter()
    again = planner.plan().review  # what every worker's next plan costs: everything is queued already
    replan_seconds = time.perf_counter() - began
    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    folder = Path(tempfile.mkdtemp(prefix="reminder-bench-"))
    start = time.time() + 10.0  # the workers' clocks start together, after their imports (slow under load)
    procs = [
        spawn.Process(target=worker, args=(url, f"w{n}", start, rate, batch, latency, str(folder / f"w{n}.json"), stop))
        for n in range(workers)
    ]
    for p in procs:
        p.start()
    planned_at = None
    while time.time() < start + timeout:
        time.sleep(0.5)
        with engine.connect() as c:
            counts = dict(
                c.execute(select(OutboxMessage.status, text("count(*)")).group_by(OutboxMessage.status)).all()
            )
        if planned_at is None and sum(counts.values()) >= learners:
            planned_at = time.time()
        if counts.get("sent", 0) + counts.get("blocked", 0) + counts.get("failed", 0) >= learners:
            break
    stop.set()
    for p in procs:
        p.join(30)
    sent = [(address, at, n) for n in range(workers) for address, at in json.loads((folder / f"w{n}.json").read_text())]
    with UnitOfWork(engine).read() as session:
        final = OutboxRepository().counts(session)
    engine.dispose()
    times = sorted(at for _, at, _ in sent)
    per_chat = Counter(address for address, _, _ in sent)
    window = max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)
    quiet = sum(1 for t in times if is_quiet(FAKE_START + timedelta(seconds=t - start), QUIET, ZONE))
    drain = (times[-1] - times[0]) if len(times) > 1 else 0.0
    return {
        "learners": learners,
        "workers": workers,
        "configured_rate": rate,
        "queued": queued,
        "plan_seconds": round(plan_seconds, 2),
        "replan_seconds": round(replan_seconds, 2),
        "queued_again": again,
        "drain_seconds": round(drain, 1),
        "rate": round((len(times) - 1) / drain, 2) if drain else None,
        "sent": len(times),
        "duplicates": sum(c - 1 for c in per_chat.values() if c > 1),
        "missing": learners - len(per_chat),
        "in_quiet_hours": quiet,
        "max_in_one_second": window,
        "by_worker": dict(Counter(f"w{n}" for _, _, n in sent)),
        "outbox": final,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="[reminders] messages_per_second (all workers)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.03, help="the stand-in Telegram's round trip, seconds")
    parser.add_argument("--ceiling-learners", type=int, default=3000, help="the baseline run without a rate limit")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    results = {}
    for label, learners, rate, latency in (
        ("ceiling (no send latency, rate 100000/s)", args.ceiling_learners, 100_000.0, 0.0),
        (
            f"configured ({args.rate:g}/s, {args.latency * 1000:.0f} ms per send)",
            args.learners,
            args.rate,
            args.latency,
        ),
    ):
        name, url = create_scratch_database("coach_reminder_bench")
        try:
            timeout = 120 + learners / rate * 2
            results[label] = run(url, learners=learners, workers=args.workers, rate=rate, batch=args.batch,
                                 latency=latency, timeout=timeout)  # fmt: skip
        finally:
            drop_database(name)
        print(f"\n{label}")
        for key, value in results[label].items():
            print(f"  {key}: {value}")
    ceiling = results[next(iter(results))]["rate"]
    configured = results[list(results)[1]]
    if ceiling and configured["rate"]:
        print(f"\nconfigured rate reached: {configured['rate'] / args.rate:.3f} of {args.rate:g}/s; "
              f"the outbox's own ceiling is {ceiling / configured['rate']:.1f}x that")  # fmt: skip
    print(f"load average at end: {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
