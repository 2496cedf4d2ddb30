"""Which pieces of the best passages answer the question, and how much of each to show. Pure functions.

Each unit (sentence, or lead-in with items) is scored by the question words and bigrams it holds, then by
what the question asks for: a number question wants a unit stating a number, a list question a list, advice
a list of rules under a heading that matches. A passage whose heading matches the question lends its units
weight; an outline sentence (「第一部分…第二部分…」) loses it. Long tables keep only the rows the question
names; long lists shorten their items before dropping any.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ingest.blocks import LIST_MARKER, ROW_FIELD_SEP
from ingest.chinese_text import fold_for_search
from knowledge.answer_units import Unit, dangling, passage_units
from knowledge.question_types import NUMERIC, AmountClass, Kind, QuestionType, amount_class
from knowledge.results import Passage

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_OUTLINE = re.compile(
    r"先讲|再讲|第[一二三四五六七八九十]部分|分[两二三四五六]部分|本课程|本章|目\s*录|以下几个方面|如下"
)
# 「哪几个」 is rare in documents but never their subject; neither is a one-character word (「看」)
_ASKING_WORD = re.compile(r"哪|几|啥|什么|多少|怎|咋|吗|呢|是否")
_REASON = re.compile(r"因为|由于|原因|所以|因此|为了|是因|导致|在于")
_DEFINES = re.compile(r"是|指|即|叫|称为|就是|定义|:|:")
_ADVICE = re.compile(r"要|应|先|再|可以|不要|别|不|必须|务必|尽量|避免|注意|建议")
PASSAGE_WEIGHT = (1.0, 0.8, 0.65)  # the best passage counts most
ITEM_NAME = re.compile(r"^(.{2,30}?)[::(（]")  # an item's name: the text before its colon or bracket
TABLE_ROW = re.compile(rf"^- [^:{ROW_FIELD_SEP}]+:[^{ROW_FIELD_SEP}]*{ROW_FIELD_SEP}[^:{ROW_FIELD_SEP}]+:")  # 2+ fields
FOCUS_FACTOR = 1.5  # a unit naming what the question asks to be named or counted (「几种身份」: 五个角色)
SUBJECT_FACTOR = 1.3  # a unit saying the question's subject (its rarest word), when the reply picks units
COUNTED_FACTOR = 4.0  # … and counts it (「分为五个角色」 for 「分几种身份」)
_COUNTED = r"(?:\d+|[一二两三四五六七八九十]+)\s*(?:种|个|类|条|项|步|点|门|级|大|方面|位|家|份|样)?\s*{}"
HEADING_WEIGHT = 1.0  # a heading's words count for every unit under it as if the unit said them
TITLE_WEIGHT = 0.2
TABLE_ROW_KEEP = 4  # a list or table longer than this keeps only the items the question names


@dataclass(frozen=True)
class QueryShape:
    """The question as the scorer uses it: its words, its content bigrams and what it asks for."""

    words: tuple[str, ...]
    bigrams: frozenset[str]
    kind: QuestionType
    word_weights: Mapping[str, float] = field(default_factory=dict)
    bigram_weights: Mapping[str, float] = field(default_factory=dict)
    amount: AmountClass | None = None
    focus: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        question: str,
        words: Sequence[str],
        kind: QuestionType,
        word_weights: Mapping[str, float] | None = None,
        bigram_weights: Mapping[str, float] | None = None,
        focus: Sequence[str] = (),
    ) -> QueryShape:
        folded = fold_for_search(question)
        grams = {run[i : i + 2] for run in _CJK_RUN.findall(folded) for i in range(len(run) - 1)}
        kept = tuple(w for w in dict.fromkeys([*words, *(word_weights or {})]) if len(w) > 1 or not w.isascii())
        return cls(
            kept, frozenset(grams), kind, word_weights or {}, bigram_weights or {}, amount_class(question), tuple(focus)
        )


def names_subject(text: str, query: QueryShape) -> bool:
    """`on_topic` for one unit: it says the question's subject itself (a name of its own, as `score_unit`'s
    `on_topic` argument hides the function)."""
    return on_topic(text, query)


def on_topic(text: str, query: QueryShape) -> bool:
    """Does the text hold the most informative of the question's words besides what it asks for (its subject:
    「EDI」 in 「EDI模型是哪三个阶段」)? True when no weights are known."""
    subject = [w for w in query.words if w not in query.focus and len(w) > 1 and not _ASKING_WORD.search(w)]
    if not query.word_weights or not subject:
        return True
    return max(subject, key=lambda w: query.word_weights.get(w, 0.0)) in fold_for_search(text)


def overlap(text: str, query: QueryShape) -> float:
    """Question words found (weighted by IDF: 「EDI」 counts far more than 「三个阶段」; by length when no
    weights are known), plus half the question bigrams found (jieba may cut a word differently). A word
    counts once: 「来电提醒」 found does not count 「来电」, 「提醒」 and their bigrams again, or the topic every
    passage shares outweighs the detail the question asks about (「BOSS里加了啥功能」)."""
    folded = fold_for_search(text)
    found = [w for w in query.words if w in folded]
    widest = [w for w in found if not any(w != other and w in other for other in found)]
    word_score = sum(query.word_weights.get(w, len(w)) for w in widest)
    gram_score = sum(
        query.bigram_weights.get(g, 1.0) for g in query.bigrams if g in folded and not any(g in w for w in widest)
    )
    return word_score + 0.5 * gram_score


def has_number(text: str) -> bool:
    """A number the text states (list markers 「1、」「(2)」 are no numbers)."""
    return NUMERIC.search(_without_markers(text)) is not None


def _without_markers(text: str) -> str:
    return "\n".join(LIST_MARKER.sub("", line.strip()) for line in text.splitlines())


def score_unit(
    unit: Unit, query: QueryShape, heading_bonus: float, *, on_topic: bool = True, subject: bool = False
) -> float:
    """How well a unit answers; `on_topic` says its passage holds the question's rarest word (the focus bonus
    needs it: 华为's 「三个阶段」 do not answer 「EDI模型是哪三个阶段」); `subject` (the reply's choice, not the
    passage rerank) favours a unit saying that word itself."""
    base = overlap(unit.full_text, query) + heading_bonus
    if base <= 0 or dangling(unit):
        return 0.0
    kind = query.kind
    factor = PASSAGE_WEIGHT[min(unit.passage, len(PASSAGE_WEIGHT) - 1)]
    if query.amount is not None:
        factor *= 1.8 if query.amount.stated.search(fold_for_search(_without_markers(unit.full_text))) else 0.5
    elif kind.wants_number:
        factor *= 1.5 if has_number(unit.full_text) else 0.5
    if unit.is_list:
        if kind.wants(Kind.LIST):
            factor *= 1.6
        elif kind.wants(Kind.HOWTO):
            factor *= 1.4
        elif kind.wants(Kind.DEFINITION):
            factor *= 1.2
    elif kind.wants(Kind.LIST) and not kind.wants_number:
        factor *= 0.8
    if kind.wants(Kind.REASON) and _REASON.search(unit.full_text):
        factor *= 1.4
    if kind.wants(Kind.DEFINITION) and not unit.is_list and _DEFINES.search(unit.text):
        factor *= 1.2
    if kind.wants(Kind.HOWTO) and _ADVICE.search(unit.full_text):
        factor *= 1.15
    if query.focus and on_topic:
        folded = fold_for_search(unit.full_text)
        if any(f in folded for f in query.focus):
            factor *= FOCUS_FACTOR
            if any(re.search(_COUNTED.format(re.escape(f)), folded) for f in query.focus):
                factor *= COUNTED_FACTOR  # 「分为五个角色」 answers 「分几种身份」
    if subject and not query.focus and query.word_weights and names_subject(unit.full_text, query):
        factor *= SUBJECT_FACTOR  # 「SLA是干嘛用的」: the unit saying SLA, not the one about BPR around it
        # (a question asking to name or count something has its focus bonus instead: 「分几种身份」)
    if _OUTLINE.search(unit.text) and not unit.is_list:
        factor *= 0.5
    return base * factor


def heading_bonus(section: str, title: str, query: QueryShape) -> float:
    """A heading that names the question's subject makes every unit under it more likely the answer."""
    return HEADING_WEIGHT * overlap(section, query) + TITLE_WEIGHT * overlap(title, query)


