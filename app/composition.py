"""The composition root: the only place that names concrete classes and wires them from `Settings`. `Services` is
its façade; the knowledge base's part (search, answerer, embeddings, the dense and lexical stores, ingest) is its
base class `KnowledgeServices` in `app/knowledge_wiring.py`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from app.knowledge_wiring import KnowledgeServices, ServicesKnowledge
from app.settings import WEEKDAYS, Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.worker_runtime import ServicesWorker
    from bot.core.conversation import Conversation
    from bot.core.delivery import ReplySender
    from bot.core.outbox import OutboxDrainer
    from bot.core.reminder_chat import ReminderChat
    from bot.core.reminder_plan import ReminderPlanner, ReminderSchedule
    from knowledge.dense_guard import GuardedDenseIndex
    from storage.db import UnitOfWork

# Each service imports its classes when it is first built, not when this module is imported: `coach quiz list`
# needs one Core query only (not even the ORM or the mapped models: `engine_at_head`), and torch, Chroma,
# LangChain, jieba and matplotlib cost seconds to import (bench/startup_bench.py measures the commands).


def _render_radar_png(**drawing: Any) -> bytes:
    """The radar chart, importing matplotlib (~0.4 s) at the first /record instead of when the chat starts."""
    from certification.radar import render_radar_png

    return render_radar_png(**drawing)


@dataclass
class Services(KnowledgeServices):
    """Lazily built services for one process. Heavy parts (model, Chroma, index) load on first use."""

    settings: Settings
    _dense_guard: GuardedDenseIndex | None = field(default=None, init=False)  # the current search's dense side

    @cached_property
    def engine(self) -> Engine:
        from storage.db import create_database_engine

        return create_database_engine(self.settings.database_url)

    @cached_property
    def engine_at_head(self) -> Engine:
        """The engine once the schema is at head (upgraded first when it is not): for a Core-only reader, which
        need not import the ORM (`coach quiz list`); `uow` is built on it."""
        from storage.schema import upgrade_to_head

        upgrade_to_head(self.engine)
        return self.engine

    @cached_property
    def uow(self) -> UnitOfWork:
        from storage.db import UnitOfWork

        return UnitOfWork(self.engine_at_head)

    def warm_up(self) -> None:
        """Everything the first question would otherwise wait for: the schema check, the knowledge index and,
        when dense retrieval is on, the embedding model."""
        self.uow  # noqa: B018
        self.search  # noqa: B018
        if (self.settings.retrieval.dense_weight > 0 and self.dense is not None) or self.unit_similarity is not None:
            self.embeddings.embed_query("预热")

    @cached_property
    def conversation(self) -> Conversation:
        """The channel-neutral conversation core every channel talks to."""
        from bot.core.conversation import Conversation
        from bot.core.quiz_chat import QuizChat
        from bot.core.record_chat import RecordChat
        from quizzes.attempts import QuizAttempts
        from storage.interaction_repository import InteractionRepository
        from storage.learner_repository import LearnerRepository
        from storage.quiz_repository import QuizRepository
        from storage.record_repository import RecordRepository

        return Conversation(
            uow=self.uow,
            knowledge=ServicesKnowledge(self),
            learners=LearnerRepository(),
            interactions=InteractionRepository(),
            quizzes=QuizChat(QuizAttempts(QuizRepository(), RecordRepository()), QuizRepository()),
            records=RecordChat(
                RecordRepository(),
                LearnerRepository(),
                render_radar=_render_radar_png,
                streak_line=self.reminder_chat.streak_line,
            ),
            reminders=self.reminder_chat,
            invite_valid_for=self.invite_valid_for,
            time_zone=ZoneInfo(self.settings.app.time_zone),
        )

    @cached_property
    def worker(self) -> ServicesWorker:
        """What a channel's worker process runs on: warm-up, readiness, the background loops."""
        from app.worker_runtime import ServicesWorker

        return ServicesWorker(self)

    @cached_property
    def reminder_schedule(self) -> ReminderSchedule:
        from bot.core.quiet_hours import QuietHours, parse_clock
        from bot.core.reminder_plan import ReminderSchedule

        r = self.settings.reminders

        def clock(text: str) -> time:
            parsed = parse_clock(text)
            assert parsed is not None  # the settings validated it
            return parsed

        return ReminderSchedule(
            time_zone=ZoneInfo(self.settings.app.time_zone),
            quiet=QuietHours(clock(r.quiet_start), clock(r.quiet_end)),
            review_time=clock(r.review_time),
            digest_weekday=WEEKDAYS.index(r.digest_weekday),
            digest_time=clock(r.digest_time),
            channels=r.channels,
        )

    @cached_property
    def reminder_chat(self) -> ReminderChat:
        """/remind, the daily question's buttons, the streak line."""
        from bot.core.reminder_chat import ReminderChat
        from bot.core.streaks import Streaks
        from storage.quiz_repository import QuizRepository
        from storage.reminder_repository import ReminderRepository

        schedule = self.reminder_schedule
        streaks = Streaks(ReminderRepository(), schedule.time_zone)
        return ReminderChat(ReminderRepository(), QuizRepository(), streaks, schedule.quiet)

    @cached_property
    def reminder_planner(self) -> ReminderPlanner:
        """Queues what is due (review reminders, daily questions, digests) into the outbox."""
        import secrets

        from bot.core.reminder_plan import ReminderPlanner

        return ReminderPlanner(self.uow, self.reminder_schedule, new_token=lambda: secrets.token_urlsafe(12))

    def outbox_drainer(self, sender: ReplySender, *, worker: str) -> OutboxDrainer:
        """Sends due outbox rows of `sender`'s channel through it, at the rate all workers share."""
        from bot.core.outbox import DrainPolicy, OutboxDrainer

        r = self.settings.reminders
        policy = DrainPolicy(
            messages_per_second=r.messages_per_second,
            batch_size=r.batch_size,
            lease=timedelta(seconds=r.lease_seconds),
            max_attempts=r.max_attempts,
        )
        renderers = self.conversation.records.renderers if self.conversation.records is not None else {}
        return OutboxDrainer(self.uow, sender, worker, policy, renderers=renderers)

    @property
    def reply_renderers(self) -> Mapping[str, Callable[..., bytes]]:
        """How stored pictures are drawn again (the radar), for channels that send stored replies themselves."""
        records = self.conversation.records
        return records.renderers if records is not None else {}

    @property
    def invite_valid_for(self) -> timedelta:
        """How long an admin's invite code works (`registration.invite_valid_days`)."""
        return timedelta(days=self.settings.registration.invite_valid_days)
