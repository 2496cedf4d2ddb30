"""What cleaning left behind in passages, measured: doubled runs and mojibake. Pure functions, no I/O.

* A **doubled run** is a run of at least `DOUBLED_MIN` letters that occurs again, the second copy starting
  at most `DOUBLED_WITHIN` characters after the first one ends. Letters are the CJK characters, ASCII
  letters and digits of the text (NFKC, lower-case); spaces, punctuation and quote marks do not count, so
  "季度考核 服务质量" and "季度考核”服务质量" are the same run. A run of fewer than
  `DOUBLED_MIN_DISTINCT` different letters ("哈哈哈哈哈哈哈哈") is not a doubling. This counts repeats that
  carry meaning too: parallel list items ("经营理念之一…经营理念之二…"), table rows sharing values, terms
  prose repeats, a title the abstract restates.
* An **adjacent double** is the narrower case of a doubled run: its second copy follows the first at once,
  nothing but spaces, punctuation, quote marks and line breaks between them ("来电提醒 业务流程优化工作限于局部
  来电提醒”业务流程优化工作限于局部"). New letters between the copies (another item's own words) make it
  parallel text, not a double. It misses copies with a scrap of text between them ("…四个子系统, 过程跟踪
  …四个子系统"), which only the doubled run counts.
* **Mojibake** is text decoded a byte off (GBK bytes read one byte late, as in these scraped pages). The
  decoder writes "?" for a byte it cannot read and pairs the wrong bytes until an ASCII byte puts it back
  in step, so a run of characters real text does not hold appears: *suspects*. Strong suspects: CJK
  outside GB2312 (after t2s) and outside Big5's frequent characters; in a Traditional line, a
  Simplified-only form Big5 lacks; GBK's symbol rows (bopomofo, parenthesised numbers); a lone ASCII
  letter right after another suspect; the ASCII byte in "?," or "?;". Weak suspects: CJK outside
  GB2312 level 1 and Big5's frequent characters; a lone letter glued to Chinese ("服务A+类").
  A run starts at a "?" glued to what follows, or at a strong CJK suspect (its "?" may be gone), and
  chains over suspects and "?" each within `MOJIBAKE_REACH` characters of the last; it is mojibake when
  it holds two suspects, one of them strong: "銷售部門?撠熁卦L,確保" is "銷售部門負責回訪,確保"
  with a byte lost. U+FFFD, private-use
  characters and C1 controls are undecodable anywhere.
  Not mojibake: a rare character alone (朱镕基), a "?" before ordinary text (a question mark, a bullet
  glyph), Traditional Chinese (read line by line). Not seen either: Simplified text read a byte off
  often decodes into common characters ("卑词被胤弥匾?"), which only re-decoding could tell.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import opencc

DOUBLED_MIN = 8
DOUBLED_WITHIN = 80
DOUBLED_MIN_DISTINCT = 4
MOJIBAKE_REACH = 4

_CJK_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_LETTER = re.compile(rf"[{_CJK_RANGES}a-z0-9]")
_CJK = re.compile(rf"[{_CJK_RANGES}]")
_UNDECODABLE = re.compile(r"[\ufffd\ue000-\uf8ff\U000f0000-\U0010ffff\x80-\x9f]")
_GBK_SYMBOL = re.compile(r"[\u3105-\u3129\u2474-\u249b]")  # bopomofo, ⑴-⒇, ⒈-⒛: GBK rows A8 and A2
_LONE_LETTER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z^](?![A-Za-z0-9])")
_TRADITIONAL_SHARE = 0.1  # of a line's CJK characters that t2s changes: the line is in Traditional


@dataclass(frozen=True)
class DoubledRun:
    """The same run of letters twice, close together: spans into the passage text."""

    run: str
    first: tuple[int, int]
    second: tuple[int, int]


def find_doubled_run(text: str) -> DoubledRun | None:
    """The first run of `DOUBLED_MIN` letters that comes again within `DOUBLED_WITHIN` characters."""
    positions, letters = _letters(text)
    size = DOUBLED_MIN
    for earlier, start in _repeated_grams(letters):
        first = (positions[earlier], positions[earlier + size - 1] + 1)
        if earlier + size <= start and positions[start] - first[1] <= DOUBLED_WITHIN:
            return DoubledRun(letters[start : start + size], first, (positions[start], positions[start + size - 1] + 1))
    return None


def _repeated_grams(letters: str) -> Iterator[tuple[int, int]]:
    """(earlier, start) for each run of `DOUBLED_MIN` letters (of `DOUBLED_MIN_DISTINCT` different ones) seen
    again at `start`, in reading order."""
    size = DOUBLED_MIN
    seen: dict[str, list[int]] = {}
    for start in range(len(letters) - size + 1):
        gram = letters[start : start + size]
        if len(set(gram)) < DOUBLED_MIN_DISTINCT:
            continue
        for earlier in seen.get(gram, ()):
            yield earlier, start
        seen.setdefault(gram, []).append(start)


def find_adjacent_double(text: str) -> DoubledRun | None:
    """The first run of at least `DOUBLED_MIN` letters followed at once by itself (only non-letters between the
    copies) that `find_doubled_run` counts too (some `DOUBLED_MIN` letters of it come again within
    `DOUBLED_WITHIN` characters); `run` is the whole repeated run."""
    positions, letters = _letters(text)
    size = DOUBLED_MIN
    for earlier, start in _repeated_grams(letters):
        length = start - earlier
        if length < size or letters[earlier:start] != letters[start : start + length]:
            continue
        if positions[start] - positions[earlier + size - 1] - 1 <= DOUBLED_WITHIN:  # a doubled run, too
            first = (positions[earlier], positions[start - 1] + 1)
            return DoubledRun(letters[earlier:start], first, (positions[start], positions[start + length - 1] + 1))
    return None


def _letters(text: str) -> tuple[list[int], str]:
    """Positions of the letters of `text` (NFKC, lower-case) and those letters."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):  # NFKC changed length ("…" → "..."): positions would not map
        folded = text.lower()
    positions = [i for i, ch in enumerate(folded) if _LETTER.match(ch)]
    return positions, "".join(folded[i] for i in positions)


