"""The console has no background: before each prompt it plans, drains its outbox rows and prints what is due."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta

from bot.channels.console.chat import LOCAL_USER, run_console_chat
from bot.channels.console.outbox_sender import ConsoleReplySender, due_reminders
from bot.core.outbox import DrainPolicy, OutboxDrainer
from bot.core.reminder_plan import ReminderPlanner
from bot.core.roles import Role
from tests.reminders.conftest import World, practice_set


def test_a_due_review_prints_before_the_prompt_with_its_button_pressable_by_number(world: World, tmp_path):
    me = world.core.provision(LOCAL_USER, name="控制台用户", employee_no="LOCAL0001", region="本机", level="中级",
                              role=Role.ADMIN)  # fmt: skip
    version = world.publish(practice_set())
    world.add_mistake(me.learner_id, version, "客户洞察力-0", due=world.clock() - timedelta(days=1))
    world.clock.now = datetime(2026, 11, 23, 1, 0)  # 09:00 in Shanghai
    tokens = (f"ctok{i}" for i in itertools.count())
    schedule = replace(world.planner.schedule, channels=("console",))
    planner = ReminderPlanner(world.uow, schedule, new_token=lambda: next(tokens), clock=world.clock)
    sender = ConsoleReplySender()
    drainer = OutboxDrainer(world.uow, sender, "console-1", DrainPolicy(messages_per_second=10), clock=world.clock)
    lines = iter(["1", "/quit"])
    out: list[str] = []
    run_console_chat(
        world.core, read=lambda _: next(lines), write=out.append, files_dir=tmp_path,
        reminders=due_reminders(planner, drainer, sender, address=LOCAL_USER.external_id),
    )  # fmt: skip
    shown = "\n".join(out)
    assert "1 道题到期" in shown and "[1] 开始复习" in shown
    assert "【错题复习】" in shown  # typing 1 pressed 开始复习
    assert shown.count("道题到期") == 1  # the second prompt found nothing new
