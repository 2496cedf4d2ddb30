"""Display cleaning and search folding for scraped Chinese knowledge-base text. Pure functions, no I/O.

The source pages are copied from document-sharing and shop sites, so each cleaning step undoes one
kind of damage:

* `remove_boilerplate` drops the site around the document: "加载中,请稍候...", shop price headers,
  copyright and download notices, comment boxes, "相关文档"-style link lists and download links glued
  into the text. Patterns are written once, in Simplified Chinese, and matched against `to_simplified`
  of each line, so 版權說明 matches too.
* `strip_pinyin_glosses` removes pinyin that some sites put after Traditional characters: 計(jì)劃 → 計劃,
  including glosses whose "(" was corrupted into "?" (銷售部?jī)?nèi)部). Real parentheticals stay.
* `drop_mojibake` drops runs of text decoded a byte off (`ingest.quality.find_mojibake`: a "?" and
  characters real text does not hold); the sentence around a run stays. It runs after the glosses,
  whose corrupted "(" would otherwise read as part of a run.
* `split_slide_markers` cuts flattened slide decks at their "7/55" page footers (the page number is
  sometimes doubled: "1313/55" is page 13) and drops the deck's navigation bar glued into each slide
  (`drop_deck_header`); `clean_text` turns those footers into line breaks.
* `drop_running_headers` keeps once a short line printed on every page ("作者@《书名》2022").
* `collapse_doubled_phrases` keeps once the phrases PDF extraction printed twice ("采用BPR管理技术
  采用BPR管理技术"), slide text boxes printed twice and split differently (compared on letters, so a
  quote mark or space between the copies does not hide them), a title repeated on consecutive lines, a
  paragraph printed again, and a truncated "..." preview of a later line. Repeats that carry meaning
  stay: table rows sharing values, parallel list items, terms a sentence repeats.
* "?" used as a bullet glyph ("? 信息收集 ? 分析思维") becomes one "• " line per item.
* `normalize_whitespace` collapses spaces and blank lines; full-width punctuation is left alone.

`clean_text` runs them all and keeps the original script. `fold_for_search` is for indexing and
matching only: Simplified, NFKC (full-width ASCII → half-width) and lower-case ASCII.
`ingest.quality` measures what is left: passages still holding a doubled run or mojibake.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter

import opencc

from ingest.quality import find_mojibake

# Boilerplate, in Simplified Chinese, matched case-insensitively against the simplified line.
# PHRASE: only the match is removed. SENTENCE: the whole sentence around the match (up to 。!?) goes.
# A line left with little real text (under half its letters, and under 40) is dropped whole.
PHRASE, SENTENCE = "phrase", "sentence"
BOILERPLATE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"(?:商品介绍)?加载中(?:[,,]\s*请稍候)?(?:\.{2,}|…+)|加载中[,,]\s*请稍候", PHRASE),  # lazy loading
    (r"^京\s*东\s*价.*|PLUS会员专享价|您购买此商品可享受专属价|^\[?定价[::]\s*¥?\s*\]?$", PHRASE),  # shop
    (r"^(?:增值业务|重\s*量|搭配赠品|服务支持|价格说明|热门关键字|更多搜索|下载需要)[::].*$", PHRASE),
    (r"^(?:浏览了该商品的用户还浏览了|七日畅销榜|新书热卖榜|我要回帖|合集下载|举报|开通vip)$", PHRASE),
    (r"^(?:温馨提示|评论|提交评论|暂无简介~?|is_\d+|0/\d+)$", PHRASE),  # page chrome on its own line
    (r"iframe\([^)\n]*\)|热门关键字[::]|当前位置[::]\s*(?:>>)?|^首页\s+", PHRASE),
    (r"^\(\s*\d{1,2}:\d{2}(?::\d{2})?\s*\)$", PHRASE),  # "( 8:39:45)": times of a comment list
    (r"^更多关于.{1,40}的文章$|^all rights reserved.*|^编辑[::].*开通qq[::]?$", PHRASE),
    (r"^.*知乎\s*\d+\s*被浏览.*$", PHRASE),  # a pasted Zhihu answer header
    (r"^(?:格式[::]\s*(?:docx?|pptx?|pdf|xlsx?|txt)|大小[::]\s*[\d.]+\s*[kmg]b)$", PHRASE),  # file panel
    (r"^(?:页数[::]\s*\d+|上传时间[::]\s*[\d-]+|浏览量[::]\s*\d+)$", PHRASE),
    (r"版权说明[::]?|本文档由用户提供并上传[,,]?|收益归属内容提供方[,,]?|若内容存在侵权[,,]?", PHRASE),
    (r"请进行举报或认领|文档简介|\[版权声明\]|本文档为【[^】\n]*】.*$", PHRASE),
    # SEO links glued into the text: "气瓶 现场处置方案 .pdf…专项方案下载"
    (
        r"(?:\S{1,20}\s){0,2}\S{0,20}\.(?:pdf|docx?|pptx?)(?:[^\n]{0,30}?\.(?:pdf|docx?|pptx?))*\S{0,40}?下载",
        PHRASE,
    ),
    (r"(?:[\u4e00-\u9fff]{2,10}?下载){3,}", PHRASE),  # SEO links glued into text: "总结范文免费下载述职报告…下载"
    (r"扫一扫|京东商城|京东自营|质保证书|厂家会在没有任何提前通知|本商城|原厂正货|主流新品", SENTENCE),
    (r"权利声明|本站商品信息|印刷版次不同|^划线价|折扣指销售商|商品促销信息以商品详情页", SENTENCE),
    (r"提交稿件给我们|该文档来自用户分享|如有侵权(?:行为)?请|侵犯您的权益|如有侵犯请联系", SENTENCE),
    (r"版权可能需版权方额外授权|党政主题相关内容|本站(?:所有|的文档|不保证|rar)|会有图纸预览", SENTENCE),
    (r"文件的所有权益归上传用户所有|未经权益所有人同意|仅提供信息存储空间|下载文件中如有侵权", SENTENCE),
    (r"不承担用户因使用这些下载资源|下载文档前请自行甄别|仅部分预览|文档资料库内容来自网络", SENTENCE),
    (r"请使用软件office或wps软件打开|图纸软件为|请下载最新的winrar", SENTENCE),
)
# Headings of the site's link lists; the short lines right after them (up to a blank line) go too.
LISTING_HEADINGS: frozenset[str] = frozenset(
    ["相关文档", "最新文档", "猜你喜欢", "相关推荐", "随机推荐", "热门推荐", "最新资料", "资料动态"]
)
_LISTING_ITEM_MAX = 40  # letters; a longer line is document text and ends the list
_HEADING_DECOR = re.compile(r"^[-•\s]+|[::\s]+$")

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ\u0300\u0301\u0304\u030c"
_GLOSS = re.compile(rf"(?<=\S)[(（?]([a-z{_TONED}ê]{{1,8}})[)）]")
_PINYIN_SYLLABLE = re.compile(rf"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?[aeiouvê{_TONED}]{{1,4}}(?:ng|n|r)?")
_PHRASES = re.compile("|".join(p for p, scope in BOILERPLATE_PATTERNS if scope == PHRASE), re.I | re.M)
_TRIGGERS = re.compile("|".join(p for p, scope in BOILERPLATE_PATTERNS if scope == SENTENCE), re.I | re.M)
_SENTENCE_END = re.compile(r"[。!?!?]")
_LETTER = re.compile(rf"[{_CJK}A-Za-z0-9]")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_MARKER = re.compile(r"(?<![\d/(（])(\d{1,6})/(\d{1,3})(?![\d/%)）])")
_MIN_MARKERS = 3  # a deck footer "N/55" repeats; a lone "3/5" in prose is not a slide boundary
_SEP = r"[ \t\u3000]*(?:[,,、;;::。.!?!?][ \t\u3000]*)?"
_DOUBLED = re.compile(rf"(?P<u>\S[^\n]{{4,78}}?\S)(?:{_SEP}(?P=u))+")
_DOUBLED_SHORT = re.compile(rf"(?<![{_CJK}])(?P<u>[{_CJK}]{{4,5}}[,,::;;、。])(?:[ \t\u3000]+(?P=u))+")
_TRIPLED = re.compile(rf"(?:([{_CJK}])\1\1(?!\1)){{3,}}")  # WordArt: 对对对待待待顾顾顾 → 对待顾
# Slide text printed twice, compared on letters only (spaces, punctuation and quote marks aside).
_SEGMENT = re.compile(r"\S+")
_REPEAT_MIN = 8  # letters of a repeated run of whole segments, as `ingest.quality` counts a doubling
_REPEAT_MIN_CJK = 4  # "[4-6-8] 等级1、2、3" repeated is a table's values, not a doubled phrase
_REPEAT_PREFIX_MIN = 10  # letters when the copy runs on into new text: "完善客户经理晋升通道,职级"
_LIST_MARK = re.compile(r"[•·\-*]|\d{1,2}[、.)]|[(（]\d{1,2}[)）]|[①-⑳]")  # parallel items may start alike
_REPEAT_LOOK = 3  # segments: how far back a copy's source (or ahead its fuller version) may start
# Page chrome: a short line on every page, or a deck's navigation bar glued into each slide.
_HEADER_MAX = 30  # characters of a running header or footer line
_HEADER_MIN_LETTERS = 6
_HEADER_MIN_REPEATS = 3
_DECK_HEADER_SHARE = 0.3  # of the slides that print the same run of `_REPEAT_MIN` letters
_DECK_HEADER_MIN_SLIDES = 5
_PARAGRAPH_MIN_LETTERS = 20  # a line this long printed again in the same document is a duplicate
_ELLIPSIS = re.compile(r"(?:\.{3,}|…+)$")
_TITLE = re.compile(r".{5,39}[^。!?!?;;,,]")  # a title line, when the next line starts with it again
_TICK_RUN = re.compile(r"(?:^|(?<=\s))\?(?:[ \t]+\?)+(?=\s|$)", re.M)
_SPACED_GLYPHS = re.compile(rf"\?(?:[{_CJK}]\?){{2,}}")  # ?感?谢?聆?听?
_BULLET = re.compile(rf"(?:^|(?<=\s))\?[ \t]*(?=[{_CJK}A-Za-z0-9(“《])", re.M)
_SPACES = re.compile(r"[ \t\xa0\u3000\u2002-\u200a\u202f\u205f]+")
_INVISIBLE = re.compile(r"[\u200b-\u200d\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")
_STARS = re.compile(r"[☆★]{1,5}")
_STAR_COUNT = ("", "一", "二", "三", "四", "五")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def strip_pinyin_glosses(text: str) -> str:
    """Remove "(jì)"-style pinyin (tone-marked, one syllable) written after a character."""
    return _GLOSS.sub(lambda m: "" if _is_pinyin(m.group(1)) else m.group(0), text)


def _is_pinyin(word: str) -> bool:
    return any(ch in _TONED for ch in word) and _PINYIN_SYLLABLE.fullmatch(word) is not None


def remove_boilerplate(text: str) -> str:
    """Drop site boilerplate lines and inline notices; lines that lose a notice also lose their glosses."""
    kept: list[str] = []
    in_listing = False
    for line in text.split("\n"):
        base = strip_pinyin_glosses(line).strip()
        key = to_simplified(base)
        if in_listing and key and _letters(key) <= _LISTING_ITEM_MAX:
            continue
        in_listing = _HEADING_DECOR.sub("", key) in LISTING_HEADINGS
        if in_listing:
            continue
        cleaned = _strip_boilerplate_line(line, base)
        if cleaned is not None:
            kept.append(cleaned)
    return "\n".join(kept)


def _strip_boilerplate_line(line: str, base: str) -> str | None:
    """The line without its boilerplate, or None when little real text is left."""
    key = to_simplified(base)
    spans = [m.span() for m in _PHRASES.finditer(key) if m.end() > m.start()]
    for m in _TRIGGERS.finditer(key):
        start = max((e.end() for e in _SENTENCE_END.finditer(key, 0, m.start())), default=0)
        end_match = _SENTENCE_END.search(key, m.end())
        spans.append((start, end_match.end() if end_match else len(key)))
    if not spans:
        return line
    mask = [False] * len(key)
    for start, end in spans:
        mask[start:end] = [True] * (end - start)
    rest = "".join(ch for ch, gone in zip(key, mask, strict=True) if not gone)
    left, total = _letters(rest), _letters(key)
    if left == 0 or (left < total / 2 and left < 40):
        return None
    if len(key) != len(base):  # conversion changed length: positions do not map, keep the line
        return line
    return "".join(ch for ch, gone in zip(base, mask, strict=True) if not gone).strip()


def _letters(text: str) -> int:
    return len(_LETTER.findall(text))


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

    A run of `_REPEAT_MIN` letters that at least `_DECK_HEADER_SHARE` of the slides (and five) hold is
    chrome; the stretch of text such runs cover becomes a line break, except on the first slide.
    """
    letters = [_segment_letters(slide, 0, len(slide)) for slide in slides]
    flat = ["".join(ch for ch, _ in piece) for piece in letters]
    size = _REPEAT_MIN
    counts = Counter(gram for text in flat for gram in {text[i : i + size] for i in range(len(text) - size + 1)})
    least = max(_DECK_HEADER_MIN_SLIDES, _DECK_HEADER_SHARE * len(slides))
    running = {gram for gram, count in counts.items() if count >= least and _is_copy(gram)}
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