def find_mojibake(text: str) -> list[tuple[int, int]]:
    """Spans of undecodable text, in order and not overlapping."""
    spans = [m.span() for m in _UNDECODABLE.finditer(text)]
    strong, weak = _suspects(text)
    marks = sorted(strong | weak | {i for i, ch in enumerate(text) if ch == "?"})
    for start, ch in enumerate(text):
        glued_mark = ch == "?" and start + 1 < len(text) and not text[start + 1].isspace()
        if glued_mark or (start in strong and _CJK.match(ch)):
            end = _run_end(start, strong, weak, marks)
            if end is not None:
                while text[end - 1] in ",;:":  # a real comma after the garbage stays
                    end -= 1
                while start > 0 and (text[start - 1] == "?" or start - 1 in strong or start - 1 in weak):
                    start -= 1  # the garbage this run's first suspect ends
                spans.append((start, end))
    return _merge(spans)


def has_mojibake(text: str) -> bool:
    return bool(find_mojibake(text))


def _run_end(start: int, strong: set[int], weak: set[int], marks: list[int]) -> int | None:
    """End of the chain of suspects and "?" from `start`, each within reach of the last; None unless the
    chain holds two suspects, one of them strong."""
    end, last = None, start
    count, has_strong = int(start in strong), start in strong
    for pos in marks:
        if pos <= start:
            continue
        if pos - last > MOJIBAKE_REACH:
            break
        count += pos in strong or pos in weak
        has_strong = has_strong or pos in strong
        if count >= 2 and has_strong:
            end = pos + 1
        last = pos
    return end