def relevant_items(unit: Unit, query: QueryShape, room: int | None = None) -> tuple[str, ...]:
    """A list asked for as such (which steps, what is X, how to) stays whole; a long table, a list asked about
    for a number, or one too long for the `room` left when the question asks for something else keeps the
    items the question names (all of them when it names none): 「受啥影响」 shows all five influences that fit,
    「那题阐述的是哪个问题」 the one line of a thirteen-line quiz that names it."""
    whole = query.kind.kinds & {Kind.LIST, Kind.DEFINITION, Kind.HOWTO} and not query.kind.wants_number
    table = all(TABLE_ROW.match(item) for item in unit.items)
    too_long = room is not None and len(unit.full_text) > room
    narrows = table or query.kind.wants_number or (not whole and (room is None or too_long))
    if len(unit.items) <= TABLE_ROW_KEEP or not narrows:
        return unit.items
    scores = [overlap(item, query) for item in unit.items]
    best = max(scores)
    if best <= 0 or all(s == best for s in scores):
        return unit.items
    return tuple(item for item, s in zip(unit.items, scores, strict=True) if s >= best * 0.75)


def shorten_item(item: str, limit: int, query: QueryShape | None = None) -> str:
    """An item cut to its name (the text before its colon), else to the `limit` characters around the
    question's words (a slide flattened into one bullet holds the asked-for fact anywhere)."""
    if len(item) <= limit:
        return item
    named = ITEM_NAME.match(item)
    if named and len(named.group(1)) >= 4:
        return named.group(1).strip()
    return window_around(item, limit, query)