def _remove_slide_markers(text: str) -> str:
    for start, end in reversed(_slide_markers(text)):
        text = text[:start] + "\n" + text[end:]
    return text


def collapse_doubled_phrases(text: str) -> str:
    """Keep once what extraction printed twice: phrases within a line, titles and previews across lines."""
    text = _TRIPLED.sub(lambda m: m.group(0)[::3] if len(set(m.group(0))) >= 3 else m.group(0), text)
    for _ in range(3):  # a second pass catches a repeat whose first copy overlapped an earlier one
        collapsed = _DOUBLED.sub(lambda m: m.group("u") if _is_phrase(m.group("u")) else m.group(0), text)
        if collapsed == text:
            break
        text = collapsed
    text = _DOUBLED_SHORT.sub(lambda m: m.group("u") if len(set(m.group("u"))) >= 4 else m.group(0), text)
    text = "\n".join(_drop_repeated_segments(line) for line in text.split("\n"))
    return _dedupe_lines(text)


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
    letters = [_segment_letters(line, start, end) for start, end in segments]
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


def _segment_letters(line: str, start: int, end: int) -> _Letters:
    """The letters of `line[start:end]`, folded for comparison, with their positions."""
    folded = ((_fold_letter(ch), pos) for pos, ch in enumerate(line[start:end], start))
    return [(ch, pos) for ch, pos in folded if ch]


