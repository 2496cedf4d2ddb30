"""What the conversation core needs from the rest of the system, as small Protocols."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from knowledge.answer import MobileAnswer
from knowledge.results import Passage, SearchResult


class KnowledgeLookup(Protocol):
    """Capability: search the knowledge base and word an answer for a phone."""

    def search(self, question: str, *, k: int, collections: Sequence[str] | None = None) -> SearchResult: ...

    def answer(self, result: SearchResult) -> MobileAnswer: ...

    def passage(self, chunk_id: str) -> Passage | None: ...
