"""Readiness checks: each one reports what is wrong in words an operator can act on, and never raises."""

from __future__ import annotations

import socket

from alembic import command

from app.composition import Services
from app.health import readiness
from storage.schema import alembic_config


def _by_name(services: Services) -> dict[str, tuple[bool, str]]:
    return {c.name: (c.ok, c.detail) for c in readiness(services).checks}


def test_a_fresh_worker_is_not_ready_until_the_index_is_loaded(lexical_settings):
    services = Services(lexical_settings)
    services.uow  # noqa: B018 — schema at head
    checks = _by_name(services)
    assert checks["database"][0] is True
    assert checks["knowledge_index"] == (False, "not loaded yet")
    services.search  # noqa: B018
    assert readiness(services).ready


def test_a_schema_behind_the_code_says_to_run_the_upgrade(lexical_settings):
    services = Services(lexical_settings)
    services.search  # noqa: B018
    config = alembic_config(services.settings.database_url)
    command.downgrade(config, "0003")
    ok, detail = _by_name(services)["database"]
    assert not ok and "coach db upgrade" in detail
    assert not readiness(services).ready


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_chroma_server_matters_only_when_dense_retrieval_is_on(lexical_settings):
    server = lexical_settings.vector_store.model_copy(update={"mode": "server", "port": _closed_port()})
    no_dense = lexical_settings.retrieval.model_copy(update={"dense_weight": 0.0})
    lexical_only = Services(lexical_settings.model_copy(update={"vector_store": server, "retrieval": no_dense}))
    assert _by_name(lexical_only)["vector_store"][0] is True

    dense = lexical_settings.retrieval.model_copy(update={"dense_weight": 0.3})
    fused = Services(lexical_settings.model_copy(update={"vector_store": server, "retrieval": dense}))
    ok, detail = _by_name(fused)["vector_store"]
    assert not ok and detail  # the connection error, as text
