"""Tests for ingest.cleaning: each step on short synthetic snippets, then the whole pipeline on the corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.cleaning import (
    BOILERPLATE_PATTERNS,
    clean_text,
    collapse_doubled_phrases,
    fold_for_search,
    normalize_whitespace,
    remove_boilerplate,
    split_slide_markers,
    strip_pinyin_glosses,
    to_simplified,
)

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
CJK = re.compile(r"[\u4e00-\u9fff]")
TONE_GLOSS = re.compile(r"[(（?][a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*[)）]")

# Strings a learner might quote, checked present in the raw file (glosses aside) and kept by cleaning.
EVIDENCE = {
    "000_7adfac2323091d53.txt": [
        "比例大概为25%、55%、30%",
        "知识测验(80题) [45-55-75]",
        "评估研究 (Evaluation)",
        "故意让步、设定比自己底线稍高的条件",
    ],
    "001_2ab540fcee8dd24f.txt": ["以上指标占每季度总指标权重的80%", "通信运营已进入3G和全业务时代"],
    "002_14210da0f871fd03.txt": ["至少要接受80小时的教育训练", "审核的四个阶段(PDCA循环):计划、执行、报告、效果跟进"],
    "003_59b92ce2fd536e57.txt": ["每個月組織兩次活動", "建議每半個月可以開一次例會"],
    "004_1e625e82544b89b4.txt": [
        "创无限通信世界做信息社会栋梁",
        "即用“文化管理()”来统领整个企业文化的建设",
        "《职能部门“来电提醒业务”满意度考核办法》",
        "(2005年),中国移动",
    ],
}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", fold_for_search(text))


# --- strip_pinyin_glosses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("工作計(jì)劃", "工作計劃"),
        ("開會(huì)議", "開會議"),
        ("每個(gè)月組織兩次活動(dòng)", "每個月組織兩次活動"),
        ("全角括號計（jì）劃", "全角括號計劃"),
        ("銷售部?jī)?nèi)部的信息", "銷售部部的信息"),  # "(" corrupted to "?"
        ("莊(zhuāng)重", "莊重"),
        ("女(nǚ)士", "女士"),
    ],
)
def test_strip_pinyin_glosses_removes_tone_marked_syllables(raw: str, expected: str) -> None:
    assert strip_pinyin_glosses(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "评估研究 (Evaluation)",
        "销售代理 (SA)",
        "知识测验(80题)",
        "(2005年),中国移动",
        "阐述了“(我们是谁)”",
        "即用“文化管理()”来统领",
        "客户占有率(customer share)",
        "咖啡(café)",  # tone-like accent, but not a pinyin syllable
        "他们(men)",  # no tone mark: left alone rather than guess
        "KPI、ARPU值、25%、55%、30%",
        "你好吗?我很好",
    ],
)
def test_strip_pinyin_glosses_keeps_real_parentheticals(text: str) -> None:
    assert strip_pinyin_glosses(text) == text


# --- remove_boilerplate -------------------------------------------------------------------------


def test_remove_boilerplate_drops_whole_boilerplate_lines() -> None:
    raw = "\n".join(
        [
            "客户经理晋级办法",
            "加载中,请稍候...",
            "京 东 价:",
            "PLUS会员专享价",
            "( 8:39:45)",
            "扫一扫,精彩好书免费看",
            "iframe(src='x.html?id=1', height='0')热门关键字:",
            "- 3. 本站不保证下载资源的准确性、安全性和完整性。",
            "第一条 客户经理分为初级、中级、高级三档。",
        ]
    )
    assert remove_boilerplate(raw) == "客户经理晋级办法\n第一条 客户经理分为初级、中级、高级三档。"


def test_remove_boilerplate_matches_traditional_notices() -> None:
    notice = "版權說明:本文檔由用戶提供并上傳,請勿轉載,違者必究"
    glossed = "版權(quán)說明:本文檔由用戶提供并上傳(chuán),請勿轉載"
    assert remove_boilerplate(f"{notice}\n正文") == "正文"
    assert remove_boilerplate(f"{glossed}\n正文") == "正文"


def test_remove_boilerplate_keeps_content_after_a_notice_prefix() -> None:
    content = "銷售助理個人工作計劃:做好部門文件的接收、執行及存檔工作,確保各類重要文件按時流通,起到溝通作用。"
    assert remove_boilerplate("文檔簡介" + content) == content


def test_remove_boilerplate_drops_link_lists_after_their_heading() -> None:
    raw = "正文最后一句。\n最新文檔\n- 小學作業管理規範\n- 財務協同發展計劃\n評論\n0/150\n\n附录:客户分级标准"
    assert remove_boilerplate(raw) == "正文最后一句。\n\n附录:客户分级标准"


@pytest.mark.parametrize(
    "line",
    [
        "增值业务收入同比增长20%,成为新的增长点。",
        "客户可下载APP自助办理业务。",
        "系统加载中出现故障时,应及时上报。",
        "通过企业内外部环境分析,澄清移动公司总体战略",
        "KPI指标众多,ARPU值下降",
    ],
)
def test_remove_boilerplate_keeps_content_that_mentions_boilerplate_words(line: str) -> None:
    assert remove_boilerplate(line) == line


def test_boilerplate_patterns_are_written_in_simplified_chinese() -> None:
    for pattern, _scope in BOILERPLATE_PATTERNS:
        assert to_simplified(pattern) == pattern


# --- collapse_doubled_phrases -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("通过企业内外部环境分析, 通过企业内外部环境分析,澄清战略", "通过企业内外部环境分析,澄清战略"),
        ("突破重点问题,提升短板, 突破重点问题,提升短板,构建模式", "突破重点问题,提升短板,构建模式"),
        ("采用BPR管理技术 采用BPR管理技术", "采用BPR管理技术"),
        ("深度运营竞赛案例--深度运营竞赛案例--以客户为导向", "深度运营竞赛案例--以客户为导向"),
        ("?地市客户经理:?地市客户经理:?地市客户经理:C 建立联系", "?地市客户经理:C 建立联系"),
        ("历时半年, 历时半年,网络投诉下降", "历时半年,网络投诉下降"),  # 4 characters after a space
        ("对对对待待待顾顾顾客客客的的的观观观点点点", "对待顾客的观点"),
        ("客户为何流失―― 客户为何流失――如何察觉问题 ――如何察觉问题", "客户为何流失――如何察觉问题"),  # overlapping
    ],
)
def test_collapse_doubled_phrases_keeps_one_copy(raw: str, expected: str) -> None:
    assert collapse_doubled_phrases(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "谢谢谢谢",
        "哈哈哈哈哈哈哈哈哈哈哈哈",
        "他说谢谢你们, 谢谢你们,",  # short repeat inside a sentence: could be meant
        "比例大概为25%、55%、30%",
        "KPI KPI",
        "合格 合格 合格 合格",
        "* * * * * * * *",
        "1010 1010",
        "第一条客户经理。第二条客户经理。",
    ],
)
def test_collapse_doubled_phrases_leaves_short_or_legitimate_repeats(text: str) -> None:
    assert collapse_doubled_phrases(text) == text


def test_collapse_doubled_phrases_handles_repeated_lines() -> None:
    raw = "贵宾客户管理制度\n\n贵宾客户管理制度\n\n贵宾客户管理制度第一章总则第一条为了服务客户。"
    expected = "贵宾客户管理制度\n\n第一章总则第一条为了服务客户。"
    assert normalize_whitespace(collapse_doubled_phrases(raw)) == expected


def test_collapse_doubled_phrases_drops_a_truncated_preview() -> None:
    raw = "集团客户经理培训 目 录 一. 项目背景分析 二...\n\n集团客户经理培训 目 录 一. 项目背景分析 二. 项目规划"
    expected = "集团客户经理培训 目 录 一. 项目背景分析 二. 项目规划"
    assert normalize_whitespace(collapse_doubled_phrases(raw)) == expected


# --- split_slide_markers ------------------------------------------------------------------------


def test_split_slide_markers_splits_at_footers_including_doubled_page_numbers() -> None:
    text = "项目背景1/12 整体规划2/12 澄清战略33/12 构建模式4/12 实施优化1010/12 成功案例"
    assert split_slide_markers(text) == ["项目背景", "整体规划", "澄清战略", "构建模式", "实施优化", "成功案例"]


def test_split_slide_markers_keeps_digits_of_the_text_before_a_footer() -> None:
    text = "第一页1/55 第二页2/55 编号 7 8 93/55 结束"
    assert split_slide_markers(text) == ["第一页", "第二页", "编号 7 8 9", "结束"]


@pytest.mark.parametrize(
    "text",
    [
        "团队学习能力提升实施过程(1/2) 团队学习(2/2) 沉淀体系(1/5)",
        "等级3/67% 等级2/43% 等级2/78%",
        "上传时间 2017/10/13,浏览 3/5",
        "先付1/2,再付1/2,最后1/2",  # a repeated fraction does not count up like page footers
        "占比为 3/4。",
    ],
)
def test_split_slide_markers_returns_text_without_footers(text: str) -> None:
    assert split_slide_markers(text) == [text]


# --- normalize_whitespace -----------------------------------------------------------------------


def test_normalize_whitespace_collapses_spaces_and_blank_lines() -> None:
    raw = "  客户  满意\u3000度\xa0调查 \r\n\r\n\n\n\n下一段,保持全角标点。 \n"
    assert normalize_whitespace(raw) == "客户 满意 度 调查\n\n下一段,保持全角标点。"


def test_normalize_whitespace_keeps_full_width_punctuation() -> None:
    text = "客户经理（初级）：ＫＰＩ考核，详见《办法》！"
    assert normalize_whitespace(text) == text


# --- clean_text ---------------------------------------------------------------------------------


def test_clean_text_runs_the_whole_pipeline() -> None:
    raw = (
        "加载中,请稍候...\n"
        "銷售助理計(jì)劃 銷售助理計(jì)劃 要點(diǎn)如下\n"
        "能力模型? 信息收集 ? 分析思维 ? 挖掘需求1/9 第二页2/9 第三页3/9 "
        "?感?谢?聆?听?\n"
        "版權說明:本文檔由用戶提供并上傳\n"
    )
    # a "?" glued to the word before it may be a real question mark, so only spaced ones become bullets
    expected = "銷售助理計劃 要點如下\n能力模型? 信息收集\n• 分析思维\n• 挖掘需求\n第二页\n第三页\n感谢聆听"
    assert clean_text(raw) == expected


def test_clean_text_keeps_traditional_script_and_real_content() -> None:
    text = "客戶經理應當按時完成任務,ARPU值與KPI(80題)同步考核。"
    assert clean_text(text) == text


def test_clean_text_of_empty_or_blank_text_is_empty() -> None:
    assert clean_text("") == ""
    assert clean_text(" \n\n \n") == ""


# --- to_simplified / fold_for_search ------------------------------------------------------------


def test_to_simplified_converts_traditional_and_passes_simplified_through() -> None:
    assert to_simplified("版權說明 用戶 內容") == "版权说明 用户 内容"
    assert to_simplified("客户经理") == "客户经理"
    assert to_simplified("") == ""


def test_fold_for_search_folds_script_width_and_ascii_case() -> None:
    assert fold_for_search("ＡＲＰＵ值與KPI（80題）") == "arpu值与kpi(80题)"
    assert fold_for_search("每個月組織兩次活動") == "每个月组织两次活动"
    assert fold_for_search("25%、55%、30%") == "25%、55%、30%"


# --- the corpus ---------------------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
@pytest.mark.parametrize("name", sorted(EVIDENCE))
def test_clean_text_on_corpus_file(name: str) -> None:
    raw = (CORPUS / name).read_text(encoding="utf-8")
    cleaned = clean_text(raw)

    assert "加载中" not in to_simplified(cleaned)
    assert not TONE_GLOSS.search(cleaned)
    assert len(cleaned) < len(raw)
    assert len(CJK.findall(cleaned)) > 0.5 * len(CJK.findall(raw))
    folded_raw = squeeze(TONE_GLOSS.sub("", raw))
    folded_clean = squeeze(cleaned)
    for evidence in EVIDENCE[name]:
        assert squeeze(evidence) in folded_raw, f"evidence not in the raw file: {evidence}"
        assert squeeze(evidence) in folded_clean, f"cleaning lost: {evidence}"
    for notice in ("版权说明", "本站所有资源", "下载文档前请自行甄别", "该文档来自用户分享", "权利声明"):
        assert notice not in folded_clean
    assert clean_text(cleaned) == cleaned


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
def test_corpus_slides_and_doubled_phrases() -> None:
    deck = (CORPUS / "000_7adfac2323091d53.txt").read_text(encoding="utf-8")
    assert len(split_slide_markers(deck)) > 50
    assert not re.search(r"\d+/55", clean_text(deck))

    report = (CORPUS / "004_1e625e82544b89b4.txt").read_text(encoding="utf-8")
    # a sentence the PDF extraction doubled: found in the file rather than copied into this test
    match = re.search(r"([\u4e00-\u9fff][\u4e00-\u9fff,,]{20,60}[,,])\1", squeeze(report))
    assert match is not None
    doubled = match.group(1)
    assert squeeze(report).count(doubled) == 2
    assert squeeze(clean_text(report)).count(doubled) == 1