@functools.cache
def _fold_letter(ch: str) -> str:
    """`ch` folded as search folds it when that is one letter, else ""."""
    folded = fold_for_search(ch)
    return folded if len(folded) == 1 and _LETTER.match(folded) else ""


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
    if run[:_REPEAT_MIN] not in recent:
        return None
    whole_sizes = [n for n in range(1, len(ahead) + 1) if n == len(ahead) or ahead[n][2] != ahead[n - 1][2]]
    sizes_down = range(min(len(run), len(recent)), _REPEAT_MIN - 1, -1)
    longest = next((n for n in sizes_down if _overlaps(recent, run[:n], last_start)), 0)
    sizes = [longest] if longest >= _REPEAT_PREFIX_MIN else []
    sizes += [n for n in reversed(whole_sizes) if _REPEAT_MIN <= n <= longest]
    for size in sizes:
        _, pos, k = ahead[size - 1]
        if _is_copy(run[:size]) and _overlaps(recent, run[:size], last_start):
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
        if len(run) < _REPEAT_MIN or not _is_copy(run):
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


def _is_copy(run: str) -> bool:
    return len(set(run)) >= 4 and len(_CJK_CHAR.findall(run)) >= _REPEAT_MIN_CJK


def _is_phrase(unit: str) -> bool:
    """A real repeated phrase: several letters, not a run of one short piece ("哈哈哈哈哈哈")."""
    return len(set(unit)) >= 3 and _letters(unit) >= 4 and (unit + unit).find(unit, 1) == len(unit)


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
        if _letters(untied) >= _PARAGRAPH_MIN_LETTERS:
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
    return len(key) <= _HEADER_MAX and _letters(key) >= _HEADER_MIN_LETTERS and not key.startswith("|")


def clean_text(text: str) -> str:
    """Readable text for a phone, in the original script."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = drop_mojibake(strip_pinyin_glosses(remove_boilerplate(text)))
    text = collapse_doubled_phrases(drop_running_headers(_remove_slide_markers(text)))
    return normalize_whitespace(_expand_bullets(text))


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