_BREAK_AFTER = re.compile(r"[。!?;!?;,,、::\s]")


def window_around(text: str, limit: int, query: QueryShape | None) -> str:
    """At most `limit` characters of `text`, with 「…」 where it is cut: of the stretches starting at a break,
    the one holding most of the question's words (the start when no query is given)."""
    if len(text) <= limit:
        return text
    if query is None:
        return text[: limit - 1] + "…"
    width = limit - 2  # room for an ellipsis on both sides
    starts = [0, *(m.end() for m in _BREAK_AFTER.finditer(text) if m.end() < len(text) - width // 2)]
    scores = [overlap(text[start : start + width], query) for start in starts]
    best = max(scores)
    tied = [start for start, score in zip(starts, scores, strict=True) if score == best]
    best_start = tied[len(tied) // 2]  # of equal stretches, the middle one: the words sit inside, not on an edge
    if best_start == 0:
        return text[: limit - 1] + "…"
    end = best_start + width
    return "…" + text[best_start:end].strip() + ("…" if end < len(text) else "")


RERANK_SHARE = 0.5  # weight of the best unit's score (relative to the best one's) beside the search score


def rerank_by_units(passages: Sequence[Passage], query: QueryShape) -> list[Passage]:
    """Passages in the order of their search score plus how well their best unit answers: a chunk that holds
    the question's words scattered ranks below one that says what was asked in one sentence or list (the
    concession rules for 「谈判时我该怎么让步」, not a course outline naming 谈判 and 竞争)."""
    if not passages:
        return []
    top = max(p.score for p in passages) or 1.0
    best = []
    for p in passages:
        bonus = heading_bonus(p.section, p.title, query)
        topical = on_topic(f"{p.title}\n{p.section}\n{p.text}", query)
        units = passage_units(p.text, 0)
        best.append(max((score_unit(u, query, bonus, on_topic=topical) for u in units), default=0.0))
    most = max(best) or 1.0
    order = sorted(range(len(passages)), key=lambda i: -(passages[i].score / top + RERANK_SHARE * best[i] / most))
    return [passages[i] for i in order]
