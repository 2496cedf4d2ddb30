"""SQLAlchemy 2.0 models, one module per domain over one shared `Base`. Migrations in storage/migrations must match
these (a test checks).

Import the models from here (`from storage.models import Learner`): importing the package loads every module, so
`Base.metadata` holds every table (what Alembic compares with) and the mapper registry knows every class.
"""

from storage.models.base import Base
from storage.models.interactions import AnswerRating, AskedQuestion, ButtonAction, ChannelAccessToken, ProcessedUpdate
from storage.models.knowledge import (
    EmbeddingVector,
    IngestLockHolder,
    KnowledgeChunk,
    KnowledgeDocument,
    KnowledgeState,
    StagedChunk,
    StagedDocument,
    UnitVector,
)
from storage.models.people import ChannelIdentity, InviteCode, Learner, Registration
from storage.models.quiz import AttemptAnswer, Mistake, QuizAttempt, QuizSetRecord, QuizUpload, QuizVersion, RetakeGrant
from storage.models.record import JobLevelChange, RecordEntryRow
from storage.models.study_habit import DailyAnswer, OutboxMessage, ReminderBlock, ReminderPreference, SendRate

__all__ = [
    "AnswerRating",
    "AskedQuestion",
    "AttemptAnswer",
    "Base",
    "ButtonAction",
    "ChannelAccessToken",
    "ChannelIdentity",
    "DailyAnswer",
    "EmbeddingVector",
    "IngestLockHolder",
    "InviteCode",
    "JobLevelChange",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "KnowledgeState",
    "Learner",
    "Mistake",
    "OutboxMessage",
    "ProcessedUpdate",
    "QuizAttempt",
    "QuizSetRecord",
    "QuizUpload",
    "QuizVersion",
    "RecordEntryRow",
    "Registration",
    "ReminderBlock",
    "ReminderPreference",
    "RetakeGrant",
    "SendRate",
    "StagedChunk",
    "StagedDocument",
    "UnitVector",
]
