"""The multi-worker deployment, proven with processes: PostgreSQL, `chroma run`, two webhook workers behind the
balancer, the Bot API emulator delivering updates by webhook, and ingest/publish as separate jobs.

- A learner registers, looks things up and takes a certification quiz whose updates alternate between the two
  workers; one worker is killed (SIGKILL) mid-quiz; the other finishes it: one attempt, every answer once, one
  record entry matching the score the learner was shown.
- An ingest job runs while both workers answer; no question fails meanwhile, and the new content is found
  once the workers noticed the change.
- SIGTERM drains a worker: it says not-ready, finishes what it holds, exits 0.
- Telegram unreachable while a worker sends its reply: the worker answers 502, the update is re-delivered, and
  the stored reply goes out — once, with the question logged once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.core import texts
from storage.db import UnitOfWork, create_database_engine
from storage.models import AskedQuestion, AttemptAnswer, ProcessedUpdate, QuizAttempt, RecordEntryRow
from tests.deploy.chat import ChatUser, position_of, question_of, score_of
from tests.deploy.quiz import QUIZ, QUIZ_QUESTIONS, QUIZ_TITLE, right_and_wrong
from tests.deploy.topology import Topology, TopologyUnavailable
from tests.e2e.harness import EmulatorUnavailable, SimUser

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    root = tmp_path_factory.mktemp("topology")
    try:
        t = Topology(root, workers=2, dense_weight=0.2, refresh_seconds=1.0)
        t.__enter__()
    except (TopologyUnavailable, EmulatorUnavailable) as exc:
        pytest.skip(f"topology unavailable: {exc}")
    try:
        # The jobs compose runs once: ingest into PostgreSQL + the Chroma server, publish a quiz set.
        t.job("ingest", "content/knowledge/processes", "--collection", "processes", "--no-progress", name="ingest")
        quiz = root / "quiz.yaml"
        quiz.write_text(QUIZ, encoding="utf-8")
        t.job("quiz", "publish", str(quiz), name="publish")
        t.wait_current()
        yield t
    finally:
        t.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=120, trust_env=False) as client:
        yield client


def user(topology: Topology, http: httpx.AsyncClient, number: int) -> ChatUser:
    assert topology.emulator is not None
    sim = SimUser(id=30000 + number, first_name=f"经理{number}", username=f"cm{number}")
    return ChatUser(http, topology.emulator.client_url, topology.emulator.token, sim)


def handled_by(topology: Topology, update_ids: list[int]) -> list[str]:
    """Which worker (port) answered each update, from the balancer's log."""
    by_update = {entry["update_id"]: entry["upstream"] for entry in topology.balancer_log()}
    ports = {w.url: w.name for w in topology.workers.values()}
    return [ports[by_update[u]] for u in update_ids]


def uow(topology: Topology) -> UnitOfWork:
    return UnitOfWork(create_database_engine(topology.database_url))


async def test_a_quiz_alternates_between_workers_and_survives_one_being_killed(topology: Topology, http):
    learner = user(topology, http, 1)
    await learner.register(name="李明", employee_no="D0001")
    answer = (await learner.say("投诉受理后第一步做什么?"))[-1]
    assert texts.SOURCES in (answer.text or ""), answer.text

    question = await learner.start_quiz(QUIZ_TITLE)
    quiz_updates_start = len(learner.sent)
    wrong_on = {2, 5, 8, 11, 14}  # five wrong of 15: 10 right is exactly the 等级2 cut, so the score says something
    shown_score = None
    killed = None
    for _ in range(QUIZ_QUESTIONS):
        position, total = position_of(question)
        assert total == 15
        right, wrong = right_and_wrong(question)
        letter = wrong if position in wrong_on else right
        messages = await learner.answer(question, letter)
        if position == 2:  # mid-quiz: the worker that is next in turn dies on the spot
            last = handled_by(topology, [learner.sent[-1].update_id])[0]
            killed = next(w for w in topology.workers.values() if w.name != last)
            topology.kill(killed)
        shown_score = score_of(messages) or shown_score
        if position < 15:
            question = question_of(messages)
    assert shown_score == (10, 15)

    quiz_updates = [s.update_id for s in learner.sent[quiz_updates_start:]]
    workers = handled_by(topology, quiz_updates)
    assert killed is not None
    before_kill, after_kill = workers[:2], workers[2:]
    assert set(before_kill) == {"worker1", "worker2"}, workers  # alternating
    assert killed.name not in after_kill, workers  # the dead worker took nothing more
    log = {e["update_id"]: e for e in topology.balancer_log()}
    assert any(len(log[u]["tried"]) == 2 for u in quiz_updates[2:]), [log[u] for u in quiz_updates]
    assert all(s.ok for s in learner.sent)

    with uow(topology).read() as session:
        [attempt] = session.scalars(select(QuizAttempt)).all()
        assert attempt.status == "finished"
        answers = session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)).all()
        assert len(answers) == len({a.position for a in answers}) == 15  # each question answered exactly once
        assert sum(a.correct for a in answers) == 10 == attempt.correct_count
        [entry] = session.scalars(select(RecordEntryRow).where(RecordEntryRow.attempt_id == attempt.id)).all()
        assert (entry.raw_score, entry.level) == (10, 2)  # cut scores 8/10/12: 10 right is 等级2
        processed = session.scalar(select(func.count()).select_from(ProcessedUpdate))
        assert processed == len({s.update_id for s in learner.sent})

    # The replacement worker (compose restarts it) joins and is ready.
    topology.start_worker(killed.name, killed.port)
    topology.wait_ready(topology.workers[killed.name])


