"""A passage as the pieces a reply can quote: sentences, and lists with their lead-in. Pure functions.

Passages are stored as the chunker wrote them (`ingest.blocks`): a lead-in line ending in a colon followed by
marked item lines, table rows spelled out as 「- 列名:值;…」, paragraphs. This module reads them back.
A very long sentence (flattened slides have few full stops) is cut into windows at commas and spaces, so a
unit is something a phone shows at a glance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.blocks import ListBlock, Paragraph, Table, is_lead_in, parse_blocks, render_table_rows

_SENTENCE = re.compile(r".+?(?:[。!?;!?;]+[”’」』)]?|$)", re.S)
_SOFT_BREAK = re.compile(r"(?<=[,,、::])|(?<=\s)")
MAX_SENTENCE = 160  # a sentence longer than this is split into windows at commas or spaces
HEADING_MAX = 30  # a line this short without a sentence end reads as a heading
HEADED_MAX = 240  # how much text under a heading joins it as one unit
_SENTENCE_CLOSE = re.compile(r"[。!?;!?;…,,]$")
WINDOW_OVERLAP = 40
QUESTION_MAX = 60  # a line this short ending in a question mark is the document asking what follows answers
_QUESTION_END = re.compile(r"[??]$")  # windows of unbroken text overlap so a fact on a boundary is whole in one of them


@dataclass(frozen=True)
class Unit:
    """One quotable piece of a passage: a sentence (no items) or a lead-in with its items."""

    passage: int  # 0-based rank of the passage it came from
    order: int  # position in the passage
    text: str  # the sentence, or the lead-in (may be empty) of a list
    items: tuple[str, ...] = ()

    @property
    def is_list(self) -> bool:
        return bool(self.items)

    @property
    def full_text(self) -> str:
        return "\n".join([self.text, *self.items]) if self.text else "\n".join(self.items)


def unit_text(title: str, unit: Unit) -> str:
    """What a reply embeds for a unit (`unit_similarity`): its document's title and the unit, as passages are
    embedded with theirs; ingest stores these texts' vectors (`unit_vectors`)."""
    return f"{title} {unit.full_text}"


def sentences(text: str) -> list[str]:
    """Sentences of a paragraph, each under `MAX_SENTENCE` characters where commas or spaces allow."""
    out: list[str] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        if not sentence:
            continue
        out.extend(_windows(sentence) if len(sentence) > MAX_SENTENCE else [sentence])
    return out


def _windows(sentence: str) -> list[str]:
    """Cut at commas and spaces; a stretch with neither (punctuation lost in extraction) into overlapping
    windows, so the window holding the question's words can be chosen."""
    pieces = [q for p in _SOFT_BREAK.split(sentence) if p for q in _hard_windows(p)]
    windows: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(piece) > MAX_SENTENCE:
            windows.append(current.strip())
            current = ""
        current += piece
    if current.strip():
        windows.append(current.strip())
    return windows


def _hard_windows(piece: str) -> list[str]:
    if len(piece) <= MAX_SENTENCE:
        return [piece]
    step = MAX_SENTENCE - WINDOW_OVERLAP
    return [piece[i : i + MAX_SENTENCE] for i in range(0, len(piece) - WINDOW_OVERLAP, step)]


def passage_units(text: str, passage: int) -> list[Unit]:
    """The units of one stored passage, in reading order; a heading line carries the sentences under it."""
    return _bare_headings_lead(_attach_to_headings(_raw_units(text, passage)))


def _raw_units(text: str, passage: int) -> list[Unit]:
    units: list[Unit] = []
    for block in parse_blocks(text.splitlines()):
        if isinstance(block, Paragraph):
            for lead, items in _semicolon_lists(sentences(block.text)):
                units.append(Unit(passage, len(units), lead, items))
        elif isinstance(block, ListBlock):
            units.append(Unit(passage, len(units), block.lead_in, block.items))
        elif isinstance(block, Table):
            units.append(Unit(passage, len(units), block.lead_in, tuple(render_table_rows(block))))
    return units


_SEMICOLON_END = re.compile(r"[;;]$")
SEMICOLON_ITEM_MAX = 80  # a sentence longer than this ending in 「;」 is a clause, not a list item


