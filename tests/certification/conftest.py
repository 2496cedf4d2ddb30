"""Record tests that touch storage run on SQLite and PostgreSQL, with the storage suite's fixtures."""

from tests.storage.conftest import database_url, engine, postgres_scratch_url, uow  # noqa: F401
