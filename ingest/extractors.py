"""Turn one knowledge-base file (txt, md, html, docx, pptx, pdf) into titled text sections.

`extract_document` picks an extractor by file extension, checks size and the obvious
failure modes first, and converts every library error into an `ExtractionError`
subclass whose `code` is stable and whose `message` is a short Simplified-Chinese
reason suitable for the ingest report.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.dammit import EncodingDetector
from bs4.element import PreformattedString

from ingest.archive_guard import ArchiveTooLarge, NotAnArchive, check_archive

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf", ".pptx"}
)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MD_HEADING = re.compile(r"^ {0,3}(#{1,3})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_MD_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_HTML_DROP = ("script", "style", "nav", "header", "footer", "iframe", "noscript", "template")
_HTML_HEADINGS = frozenset({"h1", "h2", "h3"})
_HTML_BLOCK_NAMES = """p div br li ul ol tr td th table section article main aside blockquote pre
dl dt dd h4 h5 h6 form figure figcaption"""
_HTML_BLOCKS = frozenset(_HTML_BLOCK_NAMES.split())
_GB_ALIASES = frozenset({"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "euc-cn", "gb18030"})


@dataclass(frozen=True)
class ExtractedSection:
    """One heading-delimited (or slide/page-delimited) piece of a document."""

    heading: str | None
    text: str
    page: int | None


@dataclass(frozen=True)
class ExtractedDocument:
    """The readable text of one file, split into sections."""

    path: Path
    title: str
    sections: tuple[ExtractedSection, ...]


class ExtractionError(Exception):
    """Base: a file could not be read; `message` is a short Chinese reason."""

    code: str = "unreadable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedFormat(ExtractionError):
    """The file extension has no extractor."""

    code = "unsupported_format"


class FileTooLarge(ExtractionError):
    """The file exceeds the configured size limit."""

    code = "too_large"


class EncryptedFile(ExtractionError):
    """The file is password-protected."""

    code = "encrypted"


class CorruptFile(ExtractionError):
    """The file is damaged, unreadable or not what its extension claims."""

    code = "corrupt"


class EmptyFile(ExtractionError):
    """The file contains no readable text."""

    code = "empty"


class ExpandsTooLarge(ExtractionError):
    """The file would expand past the limits once decompressed (a zip bomb, or a stream bomb in a PDF)."""

    code = "expands_too_large"


class TooMuchText(ExtractionError):
    """The file yields more text than one document may hold."""

    code = "too_much_text"


MAX_TEXT_CHARS = 5_000_000  # about 2,500 pages of Chinese: more is no document a learner reads, but a flood


_Result = tuple[str | None, list[ExtractedSection]]


def _section(heading: str | None, text: str, page: int | None = None) -> ExtractedSection:
    """Build a section with trimmed heading and text."""
    return ExtractedSection((heading or "").strip() or None, text.strip(), page)


def _decode_text(data: bytes) -> str:
    """Decode UTF-8 (BOM ok), UTF-16 with BOM, GB18030 or Big5; else CorruptFile."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030", "big5")
    for encoding in encodings:
        try:
            return data.decode(encoding).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            continue
    raise CorruptFile("无法识别文件的文字编码（支持 UTF-8、GB18030、Big5）")


def _extract_txt(data: bytes) -> _Result:
    """Plain text: one section without heading."""
    return None, [_section(None, _decode_text(data))]


_MD_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")


def _extract_markdown(data: bytes) -> _Result:
    """Markdown: split at #..### headings, ignoring fenced code blocks."""
    sections: list[ExtractedSection] = []
    heading: str | None = None
    lines: list[str] = []
    in_fence = False
    for line in _decode_text(data).split("\n"):
        if _MD_FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _MD_HEADING.match(line)
        if match:
            sections.append(_section(heading, "\n".join(lines)))
            heading, lines = match.group(2), []
        else:
            lines.append(line if in_fence else _MD_EMPHASIS.sub(lambda m: m.group(1) or m.group(2), line))
    sections.append(_section(heading, "\n".join(lines)))
    title = next((s.heading for s in sections if s.heading), None)
    return title, sections


def _make_soup(data: bytes) -> BeautifulSoup:
    """Parse HTML bytes, treating declared GB2312/GBK as its superset GB18030."""
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    if declared and declared.lower() in _GB_ALIASES:
        return BeautifulSoup(data, "lxml", from_encoding="gb18030")
    return BeautifulSoup(data, "lxml")


def _clean_lines(parts: list[str]) -> str:
    """Join text fragments, collapsing runs of whitespace and dropping blank lines."""
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _is_body_string(node: object) -> bool:
    """True for visible text nodes (not comments/doctype) outside h1–h3."""
    if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
        return False
    return node.find_parent(_HTML_HEADINGS) is None


