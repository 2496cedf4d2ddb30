"""The mobile answer: key sentences first, at most `max_chars`, numbered sources. Pure functions.

Extractive by default: the sentences of the best passages that share most of the question's words, in
the order they help, then the sources they came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.cleaning import fold_for_search
from knowledge.abstention import NOT_FOUND_TEXT
from knowledge.search import Passage, SearchResult

COLLECTION_NAMES = {"cases": "案例库", "courses": "课程", "processes": "流程手册", "general": "综合"}
_SENTENCE_END = re.compile(r"(?<=[。!?;!?;])|\n")
NOT_FOUND_HINT = "可以换个说法再问,或者用 /ask 加上更具体的关键词。"
KEY_SENTENCE_SHARE = 0.5  # a sentence joins the answer when it shares at least half the best one's terms
MAX_KEY_SENTENCES = 5


@dataclass(frozen=True)
class SourceRef:
    number: int
    title: str
    section: str
    collection: str
    chunk_id: str
    text: str = ""  # the passage as retrieved, for `coach ask --json` and the 📖 button

    def label(self) -> str:
        where = f"{self.title} › {self.section}" if self.section and self.section != self.title else self.title
        return f"[{self.number}] {where}({COLLECTION_NAMES.get(self.collection, self.collection)})"


@dataclass(frozen=True)
class MobileAnswer:
    question: str
    found: bool
    body: str
    sources: tuple[SourceRef, ...]

    def render_plain(self) -> str:
        if not self.found:
            return f"{NOT_FOUND_TEXT}{NOT_FOUND_HINT}"
        return "\n".join([self.body, "", "来源:", *(s.label() for s in self.sources)])


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and len(s.strip()) >= 4]


def _overlap(sentence: str, terms: Sequence[str]) -> int:
    folded = fold_for_search(sentence)
    return sum(len(t) for t in terms if t in folded)


def compose_answer(result: SearchResult, *, max_chars: int = 600, max_sources: int = 3) -> MobileAnswer:
    """Pick the key sentences of the best passages, cite them by number, stay under `max_chars`."""
    if result.abstained or not result.passages:
        return MobileAnswer(result.query, False, "", ())
    passages = list(result.passages[:max_sources])
    sources = tuple(_source(i + 1, p) for i, p in enumerate(passages))
    footer = len("\n\n来源:\n") + sum(len(s.label()) + 1 for s in sources)
    budget = max(max_chars - footer, 80)
    candidates = []
    for number, passage in enumerate(passages, start=1):
        for order, sentence in enumerate(_sentences(passage.text)):
            score = _overlap(sentence, result.query_terms) * (1.0 if number == 1 else 0.6)
            candidates.append((-score, number, order, sentence))
    best = -min((c[0] for c in candidates), default=0.0)
    lines: list[str] = []
    used = 0
    for negative_score, number, _, sentence in sorted(candidates):
        if (best > 0 and -negative_score < best * KEY_SENTENCE_SHARE) or len(lines) == MAX_KEY_SENTENCES:
            break  # the rest share too little of the question to be worth a learner's 30 seconds
        line = f"{sentence}[{number}]"
        if used + len(line) + 1 > budget:
            continue
        lines.append(line)
        used += len(line) + 1
    if not lines:
        lines = [passages[0].text[: budget - 4] + "…[1]"]
    return MobileAnswer(result.query, True, "\n".join(lines), sources)


def _source(number: int, passage: Passage) -> SourceRef:
    return SourceRef(number, passage.title, passage.section, passage.collection, passage.chunk_id, passage.text)


class ExtractiveAnswerer:
    """The default answerer: `compose_answer` with the configured length."""

    def __init__(self, *, max_chars: int) -> None:
        self._max_chars = max_chars

    def answer(self, result: SearchResult) -> MobileAnswer:
        return compose_answer(result, max_chars=self._max_chars)