def _semicolon_lists(texts: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Sentences as (text, items): a run of two or more short sentences ending in 「;」 (and the one that
    closes the run) is one list — 「经营理念之一:给游客以欢乐;经营理念之二:营造欢乐氛围;…」 names five
    items, not five sentences — under the sentence before it when that one ends in a colon."""
    out: list[tuple[str, tuple[str, ...]]] = []
    i = 0
    while i < len(texts):
        j = i
        while j < len(texts) and len(texts[j]) <= SEMICOLON_ITEM_MAX and _SEMICOLON_END.search(texts[j]):
            j += 1
        if j - i >= 2:
            end = j + 1 if j < len(texts) and len(texts[j]) <= SEMICOLON_ITEM_MAX else j
            lead = out.pop()[0] if out and not out[-1][1] and is_lead_in(out[-1][0]) else ""
            items = list(texts[i:end])
            if not lead:
                lead, items[0] = _lead_riding_on(items[0], items[1])
            out.append((lead, tuple(items)))
            i = end
        else:
            out.append((texts[i], ()))
            i += 1
    return out


def _lead_riding_on(first: str, second: str) -> tuple[str, str]:
    """(lead-in, item) of a list's first sentence: 「理念如下:理念之一:给游客以欢乐;」 holds one colon more than
    the items after it, so the text up to its first colon is the lead-in."""
    parts = _COLON.split(first, maxsplit=1)
    if len(parts) == 3 and parts[2] and _colons(parts[2]) >= _colons(second):
        return parts[0] + parts[1], parts[2]
    return "", first


_COLON = re.compile(r"([:\uff1a])")


def _colons(text: str) -> int:
    return len(_COLON.findall(text))


def is_heading_line(text: str) -> bool:
    """A short line with no sentence end: 「二、客户关系管理绩效测评的关键维度」 names what follows."""
    return len(text) <= HEADING_MAX and not _SENTENCE_CLOSE.search(text) and not is_lead_in(text)


def _attach_to_headings(units: list[Unit]) -> list[Unit]:
    """A heading line followed by sentences becomes one unit (heading as lead-in, sentences as items), so a
    reply never shows a heading without what it heads."""
    out: list[Unit] = []
    i = 0
    while i < len(units):
        unit = units[i]
        following: list[str] = []
        j = i + 1
        heading = _own_question(unit) or (not unit.is_list and is_heading_line(unit.text))
        if heading and j < len(units) and units[j].is_list and _own_question(unit):
            out.append(Unit(unit.passage, len(out), _own_question(unit), units[j].items))
            i = j + 1
            continue
        if heading:
            size = 0
            while j < len(units) and not units[j].is_list and not _heads(units[j]):
                if following and size + len(units[j].text) > HEADED_MAX:
                    break
                following.append(units[j].text)
                size += len(units[j].text)
                j += 1
        if following:
            out.append(Unit(unit.passage, len(out), _own_question(unit) or unit.text, tuple(following)))
            i = j
        else:
            out.append(Unit(unit.passage, len(out), unit.text, unit.items))
            i += 1
    return out


def _bare_headings_lead(units: list[Unit]) -> list[Unit]:
    """A heading with nothing of its own under it (「二、绩效测评的关键维度」 right before a sub-heading or a
    list) heads the unit after it, so the words naming the topic and the content that answers are one unit;
    a list whose last item announces more (「(2)客户的总成本,包括:」) takes the sentence that says it."""
    out: list[Unit] = []
    i = 0
    while i < len(units):
        unit, after = units[i], units[i + 1] if i + 1 < len(units) else None
        bare = not unit.is_list and is_heading_line(unit.text) and not _own_question(unit)
        if bare and after is not None and not _asks(after) and len(after.full_text) <= HEADED_MAX:
            out.append(Unit(unit.passage, len(out), unit.text, tuple(after.full_text.splitlines())))
            i += 2
            continue
        if unit.is_list and is_lead_in(unit.items[-1]) and after is not None and not after.is_list:
            out.append(Unit(unit.passage, len(out), unit.text, (*unit.items, after.text)))  # 「总成本,包括:」 + what
            i += 2
            continue
        out.append(Unit(unit.passage, len(out), unit.text, unit.items))
        i += 1
    return out


def _asks(unit: Unit) -> bool:
    """The unit is, or is headed by, the document's own question."""
    return bool(_own_question(unit)) or (len(unit.text) <= QUESTION_MAX and bool(_QUESTION_END.search(unit.text)))


def _own_question(unit: Unit) -> str:
    """The document's own question (「2.哈雷摩托是怎样超越客户期望的?」, often read as a one-item list):
    it heads its answer like a heading does, and never answers on its own."""
    lines = unit.full_text.splitlines()
    if len(lines) != 1 or len(lines[0]) > QUESTION_MAX or not _QUESTION_END.search(lines[0]):
        return ""
    return lines[0]


def _heads(unit: Unit) -> bool:
    return bool(_own_question(unit)) or (not unit.is_list and is_heading_line(unit.text))


def dangling(unit: Unit) -> bool:
    """A sentence that only announces what follows (「分三个阶段:」) says nothing on its own."""
    return not unit.is_list and is_lead_in(unit.text)
