"""What the cleaning steps and search share about Chinese text. Pure functions, no I/O.

Which characters are letters, Traditional → Simplified, folding for search, and "(jì)"-style pinyin glosses.
Every cleaning module and `knowledge/` build on this one; it imports none of them.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"  # the ideograph ranges, for a [...] class
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ\u0300\u0301\u0304\u030c"
_GLOSS = re.compile(rf"(?<=\S)[(（?]([a-z{_TONED}ê]{{1,8}})[)）]")
_PINYIN_SYLLABLE = re.compile(rf"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?[aeiouvê{_TONED}]{{1,4}}(?:ng|n|r)?")
_LETTER = re.compile(rf"[{CJK}A-Za-z0-9]")
_STARS = re.compile(r"[☆★]{1,5}")
_STAR_COUNT = ("", "一", "二", "三", "四", "五")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def strip_pinyin_glosses(text: str) -> str:
    """Remove "(jì)"-style pinyin (tone-marked, one syllable) written after a character."""
    return _GLOSS.sub(lambda m: "" if _is_pinyin(m.group(1)) else m.group(0), text)


def _is_pinyin(word: str) -> bool:
    return any(ch in _TONED for ch in word) and _PINYIN_SYLLABLE.fullmatch(word) is not None


def count_letters(text: str) -> int:
    """Chinese characters, ASCII letters and digits in `text` (what the cleaning thresholds count)."""
    return len(_LETTER.findall(text))


@functools.cache
def fold_letter(ch: str) -> str:
    """`ch` folded as search folds it when that is one letter, else ""."""
    folded = fold_for_search(ch)
    return folded if len(folded) == 1 and _LETTER.match(folded) else ""


@functools.cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified (OpenCC t2s); Simplified text passes through."""
    return _t2s().convert(text) if text else text


def fold_for_search(text: str) -> str:
    """Simplified, NFKC (full-width ASCII → half-width), lower-case ASCII, and star ratings as words
    (☆☆☆ → 三星, so 「三星级」 finds them), for index and evidence."""
    folded = to_simplified(unicodedata.normalize("NFKC", text)).translate(_ASCII_LOWER)
    return (
        _STARS.sub(lambda m: _STAR_COUNT[len(m.group(0))] + "星", folded) if "☆" in folded or "★" in folded else folded
    )