def _mark_html_structure(soup: BeautifulSoup) -> None:
    """Tables become `| a | b |` rows and list items get a marker, so structure survives as text."""
    for table in reversed(soup.find_all("table")):  # inner tables first
        rows = []
        for tr in table.find_all("tr"):
            cells = [" ".join(c.get_text(" ", strip=True).split()) for c in tr.find_all(["td", "th"], recursive=False)]
            if any(cells):
                rows.append(cells)
        table.replace_with(soup.new_string("\n" + "\n".join(markdown_rows(iter(rows))) + "\n"))
    for li in soup.find_all("li"):
        parent = li.find_parent(["ol", "ul"])
        marker = f"{len(li.find_previous_siblings('li')) + 1}. " if parent is not None and parent.name == "ol" else "- "
        li.insert(0, soup.new_string(marker))


def _extract_html(data: bytes) -> _Result:
    """HTML: drop page chrome and scripts, split at h1–h3."""
    soup = _make_soup(data)
    title_tag = soup.find("title")
    page_title = title_tag.get_text(" ", strip=True) if title_tag else ""
    for tag in soup.find_all(_HTML_DROP):
        tag.decompose()
    _mark_html_structure(soup)
    first_h1 = soup.find("h1")
    root = soup.body or soup
    sections: list[ExtractedSection] = []
    heading: str | None = None
    parts: list[str] = []
    for node in root.descendants:
        if isinstance(node, Tag):
            if node.name in _HTML_HEADINGS:
                sections.append(_section(heading, _clean_lines(parts)))
                heading, parts = node.get_text(" ", strip=True), []
            elif node.name in _HTML_BLOCKS:
                parts.append("\n")
        elif _is_body_string(node):
            parts.append(str(node))
    sections.append(_section(heading, _clean_lines(parts)))
    title = page_title or (first_h1.get_text(" ", strip=True) if first_h1 else None)
    return title, sections


def _is_docx_heading(style_name: str) -> bool:
    """True for Heading*/标题*/Title paragraph styles."""
    name = style_name.strip().lower()
    return name.startswith(("heading", "标题")) or name == "title"


def markdown_rows(rows: Iterator[list[str]]) -> Iterator[str]:
    """Table rows as `| a | b |` lines, the first one (the header) followed by a `|---|` separator.

    Every extractor writes tables this way, so `ingest.blocks` reads them with their header."""
    for number, cells in enumerate(rows):
        yield "| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |"
        if number == 0:
            yield "|" + "---|" * len(cells)


def _docx_table_lines(table: Any) -> Iterator[str]:
    """Markdown-style rows of a Word table, skipping merged-cell repeats."""
    yield from markdown_rows(_docx_table_cells(table))


def _docx_table_cells(table: Any) -> Iterator[list[str]]:
    for row in table.rows:
        cells: list[str] = []
        seen: list[Any] = []
        for cell in row.cells:
            if any(cell._tc is tc for tc in seen):
                continue
            seen.append(cell._tc)
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            yield cells


def _extract_docx(data: bytes) -> _Result:
    """Word: heading-styled paragraphs start sections; tables kept in document order."""
    import docx
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    sections: list[ExtractedSection] = []
    heading: str | None = None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_docx_table_lines(block))
        elif block.style is not None and _is_docx_heading(block.style.name or "") and block.text.strip():
            sections.append(_section(heading, "\n".join(lines)))
            heading, lines = block.text, []
        else:
            lines.append(block.text)
    sections.append(_section(heading, "\n".join(lines)))
    core_title = (document.core_properties.title or "").strip()
    return core_title or next((s.heading for s in sections if s.heading), None), sections


def _pptx_shape_lines(shapes: Any, skip_id: int | None) -> Iterator[str]:
    """Yield text of text frames, tables and grouped shapes, recursively."""
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        if shape.shape_id == skip_id:
            continue
        if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
            yield from _pptx_shape_lines(shape.shapes, skip_id)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text.replace("\v", "\n")
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = ([" ".join(cell.text.split()) for cell in row.cells] for row in shape.table.rows)
            yield from markdown_rows(cells for cells in rows if any(cells))


def _extract_pptx(data: bytes) -> _Result:
    """PowerPoint: one section per slide, title placeholder as heading, notes appended."""
    import pptx

    presentation = pptx.Presentation(io.BytesIO(data))
    sections: list[ExtractedSection] = []
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        heading = title_shape.text_frame.text.replace("\v", " ") if title_shape is not None else None
        skip_id = title_shape.shape_id if title_shape is not None else None
        lines = [line for line in _pptx_shape_lines(slide.shapes, skip_id) if line.strip()]
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                lines += ["备注:", notes]
        sections.append(_section(heading, "\n".join(lines), number))
    return (sections[0].heading if sections else None), sections


