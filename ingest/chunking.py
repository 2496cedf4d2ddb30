"""Cut cleaned documents into phone-sized passages that keep their heading and position.

Pure: takes an `ExtractedDocument`, returns `Chunk`s. Cleaning happens here per section so the headings
found in flattened text (short lines without final punctuation) become section names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.blocks import (
    BULLET_GLYPH,
    Block,
    ListBlock,
    Paragraph,
    is_list_item,
    is_separator_row,
    is_table_line,
    parse_blocks,
    render_table_rows,
)
from ingest.cleaning import clean_text
from ingest.extractors import ExtractedDocument
from ingest.pages import split_slide_markers

_SENTENCE_SEPARATORS = ["\n\n", "\n", "。", "!", "?", "!", "?", ";", ";", ",", ",", "、", " ", ""]
_HEADING_LINE = re.compile(
    r"^(?:#{1,6}\s*)?(?:第[一二三四五六七八九十百\d]+[章节部分篇条]|[一二三四五六七八九十]+[、.]|\d+(?:\.\d+)*[、.\s]|[((][一二三四五六七八九十\d]+[))])?"
    r"[^。!?;,,;!?]{2,28}$"
)
_ENDS_LIKE_SENTENCE = re.compile(r"[。!?;,、:,;:!?…]$")
_BULLET = re.compile(rf"^{BULLET_GLYPH}\s*")
LIST_STRETCH = 2.0  # a list may run this far past chunk_chars before it is split (lead-in repeated)


@dataclass(frozen=True)
class Chunk:
    """A passage as a learner reads it, with the heading it sits under and its place in the document."""

    position: int
    section: str
    text: str
    page: int | None


def _is_heading(line: str) -> bool:
    line = line.strip()
    if not line or len(line) > 30 or is_list_item(line) or is_table_line(line) or is_separator_row(line):
        return False
    return not _ENDS_LIKE_SENTENCE.search(line) and bool(_HEADING_LINE.match(line))


def _blocks(heading: str | None, text: str) -> list[tuple[str, list[str]]]:
    """Split one cleaned section into (heading, body lines) at heading-like lines.

    A heading line leaves the body (the section name carries it); a run of heading-like lines is content
    (a list of short lines), and so is a heading-like line after a body too small to stand alone (「满意管理8字真言
    / • 管理预期 / 超越预期」: the second item lost its bullet, and gets the first one's back), so nothing a learner
    needs is lost.
    """
    lines = [raw.strip().lstrip("#").strip() for raw in text.splitlines()]
    lines = [line for line in lines if line]
    blocks: list[tuple[str, list[str]]] = []
    current_heading = heading or ""
    body: list[str] = []
    for i, line in enumerate(lines):
        in_run = (i > 0 and _is_heading(lines[i - 1])) or (i + 1 < len(lines) and _is_heading(lines[i + 1]))
        names = _is_heading(line) and not in_run
        bullet = _BULLET.match(body[-1]) if names and body else None
        if names and (not body or _meaningful("".join(body))):
            if body:
                blocks.append((current_heading, body))
                body = []
            current_heading = line
        elif bullet:
            body.append(bullet.group(0) + line)  # an item of the list before it that lost its bullet: 「超越预期」
        else:
            body.append(line)
    if body:
        blocks.append((current_heading, body))
    return blocks


def _units(block: Block, chunk_chars: int, splitter: RecursiveCharacterTextSplitter) -> list[str]:
    """Texts that must not be cut apart: a lead-in with its items (repeated when a long list splits),
    table rows with their column names (under the table's lead-in), a paragraph. An item too long for any
    chunk (a whole slide flattened behind one bullet: 4,656 characters in the corpus) is cut at sentence ends
    like a paragraph, or only its first 500 characters would ever be read."""
    if isinstance(block, Paragraph):
        return [block.text]
    items = list(block.items) if isinstance(block, ListBlock) else render_table_rows(block)
    lead = block.lead_in
    longest = int(chunk_chars * LIST_STRETCH) - len(lead)
    pieces = [
        (n, piece)
        for n, item in enumerate(items)
        for piece in (splitter.split_text(item) if len(item) > longest else [item])
    ]
    groups: list[list[str]] = [[]]
    size = len(lead)
    previous: tuple[int, str] | None = None
    for number, piece in pieces:
        if groups[-1] and size + len(piece) + 1 > chunk_chars * LIST_STRETCH:
            groups.append([])
            size = len(lead)
            previous = None
        shown = piece
        if previous is not None and previous[0] == number:  # the splitter's overlap, once is enough
            shown = piece[_overlap(previous[1], piece) :]
        if shown:
            groups[-1].append(shown)
        size += len(piece) + 1  # sized as cut, so chunk boundaries do not move
        previous = (number, piece)
    return ["\n".join([lead, *group] if lead else group) for group in groups if group]


OVERLAP_MIN = 8  # a shared stretch this long between two pieces of one item is the splitter's overlap


def _overlap(before: str, after: str) -> int:
    """How many characters `after` begins with that `before` ends with (the splitter repeats up to
    chunk_overlap characters so a cut keeps context); 0 below `OVERLAP_MIN`."""
    for k in range(min(len(before), len(after)), OVERLAP_MIN - 1, -1):
        if before.endswith(after[:k]):
            return k
    return 0


def chunk_document(document: ExtractedDocument, *, chunk_chars: int = 300) -> list[Chunk]:
    """Cleaned, phone-sized chunks of a document, in reading order."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_chars,
        chunk_overlap=max(chunk_chars // 6, 20),
        separators=_SENTENCE_SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )
    chunks: list[Chunk] = []
    for section in document.sections:
        for slide in split_slide_markers(section.text):
            cleaned = clean_text(slide)
            if not cleaned:
                continue
            for heading, lines in _blocks(section.heading, cleaned):
                for text in _pack(parse_blocks(lines), chunk_chars, splitter):
                    if _meaningful(text):
                        chunks.append(Chunk(len(chunks), heading, text, section.page))
    return chunks


def _pack(blocks: list[Block], chunk_chars: int, splitter: RecursiveCharacterTextSplitter) -> list[str]:
    """Greedy packing of units into chunks; only a single over-long paragraph is cut (at sentence ends)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for block in blocks:
        for unit in _units(block, chunk_chars, splitter):
            pieces = splitter.split_text(unit) if isinstance(block, Paragraph) and len(unit) > chunk_chars else [unit]
            for piece in pieces:
                if current and size + len(piece) + 1 > chunk_chars:
                    chunks.append("\n".join(current))
                    current, size = [], 0
                current.append(piece)
                size += len(piece) + 1
    if current:
        chunks.append("\n".join(current))
    return chunks


def _meaningful(text: str) -> bool:
    """Drop fragments too small to answer anything (a lone number, a bullet glyph)."""
    return sum(ch.isalnum() for ch in text) >= 8
