"""A database already at head is checked with one query, without importing Alembic (start-up time, issue 12)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from storage.schema import head_revision, head_revision_from_files, upgrade_to_head

REPO = Path(__file__).resolve().parents[2]


def test_the_head_read_from_the_files_is_alembics_head():
    assert head_revision_from_files() == head_revision()


def test_an_empty_database_is_upgraded_and_a_current_one_is_left_alone_without_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'coach.sqlite3'}"
    upgrade_to_head(create_engine(url))
    with create_engine(url).connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head_revision()
    code = (
        "import sys\nfrom sqlalchemy import create_engine\nfrom storage.schema import upgrade_to_head\n"
        f"upgrade_to_head(create_engine({url!r}))\nprint('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
