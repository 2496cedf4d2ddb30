"""Text that extraction printed twice, kept once. Pure functions, no I/O.

`collapse_doubled_phrases` keeps once the phrases PDF extraction printed twice ("采用BPR管理技术 采用BPR管理技术"),
WordArt letters printed three times, slide text boxes printed twice and split differently (compared on letters, so
a quote mark or space between the copies does not hide them), a title repeated on consecutive lines, a paragraph
printed again, and a truncated "..." preview of a later line. Repeats that carry meaning stay: table rows sharing
values, parallel list items, terms a sentence repeats. `ingest.pages` uses the same letter comparison
(`segment_letters`, `is_copy`) for a deck's navigation bar.
"""

from __future__ import annotations

import itertools
import re

from ingest.chinese_text import CJK, count_letters, fold_letter

_CJK_CHAR = re.compile(rf"[{CJK}]")
_SEP = r"[ \t\u3000]*(?:[,,、;;::。.!?!?][ \t\u3000]*)?"
_DOUBLED = re.compile(rf"(?P<u>\S[^\n]{{4,78}}?\S)(?:{_SEP}(?P=u))+")
_DOUBLED_SHORT = re.compile(rf"(?<![{CJK}])(?P<u>[{CJK}]{{4,5}}[,,::;;、。])(?:[ \t\u3000]+(?P=u))+")
_TRIPLED = re.compile(rf"(?:([{CJK}])\1\1(?!\1)){{3,}}")  # WordArt: 对对对待待待顾顾顾 → 对待顾
# Slide text printed twice, compared on letters only (spaces, punctuation and quote marks aside).
_SEGMENT = re.compile(r"\S+")
REPEAT_MIN = 8  # letters of a repeated run of whole segments, as `ingest.quality` counts a doubling
_REPEAT_MIN_CJK = 4  # "[4-6-8] 等级1、2、3" repeated is a table's values, not a doubled phrase
_REPEAT_PREFIX_MIN = 10  # letters when the copy runs on into new text: "完善客户经理晋升通道,职级"
_LIST_MARK = re.compile(r"[•·\-*]|\d{1,2}[、.)]|[(（]\d{1,2}[)）]|[①-⑳]")  # parallel items may start alike
_REPEAT_LOOK = 3  # segments: how far back a copy's source (or ahead its fuller version) may start
_PARAGRAPH_MIN_LETTERS = 20  # a line this long printed again in the same document is a duplicate
_ELLIPSIS = re.compile(r"(?:\.{3,}|…+)$")
_TITLE = re.compile(r".{5,39}[^。!?!?;;,,]")  # a title line, when the next line starts with it again
# A slide text box printed again right after itself, a scrap of it between the copies:
# "过程跟踪”四个子系统, ”“过程跟踪 常工作管理…过程跟踪”四个子系统" (letters compared, as `is_copy`).
_RESTATED_MIN = 10  # letters of the copy
_RESTATED_MIN_CJK = 6  # Chinese letters of it: "[18-21-24] 等级1、2、3" twice is two table cells
_RESTATED_GAP = 4  # letters between the copies, all of them a piece of the copy itself
_RESTATED_REACH = 80  # letters from the start of one copy to the start of the next
# A book title's end printed twice: "双赢谈判 技巧》 技巧》中级" (a closing mark without its opening one).
_DOUBLED_CLOSE = re.compile(rf"(?<![{CJK}《「『“(（])(?P<u>[{CJK}]{{1,8}}[》」』”)）])(?:[ \t\u3000]+(?P=u))+")


def collapse_doubled_phrases(text: str) -> str:
    """Keep once what extraction printed twice: phrases within a line, titles and previews across lines."""
    text = _TRIPLED.sub(lambda m: m.group(0)[::3] if len(set(m.group(0))) >= 3 else m.group(0), text)
    for _ in range(3):  # a second pass catches a repeat whose first copy overlapped an earlier one
        collapsed = _DOUBLED.sub(lambda m: m.group("u") if _is_phrase(m.group("u")) else m.group(0), text)
        if collapsed == text:
            break
        text = collapsed
    text = _DOUBLED_SHORT.sub(lambda m: m.group("u") if len(set(m.group("u"))) >= 4 else m.group(0), text)
    text = _DOUBLED_CLOSE.sub(r"\g<u>", text)
    text = "\n".join(_drop_restated_box(_drop_repeated_segments(line)) for line in text.split("\n"))
    return _dedupe_lines(text)


