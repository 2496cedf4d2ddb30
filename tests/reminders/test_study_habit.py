"""The study habit end to end through the core: what is planned when, what the learner gets and can press, opt-out,
quiet hours, a blocked bot, streaks and the supervisors' weekly digest — on real SQLite with a clock the test moves."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.core.messages import TextReply
from bot.core.outbox import OutboxDrainer
from bot.core.quiet_hours import QuietHours
from bot.core.roles import Role
from storage.models import OutboxMessage, ReminderBlock
from storage.record_repository import RecordRepository
from tests.reminders.conftest import FakeSender, World, build_world, practice_set

MONDAY_0830 = datetime(2026, 11, 23, 0, 30)  # UTC; 08:30 in Shanghai
MONDAY_0900 = datetime(2026, 11, 23, 1, 0)


def _buttons(reply: TextReply) -> dict[str, str]:
    return {b.label: b.token for row in reply.buttons for b in row}


def _rows(world: World) -> list[OutboxMessage]:
    with world.uow.read() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _with_due_mistake(world: World, external_id: str = "1001") -> int:
    learner = world.learner(external_id)
    version = world.publish(practice_set())
    world.add_mistake(learner, version, "客户洞察力-0", due=MONDAY_0830 - timedelta(hours=1))
    return learner


def test_a_due_mistake_is_reminded_once_a_day_at_the_review_time_with_a_button_that_starts_the_review(world):
    _with_due_mistake(world)
    assert world.plan().review == 0  # 08:30: not yet
    world.clock.now = MONDAY_0900
    assert world.plan().review == 1
    assert world.plan().review == 0  # planned again (another worker, a restart): still one
    assert world.drain().sent == 1
    address, replies = world.sender.sent[0]
    assert address == "1001" and "1 道题到期" in replies[0].text  # type: ignore[union-attr]
    review = world.press("1001", _buttons(replies[0])["开始复习"])  # type: ignore[arg-type]
    assert review.replies[0].title == "错题复习" and "客户嫌贵" in review.replies[0].text  # type: ignore[union-attr]
    assert world.drain().sent == 0  # sent once
    world.clock.now += timedelta(days=1)
    assert world.plan().review == 1  # still due the next day: one more, for that day


def test_a_learner_who_stops_reminders_gets_none_and_remind_brings_them_back(world):
    _with_due_mistake(world)
    assert "已停止所有提醒" in world.say("1001", "/remind 关闭").replies[0].text  # type: ignore[union-attr]
    world.clock.now = MONDAY_0900
    assert world.plan().review == 0
    world.say("1001", "/remind 错题")
    assert world.plan().review == 1


def test_remind_refuses_a_time_in_the_quiet_hours_and_a_chosen_time_starts_the_next_day(world):
    learner = world.learner("1001")
    world.publish(practice_set())
    refused = world.say("1001", "/remind 07:30").replies[0].text  # type: ignore[union-attr]
    assert "免打扰时段 22:00–08:00" in refused
    world.clock.now = MONDAY_0900  # 09:00 local: 08:45 has passed today
    assert "每天 08:45" in world.say("1001", "/remind 08:45").replies[0].text  # type: ignore[union-attr]
    assert world.plan().daily == 0
    world.clock.now = datetime(2026, 11, 24, 0, 44)  # Tuesday 08:44
    assert world.plan().daily == 0
    world.clock.now = datetime(2026, 11, 24, 0, 45)
    assert world.plan().daily == 1
    status = world.say("1001", "/remind").replies[0]
    assert "每日一题:每天 08:45" in status.text and "每天 12:30" in _buttons(status)  # type: ignore[union-attr,arg-type]
    assert learner


def test_the_daily_question_comes_from_the_weakest_competency_at_the_learners_level_and_builds_a_streak(world):
    learner = world.learner("1001", level="中级")
    world.publish(practice_set("客户洞察力", "中级"))
    world.publish(practice_set("销售推动力", "中级"))
    world.publish(practice_set("产品理解力", "初级"))  # another level: never chosen
    # 产品理解力 and 客户洞察力 have a result (等级3); 销售推动力 has none: it counts as the weakest
    with world.uow.begin() as session:
        for competency in ("产品理解力", "客户洞察力"):
            RecordRepository().add_entry(
                session, learner_id=learner, competency=competency, instrument="situational", raw_score=8,
                max_score=10, level=3, cycle="2026H2", now=MONDAY_0830, entered_by=None,
            )  # fmt: skip
    world.clock.now = datetime(2026, 11, 22, 0, 0)  # choose on Sunday
    world.say("1001", "/remind 08:30")
    for day in range(3):
        world.clock.now = MONDAY_0830 + timedelta(days=day)
        assert world.plan().daily == 1 and world.drain().sent == 1
        message = world.sender.sent[-1][1][0]
        assert isinstance(message, TextReply) and message.title == "每日一题 · 销售推动力(中级)"
        assert ("🔥 已连续练习" in message.text) == (day > 0)
        right = next(
            label for label, _ in _buttons(message).items() if f"{label}. 先了解对方的真实条件" in message.text
        )
        answer = world.press("1001", _buttons(message)[right]).replies[0].text  # type: ignore[union-attr]
        assert "回答正确" in answer and f"已连续练习 {day + 1} 天" in answer
    record = world.say("1001", "/record").replies[0].text  # type: ignore[union-attr]
    assert "已连续练习 3 天" in record


def test_a_wrong_daily_answer_goes_into_the_mistake_notebook(world):
    world.learner("1001")
    world.publish(practice_set())
    world.clock.now = datetime(2026, 11, 22, 0, 0)
    world.say("1001", "/remind 08:30")
    world.clock.now = MONDAY_0830
    world.plan()
    world.drain()
    message = world.sender.sent[-1][1][0]
    assert isinstance(message, TextReply)
    wrong = next(label for label in _buttons(message) if f"{label}. 马上降价" in message.text)
    answer = world.press("1001", _buttons(message)[wrong]).replies[0].text  # type: ignore[union-attr]
    assert "❌" in answer and "错题本" in answer and "先了解对方的真实条件" in answer
    assert world.press("1001", _buttons(message)[wrong]).replies[0].text == "已处理过了。"  # type: ignore[union-attr]
    other = next(label for label in _buttons(message) if label != wrong)
    assert world.press("1001", _buttons(message)[other]).replies[0].text == "已处理过了。"  # type: ignore[union-attr]
    world.clock.now += timedelta(days=1, minutes=30)  # Tuesday 09:00: the mistake is due
    assert world.plan().review == 1


def test_nothing_is_sent_in_the_quiet_hours_a_late_backlog_is_dropped_and_zones_are_honoured(sqlite_engine):
    berlin = build_world(sqlite_engine, zone=ZoneInfo("Europe/Berlin"))
    _with_due_mistake(berlin)
    berlin.clock.now = MONDAY_0900  # 02:00 in Berlin: the night
    assert berlin.plan().review == 0
    berlin.clock.now = datetime(2026, 11, 23, 8, 0)  # 09:00 in Berlin
    assert berlin.plan().review == 1
    berlin.clock.now = datetime(2026, 11, 23, 21, 0)  # 22:00 in Berlin: the window closed before anyone sent it
    report = berlin.drain()
    assert report.claimed == 0 and berlin.sender.sent == []
    assert berlin.plan().review == 0  # and it is not planned again that night


def test_a_review_time_inside_the_quiet_hours_waits_for_their_end(sqlite_engine):
    night_owls = build_world(sqlite_engine, quiet=QuietHours(time(0), time(9, 30)))
    _with_due_mistake(night_owls)
    night_owls.clock.now = MONDAY_0900  # 09:00 local: review_time, but quiet until 09:30
    assert night_owls.plan().review == 0
    night_owls.clock.now = datetime(2026, 11, 23, 1, 30)
    assert night_owls.plan().review == 1


def test_a_learner_who_blocked_the_bot_is_marked_and_gets_no_more_reminders_until_they_write(world):
    learner = _with_due_mistake(world)
    world.sender.blocked.add("1001")
    world.clock.now = MONDAY_0900
    world.plan()
    assert world.drain().blocked == 1
    with world.uow.read() as session:
        assert session.get(ReminderBlock, (learner, "telegram")) is not None
    assert [r.status for r in _rows(world)] == ["blocked"]
    world.clock.now += timedelta(days=1)
    assert world.plan().review == 0  # blocked: nothing is even queued
    world.sender.blocked.clear()
    world.say("1001", "/remind")  # they came back
    assert world.plan().review == 1


def test_a_channel_asking_to_slow_down_gets_the_message_later_not_twice(world):
    _with_due_mistake(world)
    world.clock.now = MONDAY_0900
    world.plan()
    world.sender.slow_down = 7
    report = world.drain()
    assert report.retried == 1 and report.slow_down == 7 and world.sender.sent == []
    assert world.drain().claimed == 0  # waiting out the retry-after
    world.clock.now += timedelta(seconds=8)
    assert world.drain().sent == 1 and world.drain().claimed == 0


def test_the_weekly_digest_tells_a_supervisor_who_practised_who_has_not_started_and_who_is_one_step_away(world):
    boss = world.learner("2000", name="李主管", role=Role.SUPERVISOR)
    members = {name: world.learner(str(3000 + i), name=name) for i, name in enumerate(("张三", "李四", "王五"))}
    with world.uow.begin() as session:
        for learner_id in members.values():
            world.core.learners.set_supervisor(session, learner_id, boss)
        # 张三 7/10 on 产品理解力 情境模拟测验: 等级2, one right answer from 等级3 (cut 8); 李四 started, idle this week
        records = RecordRepository()
        for name, raw, level in (("张三", 7, 2), ("李四", 3, 0)):
            records.add_entry(
                session, learner_id=members[name], competency="产品理解力", instrument="situational", raw_score=raw,
                max_score=10, level=level, cycle="2026H2", now=datetime(2026, 11, 2), entered_by=None,
            )  # fmt: skip
    version = world.publish(practice_set())
    with world.uow.begin() as session:  # 张三 answered the daily question on two days last week
        for day in (17, 19):
            world.core.reminders.reminders.add_daily_answer(  # type: ignore[union-attr]
                session, learner_id=members["张三"], version_id=version, question_key="客户洞察力-0", correct=True,
                now=datetime(2026, 11, day, 4, 0),
            )  # fmt: skip
    world.clock.now = MONDAY_0900
    assert world.plan().digest == 1 and world.plan().digest == 0
    world.drain()
    (_, replies), *_ = [s for s in world.sender.sent if s[0] == "2000"]
    text = replies[0].text  # type: ignore[union-attr]
    assert "11-16 至 11-22" in text and "共 3 人" in text
    assert "本周练习过(1):张三(2 天)" in text
    assert "本周没有练习(1):李四" in text
    assert "还没开始(本周期没有成绩,也没做过题)(1):王五" in text
    assert "张三:产品理解力 情境模拟测验 再答对 1 题可达 等级3" in text
    world.clock.now += timedelta(days=1)
    assert world.plan().digest == 0  # Tuesday: not the digest's day


def test_a_worker_killed_between_claim_and_send_leaves_the_message_to_another_after_the_lease(world):
    _with_due_mistake(world)
    world.clock.now = MONDAY_0900
    world.plan()
    assert len(world.drainer.claim()) == 1  # worker A claimed … and died before sending
    survivor_sender = FakeSender()
    survivor = OutboxDrainer(world.uow, survivor_sender, "worker-b", world.drainer.policy, clock=world.clock)
    assert asyncio.run(survivor.drain_once()).claimed == 0  # A's lease still holds
    world.clock.now += world.drainer.policy.lease + timedelta(seconds=1)
    assert asyncio.run(survivor.drain_once()).sent == 1
    assert asyncio.run(survivor.drain_once()).claimed == 0 and world.drain().claimed == 0
    assert len(survivor_sender.sent) == 1 and world.sender.sent == []
    (row,) = _rows(world)
    assert (row.status, row.claimed_by, row.attempts) == ("sent", "worker-b", 2)
