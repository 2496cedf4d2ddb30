"""Display cleaning for scraped Chinese knowledge-base text: `clean_text` runs every step. Pure functions, no I/O.

The source pages are copied from document-sharing and shop sites, so each cleaning step undoes one
kind of damage, in this order:

* `ingest.boilerplate.remove_boilerplate` drops the site around the document: "加载中,请稍候...", shop price
  headers, copyright and download notices, comment boxes, "相关文档"-style link lists and download links glued
  into the text. Patterns are written once, in Simplified Chinese, and matched against `to_simplified` of each
  line, so 版權說明 matches too.
* `ingest.chinese_text.strip_pinyin_glosses` removes pinyin that some sites put after Traditional characters:
  計(jì)劃 → 計劃, including glosses whose "(" was corrupted into "?" (銷售部?jī)?nèi)部). Real parentheticals stay.
* `drop_mojibake` (here) drops runs of text decoded a byte off (`ingest.quality.find_mojibake`: a "?" and
  characters real text does not hold); the sentence around a run stays. It runs after the glosses,
  whose corrupted "(" would otherwise read as part of a run.
* `ingest.pages.remove_slide_markers` turns the "7/55" page footers of a flattened slide deck into line breaks
  (the page number is sometimes doubled: "1313/55" is page 13); `ingest.pages.split_slide_markers`, which
  chunking calls before this, cuts the deck at them and drops its navigation bar glued into each slide
  (`drop_deck_header`).
* `ingest.pages.drop_running_headers` keeps once a short line printed on every page ("作者@《书名》2022").
* `ingest.repeats.collapse_doubled_phrases` keeps once the phrases PDF extraction printed twice ("采用BPR管理技术
  采用BPR管理技术"), slide text boxes printed twice and split differently (compared on letters, so a
  quote mark or space between the copies does not hide them), a title repeated on consecutive lines, a
  paragraph printed again, and a truncated "..." preview of a later line. Repeats that carry meaning
  stay: table rows sharing values, parallel list items, terms a sentence repeats.
* "?" used as a bullet glyph ("? 信息收集 ? 分析思维") becomes one "• " line per item (here).
* `normalize_whitespace` (here) collapses spaces and blank lines; full-width punctuation is left alone.

`clean_text` keeps the original script. `ingest.chinese_text.fold_for_search` is for indexing and
matching only: Simplified, NFKC (full-width ASCII → half-width) and lower-case ASCII.
`ingest.quality` measures what is left: passages still holding a doubled run or mojibake.
"""

from __future__ import annotations

import re

from ingest.boilerplate import remove_boilerplate
from ingest.chinese_text import CJK, strip_pinyin_glosses
from ingest.pages import drop_running_headers, remove_slide_markers
from ingest.quality import find_mojibake
from ingest.repeats import collapse_doubled_phrases

_TICK_RUN = re.compile(r"(?:^|(?<=\s))\?(?:[ \t]+\?)+(?=\s|$)", re.M)
_SPACED_GLYPHS = re.compile(rf"\?(?:[{CJK}]\?){{2,}}")  # ?感?谢?聆?听?
_BULLET = re.compile(rf"(?:^|(?<=\s))\?[ \t]*(?=[{CJK}A-Za-z0-9(“《])", re.M)
_SPACES = re.compile(r"[ \t\xa0\u3000\u2002-\u200a\u202f\u205f]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")


def _expand_bullets(text: str) -> str:
    """'?' glyphs of flattened slides: tick columns go, spaced-out glyphs close up, bullets get lines."""
    text = _TICK_RUN.sub("", text)
    text = _SPACED_GLYPHS.sub(lambda m: m.group(0).replace("?", ""), text)
    return _BULLET.sub(lambda m: "• " if m.start() == 0 or text[m.start() - 1] == "\n" else "\n• ", text)


def normalize_whitespace(text: str) -> str:
    """One space for any run of spaces, no blank-line runs, stripped lines; punctuation untouched."""
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def drop_mojibake(text: str) -> str:
    """Drop runs of undecodable text (`ingest.quality.find_mojibake`); the sentence around them stays."""
    for start, end in reversed(find_mojibake(text)):
        text = text[:start] + text[end:]
    return text


def clean_text(text: str) -> str:
    """Readable text for a phone, in the original script."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = drop_mojibake(strip_pinyin_glosses(remove_boilerplate(text)))
    text = collapse_doubled_phrases(drop_running_headers(remove_slide_markers(text)))
    return normalize_whitespace(_expand_bullets(text))