def _drop_restated_box(line: str) -> str:
    """Drop the second copy of a run of `_RESTATED_MIN` letters that follows the first at once, or after at
    most `_RESTATED_GAP` letters that repeat a piece of it (a scrap of the box: "IT IT现", "过程跟踪").

    Letters other than a scrap of the copy between the copies ("移动合并铁通,取得… 联通合并网通,取得…",
    "A部门负责… B部门负责…") are parallel items and stay; so does a copy with fewer than
    `_RESTATED_MIN_CJK` Chinese letters (table values).
    """
    letters = segment_letters(line, 0, len(line))
    flat = "".join(ch for ch, _ in letters)
    size = _RESTATED_MIN
    seen: dict[str, list[int]] = {}
    for second in range(len(flat) - size + 1):
        gram = flat[second : second + size]
        for first in seen.get(gram, ()):
            distance = second - first
            if distance < size or distance > _RESTATED_REACH:
                continue
            length = size
            while second + length < len(flat) and flat[first + length] == flat[second + length] and length < distance:
                length += 1
            gap = flat[first + length : second]
            copy = flat[first : first + length]
            if len(gap) > _RESTATED_GAP or (gap and gap not in flat[second : second + length + 2]):
                continue
            if not is_copy(copy) or len(_CJK_CHAR.findall(copy)) < _RESTATED_MIN_CJK:
                continue
            start, end = letters[first + length - 1][1] + 1, letters[second + length - 1][1] + 1
            return _drop_restated_box(line[:start] + line[end:])
        seen.setdefault(gram, []).append(second)
    return line


_Letters = list[tuple[str, int]]  # (folded letter, position in the line)


def _drop_repeated_segments(line: str) -> str:
    """Drop space-separated pieces of a line that repeat the piece just before them or preview the next.

    Flattened slides print a text box twice, split differently: "季度考核 服务质量评估 季度考核”服务质量评估",
    "是否建立考核、激励机制,保证… 是否建立考核、激励机制,". A run of whole pieces whose letters
    occur in the last few kept pieces, overlapping the last one, is a copy; so is a run contained in the
    pieces right after it (the first line of a text box before the whole box). A copy that runs on into
    new text ("…晋升通道,职级") loses only the copied part. Table cells repeated further apart stay.
    """
    segments = [(m.start(), m.end()) for m in _SEGMENT.finditer(line)]
    if len(segments) < 2:
        return line
    letters = [segment_letters(line, start, end) for start, end in segments]
    gone = [False] * len(line)
    kept: list[int] = []
    i = 0
    while i < len(segments):
        cut = None if _LIST_MARK.match(line, segments[i][0]) else _copy_of_previous(segments, letters, kept, i)
        if cut is None:
            ahead = _preview_of_next(letters, i)
            if ahead is not None:
                cut = (ahead, segments[ahead][1])
        if cut is None:
            kept.append(i)
            i += 1
            continue
        last, end = cut
        for pos in range(segments[i][0], end):
            gone[pos] = True
        if end < segments[last][1]:  # the rest of a piece the copy ran into stays
            segments[last] = (end, segments[last][1])
            letters[last] = [(ch, pos) for ch, pos in letters[last] if pos >= end]
            i = last
        else:
            i = last + 1
    return "".join(ch for ch, dropped in zip(line, gone, strict=True) if not dropped)


def segment_letters(line: str, start: int, end: int) -> _Letters:
    """The letters of `line[start:end]`, folded for comparison, with their positions."""
    folded = ((fold_letter(ch), pos) for pos, ch in enumerate(line[start:end], start))
    return [(ch, pos) for ch, pos in folded if ch]


