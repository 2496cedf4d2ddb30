"""Documents as structure: the typed blocks of a cleaned section. Pure functions.

A learner's question is usually answered by a list under its lead-in sentence ("分三个阶段:" and the three
stages) or by a table row read with its column names. Flat text loses both: a splitter cuts at the colon,
a row arrives without its header. So a section is parsed into

* `Paragraph` — one line of running text;
* `ListBlock` — a lead-in line (may be empty) and its items, each item keeping its own marker
  (「1、」「(1)」「①」「•」「-」); an inline run 「分三步:1、…;2、…;3、…」 is split into items too;
* `Table` — a header and rows, from markdown-style `| a | b |` lines (every extractor writes tables so).

`render_table_rows` spells each row out with its column names, the way the row is stored and shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

BULLET_GLYPH = r"[-*•·▪◆●○■□➢►✓√]"  # what starts a bulleted item (chunking gives a lost one back)
# A list item: a bullet glyph, or a number (not a decimal: 「1.5倍」 is no item), or a circled number.
LIST_MARKER = re.compile(
    rf"^(?:{BULLET_GLYPH}\s*(?=\S)|"
    r"\d{1,2}(?:[、)）]|\.(?!\d))\s*(?=\S)|[(（]\d{1,2}[)）]\s*|[①-⑳]\s*)"
)
_TABLE_LINE = re.compile(r"^\|.*\|$")
_SEPARATOR_ROW = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")
_LEAD_IN_END = re.compile(r"[::]\s*$")
# Inline numbering: 「1、」「2.」「(3)」「③」 in the middle of a line.
_INLINE_MARK = re.compile(r"(?:(?<=[\s::;;。,,])|^)(?:(\d{1,2})[、.)）](?!\d)|[(（](\d{1,2})[)）]|([①-⑳]))")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
ROW_FIELD_SEP = ";"  # between the cells of a row spelled out with their column names
TABLE_ROW_MARK = "- "


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class ListBlock:
    lead_in: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    lead_in: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Paragraph | ListBlock | Table


def is_table_line(line: str) -> bool:
    return bool(_TABLE_LINE.match(line.strip())) and line.count("|") >= 3


def is_separator_row(line: str) -> bool:
    return bool(_SEPARATOR_ROW.match(line.strip())) and "-" in line


def is_list_item(line: str) -> bool:
    return bool(LIST_MARKER.match(line.strip()))


def is_lead_in(text: str) -> bool:
    """A line that announces what follows: it ends with a colon."""
    return bool(_LEAD_IN_END.search(text))


def table_cells(line: str) -> tuple[str, ...]:
    return tuple(cell.strip() for cell in line.strip().strip("|").split("|"))


_SECTION_MARK = re.compile(r"(?<=[。!?;;!?\s])(?=[一二三四五六七八九十]{1,3}、)")
_SENTENCE_END = "。!?!?;;"
_ITEM_TAIL = (";", ";", ",", ",")
LONG_LINE = 150  # scraped pages put whole sections on one line; past this, split at 「二、」-style numerals


def split_inline_list(line: str) -> tuple[str, ListBlock] | None:
    """「…工作。分三个阶段:1、评估;2、设计;3、实施。」 → ("…工作。", lead-in and three items).

    Needs at least two numbers counting up from 1; the lead-in is the last sentence before the first.
    """
    marks = []
    expected = 1
    for m in _INLINE_MARK.finditer(line):
        digits = m.group(1) or m.group(2)
        number = int(digits) if digits else _CIRCLED.index(m.group(3)) + 1
        if number == expected:
            marks.append(m.start())
            expected += 1
    if len(marks) < 2:
        return None
    head = line[: marks[0]]
    cut = max(head.rfind(ch) for ch in _SENTENCE_END) + 1
    before, lead_in = head[:cut].strip(), head[cut:].strip()
    items = [line[a:b].strip().rstrip("".join(_ITEM_TAIL)) for a, b in zip(marks, [*marks[1:], len(line)], strict=True)]
    return before, ListBlock(lead_in, tuple(item for item in items if item))


def _physical_lines(lines: Iterable[str]) -> Iterable[str]:
    for raw in lines:
        line = raw.strip()
        if len(line) > LONG_LINE:
            yield from (part.strip() for part in _SECTION_MARK.split(line))
        else:
            yield line


def parse_blocks(lines: Iterable[str]) -> list[Block]:
    """The blocks of a section's lines, in reading order (blank lines only end a list or table)."""
    blocks: list[Block] = []
    items: list[str] = []
    rows: list[str] = []

    def lead_in() -> str:
        """The paragraph just before, when it announces the list; only its last sentence is the lead-in."""
        last = blocks[-1] if blocks else None
        if not isinstance(last, Paragraph) or not is_lead_in(last.text):
            return ""
        blocks.pop()
        cut = max(last.text[:-1].rfind(ch) for ch in _SENTENCE_END) + 1
        if cut > 0:
            blocks.append(Paragraph(last.text[:cut].strip()))
        return last.text[cut:].strip()

    def flush() -> None:
        if items:
            blocks.append(ListBlock(lead_in(), tuple(items)))
            items.clear()
        if rows:
            blocks.append(_table(lead_in(), rows))
            rows.clear()

    for line in _physical_lines(lines):
        if not line:
            flush()
        elif is_table_line(line) or (rows and is_separator_row(line)):
            if items:
                flush()
            rows.append(line)
        elif is_list_item(line):
            if rows:
                flush()
            items.append(line)
        else:
            flush()
            inline = split_inline_list(line)
            if inline is None:
                blocks.append(Paragraph(line))
                continue
            before, listed = inline
            if before:
                blocks.append(Paragraph(before))
            blocks.append(listed if listed.lead_in else ListBlock(lead_in(), listed.items))
    flush()
    return blocks


def _table(lead_in: str, lines: list[str]) -> Table | ListBlock:
    """Rows under the header: the first row, or the row above a `|---|` separator."""
    content = [line for line in lines if not is_separator_row(line)]
    parsed = [table_cells(line) for line in content]
    if len(parsed) < 2:  # a lone row has no header to read it with: keep it as an item
        return ListBlock(lead_in, tuple(" ".join(cells) for cells in parsed))
    return Table(lead_in, parsed[0], tuple(parsed[1:]))


def render_table_rows(table: Table) -> list[str]:
    """Each row as one item with its column names: 「- 能力:产品理解力;测评工具:知识测验;分数线:45 / 55 / 75」."""
    rendered = []
    for row in table.rows:
        fields = []
        for i, cell in enumerate(row):
            name = table.header[i] if i < len(table.header) else ""
            if not cell or cell in ("–", "-", "—"):
                continue
            fields.append(f"{name}:{cell}" if name and name != cell else cell)
        if fields:
            rendered.append(TABLE_ROW_MARK + ROW_FIELD_SEP.join(fields))
    return rendered
