"""Cut cleaned documents into phone-sized passages that keep their heading and position.

Pure: takes an `ExtractedDocument`, returns `Chunk`s. Cleaning happens here per section so the headings
found in flattened text (short lines without final punctuation) become section names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.cleaning import clean_text, split_slide_markers
from ingest.extractors import ExtractedDocument

_SENTENCE_SEPARATORS = ["\n\n", "\n", "。", "!", "?", "!", "?", ";", ";", ",", ",", "、", " ", ""]
_HEADING_LINE = re.compile(
    r"^(?:#{1,6}\s*)?(?:第[一二三四五六七八九十百\d]+[章节部分篇条]|[一二三四五六七八九十]+[、.]|\d+(?:\.\d+)*[、.\s]|[((][一二三四五六七八九十\d]+[))])?"
    r"[^。!?;,,;!?]{2,28}$"
)
_ENDS_LIKE_SENTENCE = re.compile(r"[。!?;,、:,;:!?…]$")


@dataclass(frozen=True)
class Chunk:
    """A passage as a learner reads it, with the heading it sits under and its place in the document."""

    position: int
    section: str
    text: str
    page: int | None


def _is_heading(line: str) -> bool:
    line = line.strip()
    return bool(line) and len(line) <= 30 and not _ENDS_LIKE_SENTENCE.search(line) and bool(_HEADING_LINE.match(line))


def _blocks(heading: str | None, text: str) -> list[tuple[str, str]]:
    """Split one cleaned section into (heading, body) blocks at heading-like lines.

    Headings stay in the body (a learner reads them); runs of heading-like lines stay together, so a
    list of short lines is never lost.
    """
    blocks: list[tuple[str, str]] = []
    current_heading = heading or ""
    body: list[str] = []
    has_content = False
    for raw in text.splitlines():
        line = raw.strip().lstrip("#").strip()
        if not line:
            continue
        if _is_heading(line):
            if has_content:
                blocks.append((current_heading, "\n".join(body)))
                body, has_content = [], False
            current_heading = line
        else:
            has_content = True
        body.append(line)
    if body:
        blocks.append((current_heading, "\n".join(body)))
    return blocks


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
            for heading, body in _blocks(section.heading, cleaned):
                for piece in splitter.split_text(body):
                    if _meaningful(piece):
                        chunks.append(Chunk(len(chunks), heading, piece, section.page))
    return chunks


def _meaningful(text: str) -> bool:
    """Drop fragments too small to answer anything (a lone number, a bullet glyph)."""
    return sum(ch.isalnum() for ch in text) >= 8
