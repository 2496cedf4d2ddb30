"""Background loops log one line per failed round while the database is away, and a bug's whole traceback."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from app.worker_runtime import keep_search_current
from storage.faults import log_retry


def _database_down() -> OperationalError:
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing", connect_args={"connect_timeout": 2})
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        return exc
    finally:
        engine.dispose()
    raise AssertionError("port 1 answered")


class _Unreachable:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.rounds = 0

    @property
    def search(self) -> object:
        self.rounds += 1
        raise self.error


def test_a_refresher_logs_one_line_per_round_while_the_database_is_away(caplog: pytest.LogCaptureFixture) -> None:
    services = _Unreachable(_database_down())

    async def run() -> None:
        task = asyncio.create_task(keep_search_current(services, 0.01))  # type: ignore[arg-type]
        while services.rounds < 3:
            await asyncio.sleep(0.01)
        task.cancel()

    with caplog.at_level(logging.WARNING, logger="app.worker_runtime"):
        asyncio.run(run())
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) >= 3
    assert all(r.exc_info is None for r in warnings)  # no 115-line traceback each round
    assert all("unreachable" in r.getMessage() for r in warnings)


def test_a_bug_in_a_loop_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.loop")
    with caplog.at_level(logging.WARNING, logger="tests.loop"):
        try:
            SimpleNamespace().missing  # noqa: B018
        except AttributeError as exc:
            log_retry(log, "a round failed", exc)
    (record,) = caplog.records
    assert record.exc_info is not None
