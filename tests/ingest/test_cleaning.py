"""Tests for the cleaning steps (ingest.cleaning, .boilerplate, .chinese_text, .pages, .repeats): each step on
short synthetic snippets, then the whole pipeline on the corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.boilerplate import BOILERPLATE_PATTERNS, remove_boilerplate
from ingest.chinese_text import fold_for_search, strip_pinyin_glosses, to_simplified
from ingest.cleaning import clean_text, drop_mojibake, normalize_whitespace
from ingest.pages import drop_deck_header, drop_running_headers, split_slide_markers
from ingest.quality import find_doubled_run, find_mojibake
from ingest.repeats import collapse_doubled_phrases
from tests.ingest.test_quality import misread

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


def letters(text: str) -> str:
    return re.sub(r"\W", "", fold_for_search(text))


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


def test_remove_boilerplate_drops_download_links_glued_into_a_line() -> None:
    before = "七、合同管理:合同由客户经理起草,法务部审核 "
    after = " 双方签字盖章后生效,原件交档案室保存。"
    links = "年终总结范文免费下载述职报告模板下载工作计划表格免费下载"
    assert remove_boilerplate(before + links + after) == before + " " + after.strip()
    assert remove_boilerplate("客户可下载APP自助办理业务,下载后登录。") == "客户可下载APP自助办理业务,下载后登录。"


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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # a text box printed twice, split differently: compared on letters, across a quote mark
        (
            "季度考核 服务质量评估办法 季度考核”服务质量评估办法 季度考核 各部门自评",
            "季度考核 服务质量评估办法 季度考核 各部门自评",
        ),
        # the first line of a wrapped box after the whole box
        (
            "是否建立一套考核、激励机制,保证客户经理发挥 是否建立一套考核、激励机制, 作用",
            "是否建立一套考核、激励机制,保证客户经理发挥 作用",
        ),
        # a copy that runs on into the next label loses only the copied part
        (
            "完善客户经理晋升通道,制定晋升办法 完善客户经理晋升通道,职级 设置",
            "完善客户经理晋升通道,制定晋升办法 职级 设置",
        ),
        # the first line before the whole box: the fuller copy stays
        ("推行“师带徒” 而非单纯“授课” 推行“师带徒”,而非单纯“授课”和“考试”", "推行“师带徒”,而非单纯“授课”和“考试”"),
        ("月起在CRM系统上线回访提醒 5月起在CRM系统上线回访提醒,由坐席跟进", "5月起在CRM系统上线回访提醒,由坐席跟进"),
    ],
)
def test_collapse_doubled_phrases_drops_slide_text_printed_twice(raw: str, expected: str) -> None:
    cleaned = normalize_whitespace(collapse_doubled_phrases(raw))
    assert cleaned == expected
    assert find_doubled_run(cleaned) is None


@pytest.mark.parametrize(
    "text",
    [
        # table rows that share values, further apart than the piece just before
        "笔试(30题) [18-21-24] 等级1、2、3 面试 [2-3-4] 等级1、2、3 笔试(30题) [18-21-24] 等级1、2、3",
        "[2-3-4] 等级1、2、3 方案汇报 [2-3-4] 等级1、2、3",
        "区域经理的职责:现场执行 现场执行 后台部门:数据支持 区域经理的职责:现场督导",
        # parallel list items start alike
        "• 如果想让新员工尽快熟悉业务就可以安排导师; • 如果想让新员工尽快熟悉业务就应该先读手册",
        # a heading and its body: the body repeats fewer than ten letters before going on
        "“流量套餐推广”宣传力度不够 流量套餐推广” 宣传主要依靠营业厅",
        # prose repeats terms on purpose
        "城市客户经理的考核办法与农村客户经理的考核办法不同",
    ],
)
def test_collapse_doubled_phrases_keeps_repeats_that_carry_meaning(text: str) -> None:
    assert normalize_whitespace(collapse_doubled_phrases(text)) == text


def test_collapse_doubled_phrases_drops_a_paragraph_printed_again() -> None:
    paragraph = "客户经理应当在每次拜访后二十四小时内录入拜访记录,写明客户需求和下一步计划。"
    raw = "\n".join(["拜访要求", paragraph, "记录要求", "要写清楚。", "拜访要求", paragraph, "要写清楚。"])
    # the long line goes; short lines repeated further apart may be real (a heading, an answer) and stay
    assert collapse_doubled_phrases(raw) == "\n".join(
        ["拜访要求", paragraph, "记录要求", "要写清楚。", "拜访要求", "要写清楚。"]
    )


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


NAV = "需求分析 方案设计 实施跟踪 效果评估"


def test_drop_deck_header_keeps_a_navigation_bar_on_its_first_slide_only() -> None:
    slides = [
        "项目背景 客户流失率上升",
        f"需求分析{NAV}访谈二十家重点客户",
        "客户分群 按行业划分",
        f"方案设计{NAV}每个行业一套方案",
        f"实施跟踪{NAV}每周例会通报进度",
        "中期回顾 三个问题",
        f"效果评估{NAV}流失率下降三成",
        f"经验总结{NAV}形成标准流程",
    ]
    cleaned = drop_deck_header(slides)
    assert cleaned[:3] == slides[:3]
    assert cleaned[3:] == [
        "方案设计\n每个行业一套方案",
        "实施跟踪\n每周例会通报进度",
        "中期回顾 三个问题",
        "效果评估\n流失率下降三成",
        "经验总结\n形成标准流程",
    ]


def test_drop_deck_header_needs_five_slides_that_repeat_it() -> None:
    slides = [f"需求分析{NAV}访谈", f"方案设计{NAV}方案", f"实施跟踪{NAV}例会", f"效果评估{NAV}下降"]
    assert drop_deck_header(slides) == slides


# --- drop_running_headers -----------------------------------------------------------------------


def test_drop_running_headers_keeps_a_page_header_and_footer_once() -> None:
    footer, header = "张老师@《服务管理》2023", "第三章 服务质量"
    pages = [
        [header, "一、服务标准", "柜台服务应当微笑问候。", footer],
        [header, "二、投诉处理", "投诉应在一日内回复。", footer],
        [header, "三、回访", "回访在三日内完成。", footer],
    ]
    expected = [header, "一、服务标准", "柜台服务应当微笑问候。", footer, "二、投诉处理", "投诉应在一日内回复。"]
    expected += ["三、回访", "回访在三日内完成。"]
    assert drop_running_headers("\n".join(line for page in pages for line in page)) == "\n".join(expected)


@pytest.mark.parametrize(
    "lines",
    [
        ["答:是", "问:二", "答:是", "问:三", "答:是"],  # too short to be a header: an answer repeated
        ["| 合格 | 合格 | 合格 |"] * 3,  # table rows
        ["第三章 服务质量", "正文", "第三章 服务质量"],  # twice is not every page
    ],
)
def test_drop_running_headers_keeps_short_repeats_and_tables(lines: list[str]) -> None:
    assert drop_running_headers("\n".join(lines)) == "\n".join(lines)


# --- drop_mojibake ------------------------------------------------------------------------------


def test_drop_mojibake_drops_the_run_and_keeps_the_sentence() -> None:
    sentence = "銷售部門負責回訪,確保每位客戶都滿意。"
    page = misread(sentence, 4)
    assert page != sentence
    kept = drop_mojibake(page)
    assert kept.startswith("銷售部門") and kept.endswith(",確保每位客戶都滿意。")
    assert find_mojibake(kept) == []


def test_clean_text_drops_mojibake_of_a_glossed_page() -> None:
    # glosses go first (a gloss's "(" may be read as "?" too), then the run; the comma after it stays
    page = misread("我們每個月組織兩次客戶活動,總結經驗並改進服務。", 9).replace("總結", "總結(jié)")
    assert clean_text(page) == "我們每個月組織兩次,總結經驗並改進服務。"


@pytest.mark.parametrize(
    "text",
    ["客户需要的只是产品吗?当然不是。", "客戶經理應當按時完成任務。", "他是谁?朱镕基总理。", "优先服务A+类客户"],
)
def test_drop_mojibake_keeps_legitimate_text(text: str) -> None:
    assert drop_mojibake(text) == text


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


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
def test_corpus_mojibake_and_a_heading_printed_twice_across_a_quote_mark() -> None:
    glossed = (CORPUS / "003_59b92ce2fd536e57.txt").read_text(encoding="utf-8")
    assert len(find_mojibake(glossed)) >= 5
    assert find_mojibake(clean_text(glossed)) == []

    case = (CORPUS / "004_1e625e82544b89b4.txt").read_text(encoding="utf-8")
    # a slide heading printed twice, once with a space and once with the closing quote: found, not copied
    match = re.search(r"“([\u4e00-\u9fff]{2,6}) ([\u4e00-\u9fff]{8,16}) \1”\2", case)
    assert match is not None
    heading = letters(match.group(1) + match.group(2))
    assert letters(case).count(heading) == 2
    assert letters(clean_text(case)).count(heading) == 1


def test_star_ratings_fold_to_words_so_a_typed_question_finds_them() -> None:
    assert fold_for_search("这个级别☆☆☆,那个★★") == "这个级别三星,那个二星"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # a box printed again at once, a scrap of it ("IT现") between the copies: the first copy stays
        ("结合客户需求、渠道及CRM CRM系 结合客户需求、渠道及CRM系 统,对接", "结合客户需求、渠道及CRM系 统,对接"),
        (
            "包括“客户走访”、“项 目管理” 方案评审与签约”“售后回访”三个环节, "
            "”“售后回访 目管理”、“方案评审与签约”“售后回访”三个环节,形成闭环",
            "包括“客户走访”、“项 目管理” 方案评审与签约”“售后回访”三个环节,形成闭环",
        ),
        # a book title's end printed twice after its line break
        (
            "初级《 赢在开口: 电话营销 话术》 话术》中级《 大客户 谈判》 谈判》高级",
            "初级《 赢在开口: 电话营销 话术》中级《 大客户 谈判》高级",
        ),
        ("以图表的形式展现“ 营业员” 营业员”应有的能力", "以图表的形式展现“ 营业员”应有的能力"),
    ],
)
def test_collapse_doubled_phrases_drops_a_box_printed_again_with_a_scrap_between(raw: str, expected: str) -> None:
    cleaned = normalize_whitespace(collapse_doubled_phrases(raw))
    assert cleaned == expected
    assert find_doubled_run(cleaned) is None


@pytest.mark.parametrize(
    "text",
    [
        # parallel items: what stands between the copies is new, not a scrap of them
        "电信重组后 甲公司合并乙公司,取得全业务经营牌照 丙公司合并丁公司,取得全业务经营牌照",
        "A部门负责客户经理月度考核 B部门负责客户经理月度考核",
        # a title in its own book marks, quoted again
        "《谈判》 《谈判》是中级课程",
    ],
)
def test_collapse_doubled_phrases_keeps_parallel_items_around_a_repeat(text: str) -> None:
    assert normalize_whitespace(collapse_doubled_phrases(text)) == text
