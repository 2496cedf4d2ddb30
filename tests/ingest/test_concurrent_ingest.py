"""Two ingests of one collection at once (issue 13, item 2): the second waits for the first (or, with --no-wait,
says who holds the collection and exits), and no run ever removes vectors it did not add.

On PostgreSQL (a scratch database) with real Chroma and real `coach ingest` processes; the SQLite file lock too."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.composition import Services
from storage.ingest_lock import IngestBusy, LockHolder, ingest_lock
from storage.models import KnowledgeDocument
from tests.conftest import make_settings
from tests.support.generated_documents import write_long_markdown
from tests.support.postgres import lock_waits

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def _services(data_dir: Path, database_url: str) -> Services:
    settings = make_settings(data_dir)
    return Services(
        settings.model_copy(update={"storage": settings.storage.model_copy(update={"database_url": database_url})})
    )


@pytest.mark.postgres
def test_a_second_ingest_during_the_first_commit_leaves_every_vector(empty_postgres, tmp_path):
    """The forced interleaving of the report: run A holds its transaction open (its passages written, the commit
    not yet made) while run B ingests the same file. Before the lock B read the file as new, wrote the same chunk
    ids, died on the unique index once A committed, and its rollback deleted the vectors A had just added: 24
    passages in the database, 0 vectors. Now B waits for A, then finds the file unchanged."""
    services = _services(tmp_path / "data", empty_postgres)
    document = write_long_markdown(tmp_path / "docs" / "手册.md", sections=24)
    release, a_paused = threading.Event(), threading.Event()
    real_bump = services.repository.bump_generation

    def bump_held_open_for_a(session):  # type: ignore[no-untyped-def]
        if threading.current_thread().name == "A":
            a_paused.set()
            assert release.wait(120)
        return real_bump(session)

    services.repository.bump_generation = bump_held_open_for_a  # type: ignore[method-assign]
    errors: dict[str, BaseException] = {}
    reports = {}

    def run(name: str) -> None:
        try:
            reports[name] = services.ingest_pipeline().run([document], collection="processes")
        except BaseException as exc:  # the test reports it
            errors[name] = exc

    a = threading.Thread(target=run, args=("A",), name="A")
    a.start()
    assert a_paused.wait(180), errors
    b = threading.Thread(target=run, args=("B",), name="B")
    b.start()
    deadline = time.monotonic() + 120
    while lock_waits(empty_postgres) == 0 and b.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)  # B is blocked: on the ingest lock now, on A's unique index entries before
    release.set()
    a.join(180)
    b.join(180)

    assert services.dense is not None
    with services.uow.read() as session:
        stored = services.repository.all_chunk_ids(session)
    assert len(stored) == 24
    assert services.dense.all_ids(["processes"]) == stored  # before: set(), B's rollback took A's vectors
    assert errors == {}  # before: B died on UniqueViolation (uq_document_source)
    assert reports["B"].count("unchanged") == 1


@pytest.mark.postgres
def test_two_ingest_processes_racing_wait_for_each_other(empty_postgres, tmp_path):
    """Real `coach ingest` processes on one PostgreSQL database: while the collection is held, --no-wait exits
    75 naming the holder (pid, host); two others wait, saying for whom, then race when it is free — one adds the
    files, the other finds them unchanged; no traceback, every document once."""
    folder = tmp_path / "docs"
    for number in range(3):
        write_long_markdown(folder / f"手册{number}.md", sections=30, seed=number, title=f"操作手册{number}")
    env = {
        **os.environ,
        "COACH_STORAGE__DATABASE_URL": empty_postgres,
        "COACH_VECTOR_STORE__MODE": "off",  # two processes must not share one embedded Chroma folder
        "COACH_DATA_DIR": str(tmp_path / "data"),
    }
    coach = [sys.executable, "-m", "app.cli", "ingest", str(folder), "--collection", "cases", "--json"]
    engine = create_engine(empty_postgres)
    try:
        with ingest_lock(engine, "cases") as me:
            refused = subprocess.run(
                [*coach, "--no-wait"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
            )
            assert refused.returncode == 75, refused.stderr
            assert "正在写入这个知识库" in refused.stderr and "--no-wait" in refused.stderr
            assert f"进程 {me.pid}" in refused.stderr and f"主机 {socket.gethostname()}" in refused.stderr
            assert "Traceback" not in refused.stderr

            logs = [tmp_path / f"racer{i}.err" for i in range(2)]
            racers = [
                subprocess.Popen(coach, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
                for log in logs
            ]
            deadline = time.monotonic() + 240
            while not all("等它结束后再开始" in log.read_text("utf-8") for log in logs):
                assert time.monotonic() < deadline, [log.read_text("utf-8") for log in logs]
                assert all(r.poll() is None for r in racers), [log.read_text("utf-8") for log in logs]
                time.sleep(0.2)
            assert all(f"进程 {me.pid}" in log.read_text("utf-8") for log in logs)
        outputs = [r.communicate(timeout=300)[0] for r in racers]
        assert [r.returncode for r in racers] == [0, 0], [log.read_text("utf-8") for log in logs]
        assert not any("Traceback" in log.read_text("utf-8") for log in logs)
        statuses = sorted(sorted({f["status"] for f in json.loads(out)["files"]}) for out in outputs)
        assert statuses == [["added"], ["unchanged"]]
        with engine.connect() as connection:
            paths = (
                connection.execute(text(f"SELECT source_path FROM {KnowledgeDocument.__tablename__}")).scalars().all()
            )
        assert sorted(Path(p).name for p in paths) == ["手册0.md", "手册1.md", "手册2.md"]
    finally:
        engine.dispose()


def test_on_sqlite_a_second_ingest_waits_or_is_refused(lexical_settings, tmp_path):
    """SQLite: the lock is a flock beside the database file; the same two behaviours."""
    services = Services(lexical_settings)
    document = write_long_markdown(tmp_path / "docs" / "手册.md", sections=5)
    told: list[LockHolder | None] = []
    result: dict[str, object] = {}
    with ingest_lock(services.uow.engine, "general") as me:
        with pytest.raises(IngestBusy) as busy:
            services.ingest_pipeline().run([document], collection="general", wait=False)
        assert busy.value.holder == me
        waiter = threading.Thread(
            target=lambda: result.update(
                report=services.ingest_pipeline().run([document], collection="general", on_wait=told.append)
            )
        )
        waiter.start()
        deadline = time.monotonic() + 60
        while not told and time.monotonic() < deadline:
            time.sleep(0.05)
        assert told == [me]
        time.sleep(0.3)
        assert waiter.is_alive()  # still waiting: nothing was written under the held lock
        with services.uow.read() as session:
            assert services.repository.list_documents(session) == []
    waiter.join(60)
    report = result["report"]
    assert report.count("added") == 1  # type: ignore[attr-defined]


def test_a_failed_completion_keeps_the_vectors_it_did_not_add(settings, tmp_path):
    """The dense index already holds the chunk ids this run writes (another run added them); the run's commit
    fails: its rollback removes nothing of those. Before, it deleted every id it had written."""
    services = Services(settings)
    document = write_long_markdown(tmp_path / "docs" / "手册.md", sections=6)
    services.ingest_pipeline().run([document], collection="general")
    assert services.dense is not None
    before = services.dense.all_ids()
    assert len(before) == 6
    with services.uow.begin() as session:  # the database forgets the document; the vectors stay
        services.repository.delete_document(session, collection="general", source_path=str(document.resolve()))

    def broken_bump(session):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    services.repository.bump_generation = broken_bump  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        services.ingest_pipeline().run([document], collection="general")
    assert services.dense.all_ids() == before


@pytest.mark.postgres
def test_a_lost_lock_connection_neither_hides_the_runs_error_nor_keeps_the_collection_locked(empty_postgres):
    """The server ends the lock's connection mid-run (a restart, an operator's pg_terminate_backend): leaving the
    lock raised the unlock's OperationalError in place of the run's own error. Now the run's error comes out,
    and the collection is free (the server dropped the lock with the connection)."""
    engine = create_engine(empty_postgres)
    kill = (
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    try:
        with pytest.raises(RuntimeError, match="the run's own error"), ingest_lock(engine, "cases"):
            with engine.connect() as connection:
                assert connection.execute(text(kill)).scalars().all() == [True]
            raise RuntimeError("the run's own error")
        with ingest_lock(engine, "cases", wait=False) as me:
            assert me.pid == os.getpid()
    finally:
        engine.dispose()
