"""The quiz listing in SQLAlchemy Core (storage/quiz_listing.py), on SQLite and PostgreSQL.

`coach quiz list` reads the newest version of each set without importing the ORM or the mapped models (their
imports were over half of its start-up; bench/startup_bench.py measures it). So the listing names its two tables
itself, lightly: these tests hold those names to storage.models, its rows to what the ORM says the newest versions
are, and the command to its imports and its output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select

from quizzes.loading import load_quiz_file
from quizzes.model import QuizSet
from quizzes.serialization import quiz_to_json
from storage.db import UnitOfWork
from storage.models import Base, QuizSetRecord, QuizVersion
from storage.quiz_listing import QUIZ_SETS, QUIZ_VERSIONS, PublishedSet, latest_versions
from storage.quiz_repository import QuizRepository
from tests.support.certification_sets import certification_set_yaml

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 1, 9, 0)
# what `coach quiz list` must not import: the ORM and the models behind it (and alembic: the schema is at head)
NOT_FOR_THE_LISTING = ("sqlalchemy.orm", "storage.models", "storage.quiz_repository", "alembic")


def _certification() -> QuizSet:
    loaded = load_quiz_file(Path("cert.yaml"), data=certification_set_yaml("产品理解力", title="产品情境认证").encode())
    assert loaded.ok and loaded.quiz is not None, loaded.result.errors
    return loaded.quiz


def _publish(uow: UnitOfWork, quiz: QuizSet, *, title: str | None = None, content: str | None = None) -> None:
    """Straight into the repository, as a release before the programme rule would have stored it."""
    with uow.begin() as session:
        QuizRepository().publish(
            session, title=title or quiz.title, competency=quiz.competency, instrument=quiz.instrument,
            level=quiz.level, mode=quiz.mode, content=content or quiz_to_json(quiz), source_name="t.yaml", by=None,
            now=NOW,
        )  # fmt: skip


def _seed(engine: Engine) -> None:
    """练习甲 in two versions, 练习乙 retired, a conformant certification set and one stored before the rule."""
    uow = UnitOfWork(engine)
    certification = _certification()
    practice = replace(certification, mode="practice", level="初级")
    _publish(uow, practice, title="练习甲", content="第一版")
    _publish(uow, practice, title="练习甲", content="第二版")
    _publish(uow, replace(practice, competency="客户洞察力"), title="练习乙", content="乙")
    with uow.begin() as session:
        retired = session.scalars(select(QuizSetRecord.id).where(QuizSetRecord.title == "练习乙")).one()
        assert QuizRepository().retire(session, retired, NOW)
    _publish(uow, certification)
    old = replace(certification, draw=3, cut_scores=(1, 2, 3), questions=certification.questions[:3])
    _publish(uow, old, title="旧认证")


def _newest_by_the_orm(engine: Engine, *, include_retired: bool) -> list[PublishedSet]:
    """What the listing stands for, asked of the mapped models one set at a time, in the database's own order."""
    with UnitOfWork(engine).read() as session:
        ordered = session.scalars(
            select(QuizSetRecord).order_by(QuizSetRecord.competency, QuizSetRecord.level, QuizSetRecord.id)
        ).all()
        found = []
        for record in ordered:
            newest = session.scalars(
                select(QuizVersion).where(QuizVersion.quiz_set_id == record.id).order_by(QuizVersion.version.desc())
            ).first()
            if newest is None or (record.retired_at is not None and not include_retired):
                continue
            published = PublishedSet(
                record.id, newest.id, newest.version, record.title, record.competency, record.instrument,
                record.level, record.mode, record.retired_at is not None, newest.content,
            )  # fmt: skip
            found.append(published)
        return found


def test_the_listing_names_only_columns_the_models_have_with_their_types():
    for light in (QUIZ_SETS, QUIZ_VERSIONS):
        mapped = Base.metadata.tables[light.name]
        for column in light.columns:
            assert column.name in mapped.c, f"{light.name}.{column.name} is not in storage.models"
            assert column.type.python_type is mapped.c[column.name].type.python_type, f"{light.name}.{column.name}"


def test_the_core_listing_is_what_the_orm_says_on_a_connection_and_in_a_session(engine):
    _seed(engine)
    for include_retired in (True, False):
        expected = _newest_by_the_orm(engine, include_retired=include_retired)
        with engine.connect() as connection:
            assert latest_versions(connection, include_retired=include_retired) == expected
        with UnitOfWork(engine).read() as session:
            assert QuizRepository().latest_versions(session, include_retired=include_retired) == expected
    titles = {p.title: p for p in _newest_by_the_orm(engine, include_retired=True)}
    assert titles["练习甲"].version == 2 and titles["练习甲"].content == "第二版"
    assert titles["练习乙"].retired and len(titles) == 4


def test_coach_quiz_list_prints_every_set_without_importing_the_orm(engine, database_url, tmp_path):
    """A fresh process, as a trainer starts it: the sets with their states, and none of the ORM's modules."""
    _seed(engine)
    code = (
        "import sys\nfrom app.cli import main\ncode = main(['quiz', 'list'])\n"
        f"print('LOADED:' + ' '.join(m for m in {NOT_FOR_THE_LISTING!r} if m in sys.modules), code)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    env.update(COACH_DATA_DIR=str(tmp_path / "data"), COACH_STORAGE__DATABASE_URL=database_url)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    listing, loaded = done.stdout.rsplit("LOADED:", 1)
    assert loaded.split() == ["0"], done.stderr  # exit code 0, and not one of NOT_FOR_THE_LISTING
    rows = [line.split("\t") for line in listing.splitlines()]
    assert {row[-1]: (row[1], row[-2]) for row in rows} == {
        "练习甲": ("v2", "在用"),
        "练习乙": ("v1", "已下线"),
        "产品情境认证": ("v1", "在用"),
        "旧认证": ("v1", "不符合能力体系,不能开考"),
    }
    assert all(row[4] == "情境模拟测验" for row in rows)
