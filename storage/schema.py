"""Run Alembic migrations from code (`coach db upgrade`, tests, the Docker prestart)."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported by the functions that run it: a process whose database is already at head (every
# `coach` command after the first) checks the revision with one query and never imports it (~0.25 s).

# Any constant: PostgreSQL advisory lock key serialising schema upgrades between processes.
UPGRADE_LOCK_KEY = 0x636F616368  # "coach"

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database schema to the newest revision (idempotent).

    On PostgreSQL a transaction-scoped advisory lock serialises upgrades, so N workers starting together on a
    fresh database do not race to create the same tables (the later ones find the schema at head).
    """
    if _stored_revision(engine) == head_revision_from_files():
        return
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|None)\s*$", re.M)


@functools.cache
def head_revision_from_files() -> str | None:
    """The head revision read from the migration files' `revision =` / `down_revision =` lines, without Alembic;
    None when they are not one plain chain (a merge, a tuple): then the caller asks Alembic."""
    revisions: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found = {m.group(1): m.group(2) or m.group(3) for m in _REVISION_LINE.finditer(path.read_text("utf-8"))}
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions[found["revision"]] = found["down_revision"]  # type: ignore[index]
    heads = set(revisions) - {down for down in revisions.values() if down}
    return heads.pop() if len(heads) == 1 else None


def _stored_revision(engine: Engine) -> str | None:
    """The revision in alembic_version (one row), or None when there is none or the table is missing."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return None
    return rows[0] if len(rows) == 1 else None


@functools.cache
def head_revision() -> str | None:
    """The newest migration this code knows (read from the migration files once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
