"""Times a person reads are in the programme's time zone ([app] time_zone), never the stored UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.local_time import local_time_text
from bot.core.messages import ChannelUser, Inbound
from bot.core.roles import Role


def test_stored_utc_is_shown_in_the_zone():
    stored = datetime(2026, 6, 30, 20, 5)  # naive UTC, as the database keeps it
    assert local_time_text(stored, ZoneInfo("Asia/Shanghai")) == "2026-07-01 04:05"
    assert local_time_text(stored, ZoneInfo("Asia/Shanghai"), "%m-%d %H:%M") == "07-01 04:05"
    assert local_time_text(stored, ZoneInfo("Europe/Berlin")) == "2026-06-30 22:05"


def test_unanswered_questions_are_listed_in_beijing_time_by_default(core):
    trainer = ChannelUser("console", "t")
    core.provision(trainer, name="培训师", employee_no="T9", region="省", level="高级", role=Role.TRAINER)
    core.clock = lambda: datetime(2026, 11, 23, 17, 30)  # 01:30 the next day in Beijing
    core.handle(Inbound.from_text(trainer, "食堂几点开饭"))
    report = core.handle(Inbound.from_text(trainer, "/unanswered")).replies[0].text
    assert "11-24 01:30 食堂几点开饭" in report


def test_the_zone_is_the_conversations_setting(core):
    core.time_zone = ZoneInfo("UTC")
    trainer = ChannelUser("console", "t")
    core.provision(trainer, name="培训师", employee_no="T9", region="省", level="高级", role=Role.TRAINER)
    core.clock = lambda: datetime(2026, 11, 23, 17, 30)
    core.handle(Inbound.from_text(trainer, "食堂几点开饭"))
    assert "11-23 17:30 食堂几点开饭" in core.handle(Inbound.from_text(trainer, "/unanswered")).replies[0].text


def test_coach_report_and_the_composed_chat_use_the_setting(tmp_path, monkeypatch, capsys):
    import argparse

    from app.commands import cmd_report
    from app.composition import Services
    from app.settings import load_settings
    from storage.interaction_repository import InteractionRepository

    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    services = Services(load_settings(data_dir=tmp_path))
    learner = services.conversation.provision(
        ChannelUser("console", "t"), name="培训师", employee_no="T9", region="省", level="高级", role=Role.TRAINER
    )
    with services.uow.begin() as session:
        InteractionRepository().add_question(
            session,
            learner_id=learner.learner_id,
            question="食堂几点开饭",
            collections="",
            found=False,
            chunk_ids=[],
            now=datetime(2026, 11, 23, 17, 30),  # stored UTC
        )
    assert cmd_report(argparse.Namespace(limit=20), services) == 0
    assert capsys.readouterr().out == "2026-11-24 01:30\t食堂几点开饭\n"
    berlin = Services(load_settings(data_dir=tmp_path, app={"time_zone": "Europe/Berlin"}))
    assert berlin.conversation.time_zone == ZoneInfo("Europe/Berlin")