def _extract_pdf(data: bytes) -> _Result:
    """PDF: one section per page with text; empty owner password tried for encrypted files."""
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            unlocked = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except DependencyError as exc:
            raise EncryptedFile("PDF 已加密，且加密方式暂不支持读取") from exc
        if not unlocked:
            raise EncryptedFile("文件有密码保护，请去除密码后重新上传")
    sections = [_section(None, page.extract_text() or "", number) for number, page in enumerate(reader.pages, start=1)]
    meta_title = ((reader.metadata.title if reader.metadata else None) or "").strip()
    return (meta_title if meta_title.lower() not in ("", "untitled") else None), sections


_EXTRACTORS: dict[str, Callable[[bytes], _Result]] = {
    ".txt": _extract_txt,
    ".md": _extract_markdown,
    ".markdown": _extract_markdown,
    ".html": _extract_html,
    ".htm": _extract_html,
    ".docx": _extract_docx,
    ".pptx": _extract_pptx,
    ".pdf": _extract_pdf,
}


def _megabytes(size: int) -> str:
    """Format a byte count as megabytes without trailing zeros."""
    return f"{size / (1024 * 1024):.2f}".rstrip("0").rstrip(".")


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """Check size, then read the file, mapping OS errors to ExtractionError."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FileTooLarge(f"文件大小 {_megabytes(size)} MB，超过 {_megabytes(max_bytes)} MB 的上限")
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise CorruptFile("找不到文件") from exc
    except PermissionError as exc:
        raise CorruptFile("没有读取该文件的权限") from exc
    except OSError as exc:
        raise CorruptFile("无法读取文件") from exc


def _check_archive(data: bytes) -> None:
    """docx/pptx are zip archives: refuse one that would expand past the limits before any library opens it."""
    try:
        check_archive(data)
    except ArchiveTooLarge as exc:
        raise ExpandsTooLarge(exc.message) from exc
    except NotAnArchive as exc:
        raise CorruptFile("文件已损坏或格式不正确") from exc


def _is_expansion_error(exc: Exception) -> bool:
    """Out of memory, or pypdf refusing a stream that would inflate past its limit."""
    return isinstance(exc, MemoryError) or type(exc).__name__ == "LimitReachedError"


def extract_document(
    path: Path, *, max_bytes: int = 50 * 1024 * 1024, max_text_chars: int = MAX_TEXT_CHARS
) -> ExtractedDocument:
    """Extract title and sections from `path`, or raise an ExtractionError subclass."""
    path = Path(path)
    suffix = path.suffix.lower()
    extractor = _EXTRACTORS.get(suffix)
    if extractor is None:
        raise UnsupportedFormat(f"不支持的文件格式：{suffix or '无扩展名'}")
    data = _read_bytes(path, max_bytes)
    if not data or data.isspace():
        raise EmptyFile("文件没有可读的文字")
    if suffix in (".docx", ".pptx") and data.startswith(_OLE_MAGIC):
        raise EncryptedFile("文件有密码保护（或为旧版 .doc/.ppt 格式），请去除密码或另存为新格式后重新上传")
    if suffix in (".docx", ".pptx"):
        _check_archive(data)
    try:
        title, sections = extractor(data)
    except ExtractionError:
        raise
    except Exception as exc:
        if _is_expansion_error(exc):
            raise ExpandsTooLarge("文件解压或展开后过大,超出处理上限,已拒绝") from exc
        raise CorruptFile("文件已损坏或格式不正确") from exc
    kept = tuple(s for s in sections if s.text or s.heading)
    chars = sum(len(s.text) + len(s.heading or "") for s in kept)
    if chars > max_text_chars:
        raise TooMuchText(f"文件的文字有 {chars:,} 字,超过单个文件 {max_text_chars:,} 字的上限,请拆分后再上传")
    if not any(s.text for s in kept):
        raise EmptyFile("文件没有可读的文字")
    title = (title or "").strip() or (None if _GENERATED_NAME.fullmatch(path.stem) else path.stem)
    title = title or _title_from_text(kept) or path.stem
    return ExtractedDocument(path=path, title=title, sections=kept)


_GENERATED_NAME = re.compile(r"[\d_\-.]*[0-9a-fA-F_\-]{8,}[\d_\-.]*")  # 004_1e625e82544b89b4: a hash, no name
_TITLE_DECOR = re.compile(r"^[-—=*#|“”\"'《》\s]+|[-—=*#|“”\"'\s::]+$")


def _title_from_text(sections: tuple[ExtractedSection, ...]) -> str:
    """A document with no title of its own is named by its first heading or opening line (cleaned), not
    by its file name, which for scraped pages is a hash."""
    from ingest.cleaning import clean_text

    heading = next((s.heading for s in sections if s.heading), None)
    if heading:
        return heading
    for section in sections[:3]:
        for line in clean_text(section.text[:4000]).splitlines():
            line = _TITLE_DECOR.sub("", line)
            if sum(ch.isalnum() for ch in line) >= 4:
                return line if len(line) <= 40 else line[:40] + "…"
    return ""