async def test_an_ingest_job_runs_while_the_workers_keep_answering(topology: Topology, http):
    learner = user(topology, http, 2)
    await learner.register(name="王芳", employee_no="D0002")
    new_question = "BPR试点为什么先选苏州和昆明?"
    before = (await learner.say(new_question))[-1]
    assert "BPR" not in (before.text or "")

    job = topology.start_job(
        "ingest", "content/knowledge/cases", "--collection", "cases", "--no-progress", name="ingest2"
    )
    answered_meanwhile = 0
    while job.poll() is None:
        reply = (await learner.say("投诉受理后第一步做什么?"))[-1]
        assert texts.SOURCES in (reply.text or ""), reply.text
        answered_meanwhile += 1
        await asyncio.sleep(0.2)
    assert job.returncode == 0, (topology.root / "ingest2.log").read_text()
    assert answered_meanwhile >= 1

    deadline = time.monotonic() + 60
    while True:
        after = (await learner.say(new_question))[-1]
        if "BPR" in (after.text or ""):
            break
        assert time.monotonic() < deadline, f"the workers never picked up the new cases: {after.text}"
        await asyncio.sleep(1)
    with uow(topology).read() as session:
        asked = session.scalar(select(func.count()).select_from(AskedQuestion))
    assert asked and asked >= answered_meanwhile + 2


async def test_sigterm_drains_a_worker_and_the_other_takes_over(topology: Topology, http):
    learner = user(topology, http, 3)
    await learner.register(name="赵强", employee_no="D0003")
    worker = topology.workers["worker2"]
    assert topology.terminate(worker) == 0
    records = topology.worker_log_records(worker)
    assert any("stopped after" in r.get("message", "") for r in records), records[-5:]
    for _ in range(3):  # all go to worker1 now
        assert texts.SOURCES in ((await learner.say("晋级需要哪些条件?"))[-1].text or "")
    assert Counter(handled_by(topology, [s.update_id for s in learner.sent[-3:]])) == Counter({"worker1": 3})
    topology.start_worker(worker.name, worker.port)
    topology.wait_ready(topology.workers[worker.name])


async def test_a_reply_lost_on_the_way_to_telegram_arrives_with_the_redelivery(topology: Topology, http):
    learner = user(topology, http, 4)
    await learner.register(name="孙丽", employee_no="D0004")
    with uow(topology).read() as session:
        asked_before = session.scalar(select(func.count()).select_from(AskedQuestion))
    # The worker's three tries and its apology all fail: it answers 502, and the balancer (as nginx would, or
    # else Telegram) re-delivers the update to the next worker, which finds it handled and sends the stored reply.
    topology.fail_bot_api("sendMessage", 4)
    replies = await learner.say("投诉受理后第一步做什么?")
    routed = {e["update_id"]: e for e in topology.balancer_log()}[learner.sent[-1].update_id]
    assert [t["status"] for t in routed["tried"]] == [502, 200], routed
    answers = [r for r in replies if texts.SOURCES in (r.text or "")]
    assert len(answers) == 1, [r.text for r in replies]  # the answer, once (an apology may have got through)
    with uow(topology).read() as session:
        assert session.scalar(select(func.count()).select_from(AskedQuestion)) == asked_before + 1
