"""Whether a file someone sends is worth fetching at all: checked before any byte is downloaded."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.messages import ChannelUser
from bot.core.roles import Role
from storage.db import UnitOfWork
from storage.learner_repository import LearnerRepository

UPLOAD_ROLES = frozenset({Role.TRAINER, Role.ADMIN})  # who publishes quiz files (QuizChat.upload checks again)


@dataclass(frozen=True)
class UploadGate:
    """Strangers and learners have their files refused from the file's name alone; only trainers' and admins'
    files are downloaded (a stranger must not make every worker fetch 10 MB at will)."""

    uow: UnitOfWork
    learners: LearnerRepository

    def may_upload(self, user: ChannelUser) -> bool:
        with self.uow.read() as session:
            learner = self.learners.find_by_identity(session, channel=user.channel, external_id=user.external_id)
        return learner is not None and Role(learner.role) in UPLOAD_ROLES
