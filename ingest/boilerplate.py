"""Site boilerplate around scraped documents, removed. Pure functions, no I/O.

The pages are copied from document-sharing and shop sites: "加载中,请稍候...", shop price headers, copyright and
download notices, comment boxes, "相关文档"-style link lists and download links glued into the text. Patterns are
written once, in Simplified Chinese, and matched against `to_simplified` of each line, so 版權說明 matches too.
"""

from __future__ import annotations

import re

from ingest.chinese_text import count_letters, strip_pinyin_glosses, to_simplified

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

_PHRASES = re.compile("|".join(p for p, scope in BOILERPLATE_PATTERNS if scope == PHRASE), re.I | re.M)
_TRIGGERS = re.compile("|".join(p for p, scope in BOILERPLATE_PATTERNS if scope == SENTENCE), re.I | re.M)
_SENTENCE_END = re.compile(r"[。!?!?]")


def remove_boilerplate(text: str) -> str:
    """Drop site boilerplate lines and inline notices; lines that lose a notice also lose their glosses."""
    kept: list[str] = []
    in_listing = False
    for line in text.split("\n"):
        base = strip_pinyin_glosses(line).strip()
        key = to_simplified(base)
        if in_listing and key and count_letters(key) <= _LISTING_ITEM_MAX:
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
    left, total = count_letters(rest), count_letters(key)
    if left == 0 or (left < total / 2 and left < 40):
        return None
    if len(key) != len(base):  # conversion changed length: positions do not map, keep the line
        return line
    return "".join(ch for ch, gone in zip(base, mask, strict=True) if not gone).strip()
