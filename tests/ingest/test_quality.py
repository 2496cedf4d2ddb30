"""Tests for ingest.quality: the two measures on made-up text, on the corpus as an ingest chunks it, and
in the ingest report."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.composition import Services
from app.settings import Settings
from ingest.chunking import chunk_document
from ingest.extractors import extract_document
from ingest.quality import (
    PassageQuality,
    find_adjacent_double,
    find_doubled_run,
    find_mojibake,
    measure_passages,
)
from ingest.report import FileOutcome, IngestReport

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def misread(text: str, at: int) -> str:
    """`text` as a page shows it when its GBK bytes lost one byte at character `at`: the decoder writes "?"
    and reads on a byte off, pairing the wrong bytes, until an ASCII byte puts it back in step."""
    raw = text.encode("gbk")
    cut = len(text[:at].encode("gbk"))
    return raw[:cut].decode("gbk") + "?" + raw[cut + 1 :].decode("gbk", errors="replace").replace("\ufffd", "?")


FAR = (  # 87 characters without a repeat of their own
    "每月回访重要客户并记录结果,季度末汇总投诉原因交产品部门分析;年底由人力资源部按得分排序,"
    "前百分之二十进入晋级名单,其余人员参加补充培训后再评;新入职员工另有三个月的见习期。"
)


# --- find_doubled_run -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "run"),
    [
        ("季度考核 服务质量评估办法 季度考核”服务质量评估办法", "季度考核服务质量"),  # across a quote and spaces
        ("建立客户档案制度。每月回访一次,建立客户档案制度", "建立客户档案制度"),  # not adjacent
        ("推行KPI考核办法 推行kpi考核办法", "推行kpi考核办"),  # case folded; the first eight letters
    ],
)
def test_find_doubled_run_finds_a_run_repeated_nearby(text: str, run: str) -> None:
    found = find_doubled_run(text)
    assert found is not None
    assert found.run == run
    assert found.first[1] <= found.second[0]


def test_find_doubled_run_points_at_both_copies() -> None:
    text = "前言。客户满意度调查表,请如实填写 客户满意度调查表"
    found = find_doubled_run(text)
    assert found is not None
    assert text[found.first[0] : found.first[1]] == "客户满意度调查表"
    assert text[found.second[0] : found.second[1]] == "客户满意度调查表"


@pytest.mark.parametrize(
    "text",
    [
        "客户满意度调查 客户满意度调",  # seven letters
        "建立客户档案制度。" + FAR + "建立客户档案制度",  # further than 80 characters
        "哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈",  # one letter over and over is no doubled phrase
        "1、2、1、2、1、2、1、2、1、2、1、2",
        "客户经理分初级、中级、高级三档,每半年评审一次。",
    ],
)
def test_find_doubled_run_leaves_text_without_a_close_repeat(text: str) -> None:
    assert find_doubled_run(text) is None


# --- find_mojibake --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "at"),
    [
        ("本季度的客戶資料已經整理完畢,請經理審核。", 4),
        ("我們每個月組織兩次客戶活動,總結經驗並改進服務。", 9),
        ("銷售部門負責回訪,確保每位客戶都滿意。", 4),
        ("請於週五前提交報表,逾期將影響考核。", 5),
    ],
)
def test_find_mojibake_finds_text_read_a_byte_off(sentence: str, at: int) -> None:
    page = misread(sentence, at)
    spans = find_mojibake(page)
    assert spans, page
    start, end = spans[0]
    assert page[:start] == sentence[:at]  # the text before the lost byte is not touched
    assert page[end:] in sentence  # what follows the run is the sentence back in step


def test_find_mojibake_flags_undecodable_characters_anywhere() -> None:
    assert find_mojibake("客户\ufffd满意") == [(2, 3)]
    assert find_mojibake("客户\ue000满意") == [(2, 3)]


@pytest.mark.parametrize(
    "text",
    [
        "客戶經理應當按時完成任務,每個月組織兩次活動。",  # Traditional
        "客户需要的只是产品吗?当然不是,还有服务。",  # a question mark glued to the next sentence
        "技能要求? 沟通协调 ? 数据分析 ? 方案撰写",  # "?" as a bullet glyph
        "他是谁?朱镕基总理,喆哥也来了。",  # one rare character alone
        "客户分为A类、B类、C类,优先服务A+类客户。",  # letters glued to Chinese
        "真的吗??3个问题",
        "ARPU值与KPI(80题)同步考核",
        "錦囊、秘笈与贏家之道",  # Traditional with less common characters
    ],
)
def test_find_mojibake_leaves_legitimate_text(text: str) -> None:
    assert find_mojibake(text) == []


def test_find_mojibake_reads_the_script_line_by_line() -> None:
    # a Simplified form is a suspect only inside a Traditional line
    traditional = "銷售部門每個月開會,總結經驗"
    simplified = "第二页 第三页 ?感谢聆听"
    assert find_mojibake(f"{traditional}\n{simplified}") == []


# --- find_adjacent_double -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "run"),
    [
        # a slide box printed twice, split differently: only spaces and a quote mark between the copies
        ("“回访提醒 服务流程改进只限于前台 回访提醒”服务流程改进只限于前台", "回访提醒服务流程改进只限于前台"),
        ("第一天 1、行业竞争态势分析 2、\n行业竞争态势分析 2、客户需求", "行业竞争态势分析2"),  # across a line break
        ("推行KPI考核办法,推行kpi考核办法", "推行kpi考核办法"),
    ],
)
def test_find_adjacent_double_finds_a_copy_that_follows_at_once(text: str, run: str) -> None:
    found = find_adjacent_double(text)
    assert found is not None
    assert found.run == run
    assert find_doubled_run(text) is not None  # an adjacent double is a doubled run too


@pytest.mark.parametrize(
    "text",
    [
        # parallel list items: each copy followed by its own words
        "• 如果想让客户形成高期望就可以定高价格; • 如果想让客户形成高期望就应该包装精美",
        "企业文化之一:诚信经营 企业文化之二:客户至上 企业文化之三:团队协作",
        # table rows that share values, another cell between
        "笔试 [1-2-3] 等级1、2、3 面试 [1-2-3] 等级1、2、3",
        # prose repeats a term
        "城市客户经理的考核办法与农村客户经理的考核办法不同",
        "建立客户档案制度。每月回访一次,建立客户档案制度",
        "谢谢谢谢谢谢谢谢谢谢",
    ],
)
def test_find_adjacent_double_leaves_parallel_text(text: str) -> None:
    assert find_adjacent_double(text) is None


# --- measure_passages -----------------------------------------------------------------------------


def test_measure_passages_counts_passages_with_each_problem() -> None:
    texts = [
        "季度考核 服务质量评估办法 季度考核”服务质量评估办法",
        misread("我們每個月組織兩次客戶活動,總結經驗並改進服務。", 9),
        "客户经理分初级、中级、高级三档。",
    ]
    quality = measure_passages(texts)
    assert quality == PassageQuality(passages=3, doubled=1, mojibake=1, adjacent=1)
    assert quality.doubled_share == pytest.approx(1 / 3)
    assert quality.adjacent_share == pytest.approx(1 / 3)
    assert quality + PassageQuality(1, 0, 0) == PassageQuality(4, 1, 1, 1)
    # terms prose repeats are a doubled run, not an adjacent double
    assert measure_passages(["城市客户经理的考核办法与农村客户经理的考核办法不同"]) == PassageQuality(1, 1, 0, 0)
    assert PassageQuality().mojibake_share == 0.0


# --- the corpus -----------------------------------------------------------------------------------


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not found at {CORPUS}")
def test_corpus_passages_hold_no_mojibake_and_fewer_doubled_runs() -> None:
    passages = {path.name: [c.text for c in chunk_document(extract_document(path))] for path in CORPUS.glob("*.txt")}
    total = sum((measure_passages(texts) for texts in passages.values()), PassageQuality())
    assert total.mojibake == 0
    # The deck is where slide extraction doubled most (over half its passages before cleaning took the
    # copies out). What stays is repeated on purpose: table rows, parallel list items, terms in prose.
    deck = measure_passages(passages["000_7adfac2323091d53.txt"])
    assert deck.doubled_share < 0.4


# --- the ingest report ----------------------------------------------------------------------------


def test_ingest_report_prints_and_serialises_the_shares() -> None:
    report = IngestReport("cases", [FileOutcome("案例.txt", "added", 4)], PassageQuality(4, 1, 0, 1))
    assert report.summary_lines()[1] == (
        "  清洗检查(本次写入 4 段):仍有重复片段 1 段(25.0%,其中紧挨着重复 1 段,25.0%),含乱码 0 段(0.0%)"
    )
    assert report.as_json()["quality"] == {
        "passages": 4,
        "doubled": 1,
        "mojibake": 0,
        "adjacent": 1,
        "doubled_share": 0.25,
        "mojibake_share": 0.0,
        "adjacent_share": 0.25,
    }
    assert len(IngestReport("cases", [FileOutcome("案例.txt", "unchanged", 4)]).summary_lines()) == 1


def test_an_ingest_run_measures_the_passages_it_wrote(lexical_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "考核.txt").write_text(
        "城市客户经理的考核办法与农村客户经理的考核办法不同。\n" + misread("銷售部門負責回訪,確保每位客戶都滿意。", 4),
        encoding="utf-8",
    )
    pipeline = Services(lexical_settings).ingest_pipeline()
    first = pipeline.run([folder], collection="processes")
    assert first.quality.passages >= 1
    assert first.quality.doubled == 1  # the repeated term stays, and is counted
    assert first.quality.mojibake == 0  # cleaning dropped the run
    assert pipeline.run([folder], collection="processes").quality == PassageQuality()  # nothing written
