"""What a search returns: plain types that import nothing heavy, so the conversation core, the answer side
and the CLI can use them without loading the vector store."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Characters of a passage's stored text a search shows (and a reply is made of): the longest passage the chunker
# writes at the default chunk_chars (a list stretches to ingest.chunking.LIST_STRETCH × 300), so none loses its end.
MAX_PASSAGE_CHARS = 600


@dataclass(frozen=True)
class Passage:
    """A passage as a learner sees it, with where it came from."""

    chunk_id: str
    text: str
    title: str
    section: str
    source: str
    collection: str
    score: float

    def as_json(self) -> dict[str, object]:
        return {
            "text": self.text,
            "title": self.title,
            "source": self.source,
            "collection": self.collection,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class SearchResult:
    query: str
    abstained: bool
    passages: tuple[Passage, ...]
    query_terms: tuple[str, ...] = ()
    key_terms: tuple[str, ...] = ()  # the question's words the index knows, most informative first
    word_weights: Mapping[str, float] = field(default_factory=dict)  # IDF of the question's words
    bigram_weights: Mapping[str, float] = field(default_factory=dict)  # IDF of its character bigrams
    focus_terms: tuple[str, ...] = ()  # what it asks to be named or counted (「几种身份」 → 身份, 角色)
    named: tuple[str, ...] = ()  # the named things it asks about (迪斯尼, 信用卡): an amount must come with them