def _suspects(text: str) -> tuple[set[int], set[int]]:
    """Positions of strong and of weak suspects: characters real Chinese text rarely holds."""
    traditional = _traditional_lines(text)
    strong, weak = set(), set()
    for i, ch in enumerate(text):
        if _GBK_SYMBOL.match(ch) or _is_very_rare_cjk(ch) or (traditional[i] and _simplified_only(ch)):
            strong.add(i)
        elif _is_rare_cjk(ch):
            weak.add(i)
        elif ch in ",;:" and i > 0 and text[i - 1] == "?":
            strong.add(i)  # the ASCII byte after an undecodable one; nobody writes "?," or "?;"
    for m in _LONE_LETTER.finditer(text):
        before, after = text[max(0, m.start() - 1) : m.start()], text[m.end() : m.end() + 1]
        if not (_CJK.match(after) or (after and not after.isspace() and not after.isalnum())):
            continue  # "C 建立", "KPI指标": a letter standing apart, or part of a word
        if m.start() - 1 in strong or m.start() - 1 in weak:
            strong.add(m.start())  # right after a garbage character: "糍Y", "傊S", "ㄟ^"
        elif before == "?" or (before and _CJK.match(before)):
            weak.add(m.start())  # "吗?A类", "服务A+类": ordinary enough alone
    return strong, weak


def _traditional_lines(text: str) -> list[bool]:
    """For each position: whether its line is written in Traditional characters."""
    flags: list[bool] = []
    for line in text.split("\n"):
        cjk = _CJK.findall(line)
        changed = sum(1 for ch in cjk if _to_simplified(ch) != ch)
        flags += [changed >= 3 and changed >= _TRADITIONAL_SHARE * len(cjk)] * (len(line) + 1)
    return flags


@functools.cache
def _is_rare_cjk(ch: str) -> bool:
    """CJK outside GB2312 level 1 (after t2s) and Big5's frequent characters."""
    if not _CJK.match(ch):
        return False
    return not (_gb2312_level1(_to_simplified(ch)) or _big5_frequent(ch))


@functools.cache
def _is_very_rare_cjk(ch: str) -> bool:
    """CJK outside GB2312 altogether (after t2s) and outside Big5's frequent characters."""
    return _is_rare_cjk(ch) and _encoded(_to_simplified(ch), "gb2312") is None


@functools.cache
def _simplified_only(ch: str) -> bool:
    """A Simplified form Traditional text never uses: t2s-stable, s2t changes it, Big5 lacks it."""
    return bool(_CJK.match(ch)) and _to_traditional(ch) != ch and _encoded(ch, "big5") is None


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@functools.cache
def _to_simplified(ch: str) -> str:
    """One character through OpenCC t2s (`ingest.cleaning` builds on this module, so not its helper)."""
    return str(_converter("t2s").convert(ch))


@functools.cache
def _to_traditional(ch: str) -> str:
    return str(_converter("s2t").convert(ch))


def _gb2312_level1(ch: str) -> bool:
    encoded = _encoded(ch, "gb2312")
    return encoded is not None and 0xB0 <= encoded[0] <= 0xD7


def _big5_frequent(ch: str) -> bool:
    encoded = _encoded(ch, "big5")
    return encoded is not None and 0xA4 <= encoded[0] <= 0xC6


def _encoded(ch: str, codec: str) -> bytes | None:
    try:
        encoded = ch.encode(codec)
    except UnicodeEncodeError:
        return None
    return encoded if len(encoded) == 2 else None


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class PassageQuality:
    """Over some passages: how many, and how many still hold a doubled run, mojibake, or an adjacent double
    (a narrower count than `doubled`, reported beside it)."""

    passages: int = 0
    doubled: int = 0
    mojibake: int = 0
    adjacent: int = 0

    @property
    def doubled_share(self) -> float:
        return self.doubled / self.passages if self.passages else 0.0

    @property
    def mojibake_share(self) -> float:
        return self.mojibake / self.passages if self.passages else 0.0

    @property
    def adjacent_share(self) -> float:
        return self.adjacent / self.passages if self.passages else 0.0

    def __add__(self, other: PassageQuality) -> PassageQuality:
        return PassageQuality(
            self.passages + other.passages,
            self.doubled + other.doubled,
            self.mojibake + other.mojibake,
            self.adjacent + other.adjacent,
        )


def measure_passages(texts: Iterable[str]) -> PassageQuality:
    """Count the passages that hold a doubled run, mojibake, an adjacent double."""
    passages = doubled = mojibake = adjacent = 0
    for text in texts:
        passages += 1
        doubled += find_doubled_run(text) is not None
        mojibake += has_mojibake(text)
        adjacent += find_adjacent_double(text) is not None
    return PassageQuality(passages, doubled, mojibake, adjacent)
