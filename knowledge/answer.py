"""The mobile answer: key sentences first, at most `max_chars`, numbered sources. Pure functions.

Extractive by default: the sentences of the best passages that share most of the question's words, in
the order they help, then the sources they came from.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.chinese_text import fold_for_search
from knowledge.abstention import AMOUNT_REACH, EVENT_REACH, NOT_FOUND_TEXT, states_amount
from knowledge.answer_units import Unit, passage_units, unit_text
from knowledge.question_types import classify, latin_terms
from knowledge.results import Passage, SearchResult
from knowledge.slots import asked_about, asked_slot, other_pay_items
from knowledge.span_selection import (
    QueryShape,
    heading_bonus,
    on_topic,
    relevant_items,
    score_unit,
    shorten_item,
    window_around,
)
from knowledge.unit_similarity import SEMANTIC_WEIGHT, UnitSimilarity, combine

COLLECTION_NAMES = {"cases": "案例库", "courses": "课程", "processes": "流程手册", "general": "综合"}
NOT_FOUND_HINT = "可以换个说法再问,或者用 /ask 加上更具体的关键词。"
KEY_SENTENCE_SHARE = 0.6  # a unit joins the answer when it scores at least this share of the best one
MAX_KEY_UNITS = 3
SHORT_SENTENCE = 60  # a best sentence shorter than this brings the sentence after it
OTHER_PASSAGE_SHARE = 0.3  # … and each passage not quoted yet its best unit above this share, if it fits
_CONSEQUENCE = re.compile(r"(?:所以|因此|因而|可见|由此可见|总之)[,,]?")  # a conclusion drawn from what precedes it
ANSWER_TARGET = 360  # characters of reply body that further units may fill (the best unit may take more)


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


def compose_answer(
    result: SearchResult,
    *,
    max_chars: int = 600,
    max_sources: int = 3,
    similarity: UnitSimilarity | None = None,
    semantic_weight: float = SEMANTIC_WEIGHT,
) -> MobileAnswer:
    """The spans of the best passages that answer the question, cited by number, under `max_chars`.

    `similarity` (the embedding model's, when one is configured) rescores the best lexical units by meaning
    (`unit_similarity.combine`); without it the choice is the lexical scorer's alone."""
    if result.abstained or not result.passages:
        return MobileAnswer(result.query, False, "", ())
    passages = list(result.passages[:max_sources])
    sources = tuple(_source(i + 1, p) for i, p in enumerate(passages))
    footer = len("\n\n来源:\n") + sum(len(s.label()) + 1 for s in sources)
    budget = max(max_chars - footer, 120)
    kind = classify(result.query)
    query = QueryShape.of(
        result.query, result.query_terms, kind, result.word_weights, result.bigram_weights, result.focus_terms
    )
    units = {(u.passage, u.order): u for rank, p in enumerate(passages) for u in passage_units(p.text, rank)}
    scored = _scored_units(passages, query, _naming(result, passages))
    if similarity is not None and scored:
        scored = _rescored(result.query, scored, passages, similarity, semantic_weight)
    if not scored:
        return MobileAnswer(result.query, True, _opening(passages[0].text, budget) + "[1]", sources)
    if not _supplies_amount(result, passages):
        return MobileAnswer(result.query, False, "", ())  # asked for an amount or a slot no passage fills
    return MobileAnswer(result.query, True, _render(_choose(scored, budget, units), query, budget), sources)


def _naming(result: SearchResult, passages: Sequence[Passage]) -> list[bool]:
    """Which passages name every thing the question names (all of them when none does). A Latin term
    (「EDI」, 「SLA」: a course on 岗位模型 does not say what EDI's stages are) may be named anywhere in the
    passage's document as retrieved: a BPR case's chunk need not repeat 「BPR」."""
    folded = {p.chunk_id: _folded(p) for p in (*result.passages, *passages)}
    latin = latin_terms(result.query)
    naming = [
        all(n in folded[p.chunk_id] for n in result.named)
        and all(any(t in folded[r.chunk_id] for r in result.passages if r.source == p.source) for t in latin)
        for p in passages
    ]
    return naming if any(naming) else [True] * len(passages)


def _folded(passage: Passage) -> str:
    """A passage as the naming rules read it: title, heading and text, folded."""
    return fold_for_search(f"{passage.title}\n{passage.section}\n{passage.text}")


def _scored_units(passages: Sequence[Passage], query: QueryShape, usable: Sequence[bool]) -> list[tuple[float, Unit]]:
    scored = []
    for rank, passage in enumerate(passages):
        if not usable[rank]:
            continue  # a reply about 迪斯尼 is not made of a passage about 哈雷
        bonus = heading_bonus(passage.section, passage.title, query)
        units = passage_units(passage.text, rank)
        topical = on_topic(f"{passage.title}\n{passage.section}\n{passage.text}", query)
        for i, unit in enumerate(units):
            score = score_unit(unit, query, bonus, on_topic=topical, subject=True)
            if score > 0:
                scored.append((score, unit))
                follower = units[i + 1] if i + 1 < len(units) else None
                if follower is not None and follower.is_list and not follower.text and not unit.is_list:
                    scored.append((score * 0.99, follower))  # a list right after a sentence continues it
    return sorted(scored, key=lambda su: (-su[0], su[1].passage, su[1].order))


def _rescored(
    question: str,
    scored: list[tuple[float, Unit]],
    passages: Sequence[Passage],
    similarity: UnitSimilarity,
    weight: float,
) -> list[tuple[float, Unit]]:
    """The scored units reordered by lexical score plus similarity in meaning (each unit embedded with its
    document's title, as passages are)."""
    texts = [(s, unit_text(passages[u.passage].title, u)) for s, u in scored]
    scores = combine(question, texts, similarity, weight=weight)
    rescored = [(new, unit) for new, (_, unit) in zip(scores, scored, strict=True)]
    return sorted(rescored, key=lambda su: (-su[0], su[1].passage, su[1].order))


def _supplies_amount(result: SearchResult, passages: Sequence[Passage]) -> bool:
    """A question asking for money, a share, a score, a time — or a year, a company, a person, a place to get
    something (`slots.asked_slot`) — needs a passage stating one by its key terms (by the fee or the event
    it names, when it names one: `slots.asked_about`), and that passage must name the things the question
    names."""
    amount = asked_slot(result.query)
    if amount is None:
        return True
    about = asked_about(result.query, amount, result.query_terms)
    anchors = list(about) or [t for t in result.key_terms if not amount.is_topic(t)]
    naming = [p.text for p, text in ((p, _folded(p)) for p in passages) if all(n in text for n in result.named)]
    others = other_pay_items(result.query, amount)
    reach = EVENT_REACH if about else AMOUNT_REACH
    return states_amount(
        amount, naming, anchors, others=others, reach=reach
    )  # 哈雷's 80 hours do not answer how long 迪斯尼 trains


def _choose(scored: list[tuple[float, Unit]], budget: int, units: dict[tuple[int, int], Unit]) -> list[Unit]:
    """The best unit (a short sentence with the one after it: 「零投诉就是满意」 needs its why; a list with the
    short sentence after it, which often says what the items add up to), then others
    close to it in score while they fit the target length, then the best unit of each passage not quoted yet
    while it fits: the answer is often in the second or third passage, whose best unit scores lower."""
    best_score, best = scored[0]
    chosen = [best]
    follower = units.get((best.passage, best.order + 1))
    if not best.is_list and len(best.text) < SHORT_SENTENCE and follower is not None:
        chosen.append(follower)
    elif best.is_list and follower is not None and not follower.is_list and len(follower.text) < SHORT_SENTENCE:
        chosen.append(follower)  # a list and the short sentence summing it up: 「让步幅度越来越小,对方感到…」
    reason = units.get((best.passage, best.order - 1)) if _CONSEQUENCE.match(best.text) else None
    if reason is not None:
        chosen.append(reason)  # 「所以期望要早管理」 is said because of what comes before it
    used = sum(len(u.full_text) for u in chosen)
    target = min(budget, ANSWER_TARGET)
    for score, unit in scored[1:]:
        if len(chosen) == MAX_KEY_UNITS or score < best_score * KEY_SENTENCE_SHARE:
            break
        if unit in chosen or used + len(unit.full_text) > target:
            continue
        chosen.append(unit)
        used += len(unit.full_text)
    for passage in range(max(u.passage for _, u in scored) + 1):
        if any(u.passage == passage for u in chosen):
            continue
        score, unit = next((su for su in scored if su[1].passage == passage), (0.0, best))
        if score >= best_score * OTHER_PASSAGE_SHARE and used + len(unit.full_text) <= target:
            chosen.append(unit)  # a passage not yet quoted: its best unit, while the reply has room
            used += len(unit.full_text)
    rest = sorted((u for u in chosen[1:] if u is not reason), key=lambda u: (u.passage, u.order))
    return [reason, best, *rest] if reason is not None else [best, *rest]


def _render(units: list[Unit], query: QueryShape, budget: int) -> str:
    lines: list[str] = []
    left = budget
    for unit in units:
        cite = f"[{unit.passage + 1}]"
        if unit.is_list:
            items = list(relevant_items(unit, query, left - len(cite)))
            block = [unit.text, *items] if unit.text else items
            if sum(len(x) + 1 for x in block) + len(cite) > left:
                per_item = max((left - len(unit.text) - len(cite)) // max(len(items), 1) - 1, 12)
                items = [shorten_item(item, per_item, query) for item in items]
                block = [unit.text, *items] if unit.text else items
            while block and sum(len(x) + 1 for x in block) + len(cite) > left and len(block) > 2:
                block.pop()  # drop items only when shortening was not enough
            text = "\n".join(block)
        else:
            text = unit.text
        if len(text) + len(cite) > left:
            if lines:
                break
            text = window_around(text, max(left - len(cite), 20), query)
        lines.append(text + cite)
        left -= len(text) + len(cite) + 1
    return "\n".join(lines)


def _opening(text: str, budget: int) -> str:
    """The start of a passage when nothing in it matched the question's words (dense-only hits)."""
    cut = text[: budget - 4]
    return cut.removesuffix(":").removesuffix(":") + ("…" if len(text) > len(cut) else "")


def _source(number: int, passage: Passage) -> SourceRef:
    return SourceRef(number, passage.title, passage.section, passage.collection, passage.chunk_id, passage.text)


class ExtractiveAnswerer:
    """The default answerer: `compose_answer` with the configured length, and the embedding model's unit
    similarity when the dense side is on."""

    def __init__(
        self, *, max_chars: int, similarity: UnitSimilarity | None = None, semantic_weight: float = SEMANTIC_WEIGHT
    ) -> None:
        self._max_chars = max_chars
        self._similarity = similarity
        self._weight = semantic_weight

    def answer(self, result: SearchResult) -> MobileAnswer:
        return compose_answer(
            result, max_chars=self._max_chars, similarity=self._similarity, semantic_weight=self._weight
        )
