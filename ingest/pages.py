"""What a document prints on every page or slide besides its content. Pure functions, no I/O.

`split_slide_markers` cuts flattened slide decks at their "7/55" page footers (the page number is sometimes
doubled: "1313/55" is page 13) and drops the deck's navigation bar glued into each slide (`drop_deck_header`);
`remove_slide_markers` turns those footers into line breaks. `drop_running_headers` keeps once a short line printed
on every page ("作者@《书名》2022").
"""

from __future__ import annotations

import re
from collections import Counter

from ingest.chinese_text import count_letters
from ingest.repeats import REPEAT_MIN, is_copy, segment_letters

_MARKER = re.compile(r"(?<![\d/(（])(\d{1,6})/(\d{1,3})(?![\d/%)）])")
_MIN_MARKERS = 3  # a deck footer "N/55" repeats; a lone "3/5" in prose is not a slide boundary
# Page chrome: a short line on every page, or a deck's navigation bar glued into each slide.
_HEADER_MAX = 30  # characters of a running header or footer line
_HEADER_MIN_LETTERS = 6
_HEADER_MIN_REPEATS = 3
_DECK_HEADER_SHARE = 0.3  # of the slides that print the same run of `REPEAT_MIN` letters
_DECK_HEADER_MIN_SLIDES = 5


def _slide_markers(text: str) -> list[tuple[int, int]]:
    """Spans of "N/M" page footers (page digits only; digits of the text before them stay)."""
    found = list(_MARKER.finditer(text))
    counts = Counter(m.group(2) for m in found).most_common(1)
    if not counts or counts[0][1] < _MIN_MARKERS:
        return []
    total = counts[0][0]
    spans: list[tuple[int, int]] = []
    expected: int | None = None
    in_order = 0
    for m in (m for m in found if m.group(2) == total):
        size, page = _page_number(m.group(1), expected, int(total))
        spans.append((m.end(1) - size, m.end()))
        in_order += page == expected
        expected = page + 1
    return spans if in_order * 2 >= len(spans) - 1 else []  # footers count up; "1/2 … 1/2" do not


def _page_number(digits: str, expected: int | None, total: int) -> tuple[int, int]:
    """(trailing digits that belong to the footer, page number); "1313" is page 13 printed twice."""
    if expected is not None:
        page = str(expected)
        for size in (2 * len(page), len(page)):
            if digits.endswith(page * (size // len(page))):
                return size, expected
    half = len(digits) // 2
    if len(digits) % 2 == 0 and digits[:half] == digits[half:]:
        return len(digits), int(digits[:half])
    for size in range(len(digits), 0, -1):
        tail = digits[-size:]
        if not tail.startswith("0") and int(tail) <= 2 * total + 5:
            return size, int(tail)
    return len(digits), int(digits)


def split_slide_markers(text: str) -> list[str]:
    """Split flattened slide text at its "N/M" page footers (removed); `[text]` when there are none.

    The deck's running header (see `drop_deck_header`) stays on the first slide that prints it only.
    """
    spans = _slide_markers(text)
    if not spans:
        return [text]
    bounds = [0, *(i for span in spans for i in span), len(text)]
    parts = (text[bounds[i] : bounds[i + 1]].strip() for i in range(0, len(bounds), 2))
    return drop_deck_header([part for part in parts if part])


def drop_deck_header(slides: list[str]) -> list[str]:
    """Remove what a deck prints on many slides (its navigation bar, glued to each slide's title).

    A run of `REPEAT_MIN` letters that at least `_DECK_HEADER_SHARE` of the slides (and five) hold is
    chrome; the stretch of text such runs cover becomes a line break, except on the first slide.
    """
    letters = [segment_letters(slide, 0, len(slide)) for slide in slides]
    flat = ["".join(ch for ch, _ in piece) for piece in letters]
    size = REPEAT_MIN
    counts = Counter(gram for text in flat for gram in {text[i : i + size] for i in range(len(text) - size + 1)})
    least = max(_DECK_HEADER_MIN_SLIDES, _DECK_HEADER_SHARE * len(slides))
    running = {gram for gram, count in counts.items() if count >= least and is_copy(gram)}
    if not running:
        return slides
    out: list[str] = []
    shown = False  # the header stays where it first appears
    for slide, piece, text in zip(slides, letters, flat, strict=True):
        covered = [False] * len(text)
        for i in range(len(text) - size + 1):
            if text[i : i + size] in running:
                covered[i : i + size] = [True] * size
        if not shown or not any(covered):
            shown = shown or any(covered)
            out.append(slide)
            continue
        for start, end in reversed(_true_runs(covered)):
            slide = slide[: piece[start][1]] + "\n" + slide[piece[end - 1][1] + 1 :]
        out.append(slide.strip())
    return [slide for slide in out if slide]


def _true_runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(start, end) of each run of True."""
    runs: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if flag and (not runs or runs[-1][1] != i):
            runs.append((i, i + 1))
        elif flag:
            runs[-1] = (runs[-1][0], i + 1)
    return runs


def remove_slide_markers(text: str) -> str:
    """`text` with each "N/M" page footer turned into a line break (the slides stay one text)."""
    for start, end in reversed(_slide_markers(text)):
        text = text[:start] + "\n" + text[end:]
    return text


def drop_running_headers(text: str) -> str:
    """Keep once a short line that recurs page after page: a running header or footer ("作者@《书名》")."""
    lines = text.split("\n")
    keys = ["".join(line.split()) for line in lines]
    counts = Counter(key for key in keys if _is_header_line(key))
    seen: set[str] = set()
    kept: list[str] = []
    for line, key in zip(lines, keys, strict=True):
        if counts[key] >= _HEADER_MIN_REPEATS:
            if key in seen:
                continue
            seen.add(key)
        kept.append(line)
    return "\n".join(kept)


def _is_header_line(key: str) -> bool:
    return len(key) <= _HEADER_MAX and count_letters(key) >= _HEADER_MIN_LETTERS and not key.startswith("|")
