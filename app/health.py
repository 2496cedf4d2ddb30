"""Readiness of a running bot: what a load balancer asks before sending it updates (`GET /readyz`).

Liveness (`GET /healthz`) only says the process answers; readiness says it can do its work now: the database
answers and its schema is the one this code expects, the knowledge index is loaded, and — when dense retrieval
is on — the Chroma server answers. A dense index that misses passages or holds orphans (counted when the search is
built) is reported in that check's detail but keeps the worker ready: lexical search still answers every question,
and taking every worker out of the balancer for it would be an outage (`coach db check` lists the differences).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import text

from storage.schema import current_revision, head_revision

if TYPE_CHECKING:
    from app.composition import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_json(self) -> dict[str, object]:
        return {"ready": self.ready, "checks": [c.as_json() for c in self.checks]}


def _guarded(name: str, probe: Callable[[], Check]) -> Check:
    try:
        return probe()
    except Exception as exc:  # a readiness probe reports failures, it never raises
        log.debug("readiness check %s failed", name, exc_info=True)
        return Check(name, False, f"{type(exc).__name__}: {exc}"[:300])


def check_database(services: Services) -> Check:
    def probe() -> Check:
        engine = services.engine
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        at, head = current_revision(engine), head_revision()
        if at != head:
            return Check("database", False, f"schema at {at}, code expects {head}: run `coach db upgrade`")
        return Check("database", True, f"{engine.dialect.name}, schema {at}")

    return _guarded("database", probe)


def check_knowledge_index(services: Services) -> Check:
    fresh = services.fresh_search
    if not fresh.loaded:
        return Check("knowledge_index", False, "not loaded yet")
    return Check("knowledge_index", True, f"generation {fresh.generation}")


def check_vector_store(services: Services) -> Check:
    settings = services.settings
    if settings.vector_store.mode == "off" or settings.retrieval.dense_weight <= 0:
        return Check("vector_store", True, "not used for answering (lexical only)")

    def probe() -> Check:
        dense = services.dense
        if dense is None:
            return Check("vector_store", False, "dense retrieval configured but no vector store")
        dense.heartbeat()
        if services.dense_status:  # found when the search was built; degraded, not down: lexical still answers
            detail = f"chroma {settings.vector_store.mode}, {services.dense_status}: run `coach ingest --repair`"
            return Check("vector_store", True, detail)
        return Check("vector_store", True, f"chroma {settings.vector_store.mode}")

    return _guarded("vector_store", probe)


def readiness(services: Services) -> Readiness:
    """Every check, run now (blocking: call it from a worker thread in async code)."""
    return Readiness((check_database(services), check_knowledge_index(services), check_vector_store(services)))
