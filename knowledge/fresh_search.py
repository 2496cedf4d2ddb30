"""Keeps a long-running process's search current when another process (an ingest job) changes the knowledge base.

Each worker holds its own in-memory lexical index built from the database. The database's `generation` moves on
every ingest that changes something; a worker checks it at most every `check_every` seconds and, when it moved,
builds the new index in a background thread while the old one keeps answering, then swaps it in. Passages are
always read from the database, so an answer never shows text that is gone (ids it no longer has are dropped).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from storage.faults import classify_storage_error, describe_storage_error

log = logging.getLogger(__name__)
S = TypeVar("S")


class FreshSearch(Generic[S]):
    """Holds the current search object; rebuilds it when the knowledge base's generation changed."""

    def __init__(
        self,
        *,
        build: Callable[[int], S],
        generation: Callable[[], int],
        check_every: float,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self._build = build
        self._generation = generation
        self._check_every = check_every
        self._clock = clock
        self._background = background
        self._lock = threading.Lock()
        self._current: S | None = None
        self._current_generation: int | None = None
        self._checked_at = float("-inf")
        self._rebuilding: threading.Thread | None = None

    @property
    def loaded(self) -> bool:
        return self._current is not None

    @property
    def generation(self) -> int | None:
        """The generation the search currently answering was built from."""
        return self._current_generation

    def current(self) -> S:
        """The search to use now. The first call builds it; later calls never wait for a rebuild."""
        with self._lock:
            if self._current is None:
                generation = self._generation()
                self._current, self._current_generation = self._build(generation), generation
                self._checked_at = self._clock()
                return self._current
            current = self._current
            if self._clock() - self._checked_at < self._check_every or self._rebuilding is not None:
                return current
            self._checked_at = self._clock()
        try:
            generation = self._generation()
        except Exception as exc:  # a database hiccup must not fail the search that is already loaded
            # one line each time while the database is away (every refresh_seconds), the traceback only at DEBUG
            log.warning(
                "could not read the knowledge base generation; keeping the current index (%s)",
                describe_storage_error(exc),
            )
            log.debug("reading the knowledge base generation failed", exc_info=True)
            return current
        if generation != self._current_generation:
            self._start_rebuild(generation)
        return self._current if self._current is not None else current

    def invalidate(self) -> None:
        """Forget the current search (this process changed the knowledge base): the next call rebuilds it."""
        with self._lock:
            self._current, self._current_generation = None, None

    def wait_for_rebuild(self, timeout: float | None = None) -> None:
        """Block until a background rebuild in progress has finished (for tests and orderly shutdown)."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout)

    def _start_rebuild(self, generation: int) -> None:
        with self._lock:
            if self._rebuilding is not None:
                return
            thread = threading.Thread(target=self._rebuild, args=(generation,), name="search-rebuild", daemon=True)
            self._rebuilding = thread
        if self._background:
            thread.start()
        else:
            self._rebuild(generation)

    def _rebuild(self, generation: int) -> None:
        started = time.perf_counter()
        try:
            fresh = self._build(generation)
        except Exception as exc:
            fault = classify_storage_error(exc)
            if fault is None:  # a bug: keep its traceback
                log.exception("rebuilding the search index for generation %s failed; keeping the old one", generation)
            else:
                log.warning(
                    "rebuilding the search index for generation %s failed; keeping the old one (%s)",
                    generation,
                    describe_storage_error(exc),
                )
        else:
            with self._lock:
                self._current, self._current_generation = fresh, generation
            log.info(
                "search index rebuilt for knowledge base generation %s in %.1f s",
                generation,
                time.perf_counter() - started,
            )
        finally:
            with self._lock:
                self._rebuilding = None