def _copy_of_previous(
    segments: list[tuple[int, int]], letters: list[_Letters], kept: list[int], i: int
) -> tuple[int, int] | None:
    """(last piece, end position) of a copy, starting at piece `i`, of what the kept pieces just said."""
    if not kept:
        return None
    recent = "".join(ch for k in kept[-_REPEAT_LOOK:] for ch, _ in letters[k])
    last_start = len(recent) - len(letters[kept[-1]])
    ahead = [(ch, pos, k) for k in range(i, min(i + 2 * _REPEAT_LOOK, len(letters))) for ch, pos in letters[k]]
    run = "".join(ch for ch, _, _ in ahead)
    if run[:REPEAT_MIN] not in recent:
        return None
    whole_sizes = [n for n in range(1, len(ahead) + 1) if n == len(ahead) or ahead[n][2] != ahead[n - 1][2]]
    sizes_down = range(min(len(run), len(recent)), REPEAT_MIN - 1, -1)
    longest = next((n for n in sizes_down if _overlaps(recent, run[:n], last_start)), 0)
    sizes = [longest] if longest >= _REPEAT_PREFIX_MIN else []
    sizes += [n for n in reversed(whole_sizes) if REPEAT_MIN <= n <= longest]
    for size in sizes:
        _, pos, k = ahead[size - 1]
        if is_copy(run[:size]) and _overlaps(recent, run[:size], last_start):
            if size in whole_sizes:
                return k, segments[k][1]
            return k, _after_punctuation(letters[k], pos, segments[k][1])
    return None


def _overlaps(recent: str, run: str, last_start: int) -> bool:
    """`run` occurs in `recent` and reaches into its last piece (which starts at `last_start`)."""
    return recent.find(run, max(0, last_start - len(run) + 1)) >= 0


def _after_punctuation(piece: _Letters, pos: int, end: int) -> int:
    """Position after the letter at `pos` and the punctuation that follows it inside the piece."""
    return next((p for _, p in piece if p > pos), end)


def _preview_of_next(letters: list[_Letters], i: int) -> int | None:
    """Last piece of a run, starting at piece `i`, that the next pieces repeat with more besides."""
    best = None
    run = ""
    for m in range(i, min(i + _REPEAT_LOOK, len(letters) - 1)):
        run += "".join(ch for ch, _ in letters[m])
        if len(run) < REPEAT_MIN or not is_copy(run):
            continue
        following = letters[m + 1 : m + 1 + _REPEAT_LOOK]
        text = "".join(ch for piece in following for ch, _ in piece)
        found = text.find(run)
        if found < 0 or found > 2 or _CJK_CHAR.search(text[:found]):  # "5月起…" after "月起…" still counts
            continue
        ends = list(itertools.accumulate(len(piece) for piece in following))
        if next(end for end in ends if end >= found + len(run)) > len(run):  # the fuller version
            best = m
    return best


def is_copy(run: str) -> bool:
    """Enough to count as a copy: four different letters, `_REPEAT_MIN_CJK` of them Chinese."""
    return len(set(run)) >= 4 and len(_CJK_CHAR.findall(run)) >= _REPEAT_MIN_CJK


def _is_phrase(unit: str) -> bool:
    """A real repeated phrase: several letters, not a run of one short piece ("哈哈哈哈哈哈")."""
    return len(set(unit)) >= 3 and count_letters(unit) >= 4 and (unit + unit).find(unit, 1) == len(unit)


def _dedupe_lines(text: str) -> str:
    """Drop repeated lines (a paragraph the page printed again anywhere, a line repeated at once) and
    "..." previews of a coming line; untie a title from its repeat."""
    lines = text.split("\n")
    squeezed = ["".join(line.split()) for line in lines]
    out: list[str] = []
    last = ""  # squeezed form of the last kept non-blank line
    paragraphs: set[str] = set()
    for i, (line, flat) in enumerate(zip(lines, squeezed, strict=True)):
        preview = _ELLIPSIS.sub("", flat)
        if preview != flat and len(preview) >= 10:
            later = itertools.islice((s for s in squeezed[i + 1 : i + 40] if s), 3)
            if any(s.startswith(preview) and s != flat for s in later):
                continue
        if flat and flat == last:
            continue
        if _TITLE.fullmatch(last) and flat.startswith(last) and flat != last:
            line = _drop_prefix(line, last)
        untied = "".join(line.split())
        if untied in paragraphs:
            continue
        if count_letters(untied) >= _PARAGRAPH_MIN_LETTERS:
            paragraphs.add(untied)
        out.append(line)
        last = flat or last
    return "\n".join(out)


def _drop_prefix(line: str, prefix: str) -> str:
    """`line` without its leading `prefix` (compared ignoring whitespace)."""
    matched = 0
    for pos, ch in enumerate(line):
        if matched == len(prefix):
            return line[pos:].lstrip()
        if not ch.isspace():
            matched += 1
    return line
