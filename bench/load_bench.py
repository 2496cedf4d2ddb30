"""Load on the multi-worker deployment: simulated learners against two webhook workers on PostgreSQL.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python bench/load_bench.py [--learners 1000] [--concurrency 50] [--workers 2]
        [--baseline 300] [--json out.json]

The topology is tests/deploy/topology.py (what docker-compose.yml runs, as processes on loopback): a scratch
PostgreSQL database on the machine's server, `chroma run`, the Bot API emulator delivering updates by webhook,
the failover balancer, N `coach run` workers in webhook mode. Jobs first: `coach db upgrade`, `coach ingest` of
content/knowledge (three collections), `coach quiz publish` of a certification set as the programme has it
(销售推动力 情境模拟测验: 15 questions, cut scores 8/10/12).

Each simulated learner, --concurrency of them at a time, plays one whole visit through the emulator:
registration (/start, name, employee number, region, the level button), two lookups (questions from a fixed list
about the bundled content), /quiz, the set's button, 15 answers (right or wrong at random, seeded). A send
returns when the emulator's webhook delivery ended, i.e. the worker handled the update and sent its reply: that
duration is the reply latency.

Baseline, same process, same topology, before the load: --baseline sends of /help by already registered users,
one at a time — the fixed cost of one update through emulator → balancer → worker → PostgreSQL → Bot API. The
load's latencies are printed as ratios to it.

Printed: throughput (updates/s over the load's wall time), latency p50/p95/p99/max per kind, errors (deliveries
that failed, replies missing or not what the step expects), deliveries that needed a retry, and the exactly-once
check against the database: processed updates = distinct updates delivered; asked questions = lookups sent;
attempt answers = answers sent, one per (attempt, question); one finished attempt and one record entry per
learner who finished. Never asserts: it prints what it saw. All processes share the machine's 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.names import chinese_name
from storage.db import UnitOfWork, create_database_engine
from storage.models import AskedQuestion, AttemptAnswer, ProcessedUpdate, QuizAttempt, RecordEntryRow
from tests.deploy.chat import ChatUser, DeliveryFailed, position_of, question_of, score_of
from tests.deploy.quiz import QUIZ, QUIZ_QUESTIONS, QUIZ_TITLE, right_and_wrong
from tests.deploy.topology import Topology
from tests.e2e.harness import SimUser

QUESTIONS = (
    "投诉受理后第一步做什么?",
    "晋级需要满足哪些条件?",
    "客户满意度取决于什么?",
    "让步应该怎么安排?",
    "KPI考核怎么计算?",
    "BPR试点为什么选苏州和昆明?",
    "大客户专线续约谈判要注意什么?",
    "初级谈判有哪些技巧?",
)
COLLECTIONS = {"cases": "content/knowledge/cases", "courses": "content/knowledge/courses"}
COLLECTIONS["processes"] = "content/knowledge/processes"


@dataclass
class Run:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    lookups: int = 0
    answers: int = 0
    finished: int = 0
    users: list[ChatUser] = field(default_factory=list)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def learner_visit(user: ChatUser, number: int, rng: random.Random, run: Run) -> None:
    def took(kind: str) -> None:
        run.latencies[kind].append(user.sent[-1].seconds)

    try:
        await user.register(name=chinese_name(number), employee_no=f"L{number:05d}")
        run.latencies["register"].extend(s.seconds for s in user.sent)
        for question in rng.sample(QUESTIONS, 2):
            reply = await user.say(question)
            took("lookup")
            run.lookups += 1
            if not reply:
                run.errors.append(f"learner {number}: no answer to {question!r}")
        question = await user.start_quiz(QUIZ_TITLE)  # /quiz, then the set's button (StopIteration: not offered)
        run.latencies["quiz menu"].extend(s.seconds for s in user.sent[-2:])
        for _ in range(QUIZ_QUESTIONS):
            position, total = position_of(question)
            right, wrong = right_and_wrong(question)
            letter = right if rng.random() < 0.7 else wrong
            messages = await user.answer(question, letter)
            took("answer")
            run.answers += 1
            if position < total:
                question = question_of(messages)
            elif score_of(messages) is None:
                run.errors.append(f"learner {number}: no result after the last answer")
            else:
                run.finished += 1
    except DeliveryFailed as exc:
        run.errors.append(f"learner {number}: {exc}")
    except (AssertionError, StopIteration, httpx.HTTPError) as exc:
        run.errors.append(f"learner {number}: {type(exc).__name__}: {str(exc)[:200]}")


def make_user(topology: Topology, http: httpx.AsyncClient, number: int) -> ChatUser:
    assert topology.emulator is not None
    sim = SimUser(id=100000 + number, first_name=f"经理{number}", username=f"load{number}")
    return ChatUser(http, topology.emulator.client_url, topology.emulator.token, sim)


async def baseline(topology: Topology, http: httpx.AsyncClient, sends: int) -> list[float]:
    """/help, one at a time, from users registered for it (registration not counted)."""
    users = [make_user(topology, http, 900000 + i) for i in range(3)]
    for i, user in enumerate(users):
        await user.register(name=chinese_name(i, prefix="基线"), employee_no=f"B{i:05d}")
    seconds = []
    for i in range(sends):
        user = users[i % len(users)]
        await user.say("/help")
        seconds.append(user.sent[-1].seconds)
    return seconds


async def load(topology: Topology, http: httpx.AsyncClient, learners: int, concurrency: int, seed: int) -> Run:
    run = Run()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(1, learners + 1):
        queue.put_nowait(number)

    async def player() -> None:
        while True:
            try:
                number = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            user = make_user(topology, http, number)
            run.users.append(user)
            await learner_visit(user, number, random.Random(seed * 1_000_003 + number), run)

    await asyncio.gather(*(player() for _ in range(concurrency)))
    return run


def exactly_once(topology: Topology, run: Run, extra_updates: int) -> dict[str, tuple[int, int]]:
    """(seen in the database, expected from what was sent) for each count."""
    delivered = {s.update_id for u in run.users for s in u.sent if s.ok}
    uow = UnitOfWork(create_database_engine(topology.database_url))
    with uow.read() as session:
        processed = session.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0
        asked = session.scalar(select(func.count()).select_from(AskedQuestion)) or 0
        answers = session.scalar(select(func.count()).select_from(AttemptAnswer)) or 0
        distinct_positions = (
            session.scalar(
                select(func.count()).select_from(
                    select(AttemptAnswer.attempt_id, AttemptAnswer.position).distinct().subquery()
                )
            )
            or 0
        )
        finished = session.scalar(select(func.count()).where(QuizAttempt.status == "finished")) or 0
        entries = (
            session.scalar(
                select(func.count()).select_from(RecordEntryRow).where(RecordEntryRow.attempt_id.is_not(None))
            )
            or 0
        )
    return {
        "processed updates": (processed, len(delivered) + extra_updates),
        "asked questions": (asked, run.lookups),
        "attempt answers": (answers, run.answers),
        "answers, distinct (attempt, question)": (distinct_positions, run.answers),
        "finished attempts": (finished, run.finished),
        "record entries": (entries, run.finished),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=30.0,
        help="telegram.max_messages_per_second per worker (30 = Telegram's per-bot limit; 0 = off: our own capacity)",
    )
    parser.add_argument(
        "--dense-weight", type=float, default=None, help="retrieval.dense_weight for the workers (default: config's)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    root = Path(tempfile.mkdtemp(prefix="coach-load-"))
    print(f"load average at start: {os.getloadavg()}  (files under {root})")
    rate = {"COACH_TELEGRAM__MAX_MESSAGES_PER_SECOND": str(args.rate_limit)}
    with Topology(
        root, workers=args.workers, dense_weight=args.dense_weight, refresh_seconds=10.0, extra_env=rate
    ) as topology:
        started = time.perf_counter()
        for collection, folder in COLLECTIONS.items():
            topology.job("ingest", folder, "--collection", collection, "--no-progress", name="ingest")
        quiz = root / "quiz.yaml"
        quiz.write_text(QUIZ, encoding="utf-8")
        topology.job("quiz", "publish", str(quiz), name="publish")
        topology.wait_current()
        print(
            f"jobs (ingest ×3 with embeddings into the Chroma server, publish): {time.perf_counter() - started:.1f} s"
        )
        async with httpx.AsyncClient(
            timeout=120, trust_env=False, limits=httpx.Limits(max_connections=args.concurrency + 10)
        ) as http:
            base = await baseline(topology, http, args.baseline)
            base_updates = 3 * 5 + args.baseline
            t0 = time.perf_counter()
            run = await load(topology, http, args.learners, args.concurrency, args.seed)
            wall = time.perf_counter() - t0
        counts = exactly_once(topology, run, base_updates)
        retried = sum(1 for d in topology.deliveries() if d["attempts"] > 1)
        failovers = sum(1 for e in topology.balancer_log() if len(e["tried"]) > 1)
    updates = sum(len(u.sent) for u in run.users)
    base_p50 = statistics.median(base)
    print(
        f"\nbaseline /help, one at a time: n={len(base)} "
        f"p50 {1000 * base_p50:.1f} ms  p95 {1000 * pct(base, 95):.1f} ms"
    )
    print(
        f"load: {args.learners} learners, {args.concurrency} at a time, {args.workers} workers "
        f"(each ≤ {args.rate_limit:g} messages/s, 0 = unlimited): {updates} updates in "
        f"{wall:.1f} s = {updates / wall:.1f} updates/s"
    )
    print(f"{'kind':<12}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'p50/base':>10}")
    report: dict[str, object] = {"updates": updates, "seconds": wall, "baseline_p50_ms": 1000 * base_p50}
    for kind, values in sorted(run.latencies.items()):
        row = [1000 * pct(values, q) for q in (50, 95, 99, 100)]
        print(f"{kind:<12}{len(values):>7}" + "".join(f"{v:>9.1f}" for v in row) + f"{row[0] / 1000 / base_p50:>10.1f}")
        report[kind] = {"n": len(values), "p50": row[0], "p95": row[1], "p99": row[2], "max": row[3]}
    print(f"errors: {len(run.errors)}  deliveries retried by the emulator: {retried}  balancer failovers: {failovers}")
    for error in run.errors[:10]:
        print("  ", error)
    print("exactly once (database / sent):")
    for name, (seen, expected) in counts.items():
        print(f"  {name:<40}{seen:>8}{expected:>8}  {'ok' if seen == expected else 'MISMATCH'}")
    print(f"load average at end: {os.getloadavg()}")
    report.update({"errors": run.errors, "exactly_once": counts, "retried": retried, "failovers": failovers})
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
