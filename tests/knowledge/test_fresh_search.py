"""FreshSearch: a worker picks up another process's ingest without ever waiting for the rebuild."""

from __future__ import annotations

import threading

from knowledge.fresh_search import FreshSearch


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class KnowledgeBase:
    """The database's generation counter, and the builds that were asked for."""

    def __init__(self) -> None:
        self.generation = 1
        self.builds: list[int] = []
        self.generation_reads = 0

    def read_generation(self) -> int:
        self.generation_reads += 1
        return self.generation

    def build(self, generation: int) -> str:
        self.builds.append(generation)
        return f"index@{generation}"


def make(kb: KnowledgeBase, clock: Clock, *, check_every: float = 10.0, background: bool = False) -> FreshSearch[str]:
    return FreshSearch(
        build=kb.build, generation=kb.read_generation, check_every=check_every, clock=clock, background=background
    )


def test_first_call_builds_then_serves_the_same_index_until_the_generation_moves() -> None:
    kb, clock = KnowledgeBase(), Clock()
    fresh = make(kb, clock)
    assert fresh.current() == "index@1"
    clock.now = 30
    assert fresh.current() == "index@1"
    assert kb.builds == [1]


def test_generation_is_read_at_most_once_per_interval() -> None:
    kb, clock = KnowledgeBase(), Clock()
    fresh = make(kb, clock, check_every=10)
    fresh.current()
    for step in range(1, 10):
        clock.now = step
        fresh.current()
    assert kb.generation_reads == 1
    clock.now = 10
    fresh.current()
    assert kb.generation_reads == 2


def test_another_process_ingesting_is_picked_up_after_the_interval() -> None:
    kb, clock = KnowledgeBase(), Clock()
    fresh = make(kb, clock)
    fresh.current()
    kb.generation = 2
    clock.now = 5
    assert fresh.current() == "index@1"  # not checked yet
    clock.now = 11
    assert fresh.current() == "index@2"
    assert fresh.generation == 2


def test_old_index_keeps_answering_while_the_new_one_builds() -> None:
    kb, clock = KnowledgeBase(), Clock()
    release = threading.Event()
    started = threading.Event()

    def slow_build(generation: int) -> str:
        if generation == 2:
            started.set()
            assert release.wait(5)
        return kb.build(generation)

    fresh = FreshSearch(build=slow_build, generation=kb.read_generation, check_every=0, clock=clock)
    assert fresh.current() == "index@1"
    kb.generation = 2
    assert fresh.current() == "index@1"  # starts the rebuild, does not wait for it
    assert started.wait(5)
    assert fresh.current() == "index@1"  # still building: the old index answers
    release.set()
    fresh.wait_for_rebuild(5)
    assert fresh.current() == "index@2"
    assert kb.builds == [1, 2]  # one rebuild, however many calls arrived meanwhile


def test_failed_rebuild_keeps_the_old_index_and_is_retried() -> None:
    kb, clock = KnowledgeBase(), Clock()
    attempts: list[int] = []

    def flaky_build(generation: int) -> str:
        attempts.append(generation)
        if generation == 2 and attempts.count(2) == 1:
            raise OSError("database went away")
        return kb.build(generation)

    fresh = FreshSearch(build=flaky_build, generation=kb.read_generation, check_every=10, clock=clock, background=False)
    fresh.current()
    kb.generation = 2
    clock.now = 10
    assert fresh.current() == "index@1"
    clock.now = 20
    assert fresh.current() == "index@2"


def test_unreadable_generation_keeps_the_loaded_index() -> None:
    kb, clock = KnowledgeBase(), Clock()
    calls = {"n": 0}

    def generation() -> int:
        calls["n"] += 1
        if calls["n"] > 1:
            raise ConnectionError("database restarting")
        return 1

    fresh = FreshSearch(build=kb.build, generation=generation, check_every=0, clock=clock, background=False)
    assert fresh.current() == "index@1"
    assert fresh.current() == "index@1"


def test_invalidate_rebuilds_on_the_next_call() -> None:
    kb, clock = KnowledgeBase(), Clock()
    fresh = make(kb, clock)
    fresh.current()
    kb.generation = 3
    fresh.invalidate()
    assert not fresh.loaded
    assert fresh.current() == "index@3"
