"""The newest version of every quiz set, in SQLAlchemy Core: what `coach quiz list` prints and what publishing compares.

`coach quiz list` runs it on a plain connection, so it never imports the ORM or the mapped models (together more
than half of its start-up; bench/startup_bench.py); `QuizRepository.latest_versions` runs the same query through
its session. The two tables are named here as lightweight `table()`s with only the columns the listing reads:
tests/storage/test_quiz_listing.py holds each of them to `storage.models`' table of that name, and the result
to the ORM rows it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Integer, Select, String, Text, column, func, select, table

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class PublishedSet:
    set_id: int
    version_id: int
    version: int
    title: str
    competency: str
    instrument: str
    level: str
    mode: str
    retired: bool
    content: str


QUIZ_SETS = table(
    "quiz_sets",
    column("id", Integer),
    column("title", String),
    column("competency", String),
    column("instrument", String),
    column("level", String),
    column("mode", String),
    column("retired_at", DateTime),
)
QUIZ_VERSIONS = table(
    "quiz_versions",
    column("id", Integer),
    column("quiz_set_id", Integer),
    column("version", Integer),
    column("content", Text),
)


def latest_versions_query(*, include_retired: bool) -> Select:
    """One row per set, its newest version, in PublishedSet's field order; by competency, level, set id."""
    sets, versions = QUIZ_SETS.c, QUIZ_VERSIONS.c
    newest = (
        select(versions.quiz_set_id, func.max(versions.version).label("v")).group_by(versions.quiz_set_id).subquery()
    )
    query = (
        select(
            sets.id,
            versions.id.label("version_id"),
            versions.version,
            sets.title,
            sets.competency,
            sets.instrument,
            sets.level,
            sets.mode,
            sets.retired_at,
            versions.content,
        )
        .select_from(QUIZ_SETS)
        .join(newest, newest.c.quiz_set_id == sets.id)
        .join(QUIZ_VERSIONS, (versions.quiz_set_id == sets.id) & (versions.version == newest.c.v))
        .order_by(sets.competency, sets.level, sets.id)
    )
    return query if include_retired else query.where(sets.retired_at.is_(None))


def latest_versions(db: Connection | Session, *, include_retired: bool = False) -> list[PublishedSet]:
    """The newest version of each set (retired ones too when asked), on a connection or a session."""
    rows = db.execute(latest_versions_query(include_retired=include_retired))
    return [
        PublishedSet(
            set_id, version_id, version, title, competency, instrument, level, mode, retired_at is not None, content
        )
        for set_id, version_id, version, title, competency, instrument, level, mode, retired_at, content in rows
    ]
