"""Chunking keeps structure: a list stays with its lead-in, table rows carry their column names, and the
tables of Word, HTML and PowerPoint files reach the chunks with their header."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pptx
import pytest
from pptx.util import Inches

from ingest.chunking import LIST_STRETCH, Chunk, chunk_document
from ingest.extractors import ExtractedDocument, ExtractedSection, extract_document
from ingest.quality import find_doubled_run

CHUNK_CHARS = 200
SEPARATOR = re.compile(r"^\|?\s*:?-{2,}")

# Twelve different preparations, each long enough that six of them pass CHUNK_CHARS.
PREPARATIONS = [
    "查看客户近一年的订单记录,标出金额变化最大的三个月份并想好询问的说法",
    "整理客户提过的所有投诉,逐条确认处理结果,带上已经办结的书面凭证",
    "了解客户所在行业最近的政策变化,准备两三个和对方业务相关的具体例子",
    "确认拜访对象的职务和分管范围,弄清楚谁拍板、谁只负责传话和跑腿",
    "把本次想推荐的方案写成一页纸,价格、期限和服务内容都要标得清清楚楚",
    "预约好时间后提前一天再打电话确认,顺便问清楚停车位置和进门手续",
    "准备一份对方可能提出的反对意见清单,每一条都先想好简短的回应办法",
    "带齐名片、工作证和方案打印件,另外在平板上存一份电子版以防万一",
    "和技术同事约好随时电话支持,遇到专业问题可以当场请他们出面解答",
    "确认公司能给的最大优惠幅度,事先向主管请示好可以当场答应的底线",
    "拜访后当天写好纪要,列出客户关心的问题和下一步的跟进时间与负责人",
    "一周之内给客户发一条回访消息,把答应过的事情逐项告诉对方办到哪了",
]


def _document(*sections: tuple[str | None, str], name: str = "手册.md") -> ExtractedDocument:
    return ExtractedDocument(Path(name), "客户经理手册", tuple(ExtractedSection(h, t, None) for h, t in sections))


def _numbered(items: list[str]) -> list[str]:
    return [f"{number}、{text}" for number, text in enumerate(items, start=1)]


def _chunk_with(chunks: list[Chunk], needle: str) -> Chunk:
    return next(c for c in chunks if needle in c.text)


def test_a_list_longer_than_a_chunk_stays_in_one_chunk_with_its_lead_in() -> None:
    items = _numbered(PREPARATIONS[:6])
    assert sum(len(item) for item in items) > CHUNK_CHARS
    lead_in = "拜访客户前要做好六项准备:"
    text = "本节讲拜访前的准备工作。" + lead_in + "\n" + "\n".join(items)
    chunks = chunk_document(_document(("拜访准备", text)), chunk_chars=CHUNK_CHARS)
    holder = _chunk_with(chunks, items[0])
    assert holder.text.splitlines()[0] == lead_in
    assert all(item in holder.text for item in items)
    assert len(holder.text) <= CHUNK_CHARS * LIST_STRETCH
    assert holder.section == "拜访准备"


def test_a_list_longer_than_the_stretch_is_split_with_its_lead_in_repeated() -> None:
    items = _numbered(PREPARATIONS)
    lead_in = "拜访客户前后共有十二项要做:"
    assert len(lead_in) + sum(len(item) + 1 for item in items) > CHUNK_CHARS * LIST_STRETCH
    chunks = chunk_document(_document(("拜访准备", lead_in + "\n" + "\n".join(items))), chunk_chars=CHUNK_CHARS)
    holding = [c for c in chunks if any(item in c.text for item in items)]
    assert len(holding) >= 2
    assert all(c.text.splitlines()[0] == lead_in for c in holding)
    assert all(len(c.text) <= CHUNK_CHARS * LIST_STRETCH for c in holding)
    for item in items:  # every item once, whole, in order
        assert sum(item in c.text for c in holding) == 1
    seen = [line for c in holding for line in c.text.splitlines()[1:]]
    assert seen == items


def test_markdown_table_rows_come_out_with_their_column_names() -> None:
    table = (
        "各岗位的底薪见下表:\n| 岗位 | 底薪 | 年功工资 |\n|---|---|---|\n"
        "| 初级 | 3000 元 | 每年 100 元 |\n| 中级 | 4500 元 | 每年 150 元 |"
    )
    [chunk] = chunk_document(_document(("薪酬标准", table)), chunk_chars=300)
    assert chunk.section == "薪酬标准"
    assert chunk.text.splitlines() == [
        "各岗位的底薪见下表:",
        "- 岗位:初级;底薪:3000 元;年功工资:每年 100 元",
        "- 岗位:中级;底薪:4500 元;年功工资:每年 150 元",
    ]


def test_separator_rows_and_table_rows_never_become_sections() -> None:
    text = (
        "考核分数线如下。\n| 等级 | 分数线 |\n|---|---|\n| 等级1 | 60 分 |\n| 等级2 | 75 分 |\n\n"
        "|---|---|---|---|\n\n补考安排\n补考在成绩公布后一个月内进行,只能补考一次。"
    )
    chunks = chunk_document(_document((None, text)), chunk_chars=300)
    assert chunks
    assert all(not SEPARATOR.match(c.section) and "|" not in c.section for c in chunks)
    assert all("---" not in c.text for c in chunks)
    assert "补考安排" in {c.section for c in chunks}  # a real heading-like line still names its section


def _assert_table_reached_chunks(chunks: list[Chunk]) -> None:
    text = "\n".join(c.text for c in chunks)
    assert "岗位:中级;底薪:4500 元" in text
    assert "|" not in text
    assert all(not SEPARATOR.match(c.section) for c in chunks)


def test_a_word_table_reaches_the_chunks_with_its_header(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("薪酬标准", level=1)
    document.add_paragraph("各岗位的底薪见下表:")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("岗位", "底薪"), ("初级", "3000 元"), ("中级", "4500 元")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    path = tmp_path / "薪酬.docx"
    document.save(str(path))
    chunks = chunk_document(extract_document(path))
    _assert_table_reached_chunks(chunks)
    assert _chunk_with(chunks, "岗位:中级").section == "薪酬标准"


def test_an_html_table_and_list_reach_the_chunks_with_header_and_markers(tmp_path: Path) -> None:
    path = tmp_path / "薪酬.html"
    path.write_text(
        "<html><head><title>薪酬说明</title></head><body><h2>薪酬标准</h2><p>各岗位的底薪见下表:</p>"
        "<table><tr><th>岗位</th><th>底薪</th></tr><tr><td>初级</td><td>3000 元</td></tr>"
        "<tr><td>中级</td><td>4500 元</td></tr></table>"
        "<p>调薪要满足两个条件:</p><ol><li>连续两次考评为 A</li><li>没有客户投诉</li></ol></body></html>",
        encoding="utf-8",
    )
    chunks = chunk_document(extract_document(path))
    _assert_table_reached_chunks(chunks)
    listed = _chunk_with(chunks, "连续两次考评为 A")
    lines = listed.text.splitlines()
    assert lines[lines.index("调薪要满足两个条件:") + 1 :][:2] == ["1. 连续两次考评为 A", "2. 没有客户投诉"]


def test_a_powerpoint_table_reaches_the_chunks_with_its_header(tmp_path: Path) -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])  # title only
    slide.shapes.title.text = "薪酬标准"
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, cells in enumerate([("岗位", "底薪"), ("初级", "3000 元"), ("中级", "4500 元")]):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    path = tmp_path / "薪酬.pptx"
    presentation.save(str(path))
    chunks = chunk_document(extract_document(path))
    _assert_table_reached_chunks(chunks)
    assert _chunk_with(chunks, "岗位:中级").section == "薪酬标准"


@pytest.mark.parametrize("stem", ["004_1e625e82544b89b4", "1e625e82544b89b4", "20240511-9f3ab2c1d4"])
def test_a_file_named_by_a_hash_is_titled_by_its_first_meaningful_line(tmp_path: Path, stem: str) -> None:
    path = tmp_path / f"{stem}.txt"
    path.write_text("======\n客户回访操作指引\n回访要在成交后三天内完成,并填写回访记录。\n", encoding="utf-8")
    assert extract_document(path).title == "客户回访操作指引"


def test_a_file_with_a_real_name_keeps_it(tmp_path: Path) -> None:
    path = tmp_path / "说明.txt"
    path.write_text("客户回访操作指引\n回访要在成交后三天内完成。\n", encoding="utf-8")
    assert extract_document(path).title == "说明"


def test_one_bullet_holding_a_whole_flattened_slide_is_cut_at_sentence_ends() -> None:
    # Scraped slides put a page behind one bullet (4,656 characters in the corpus): the item must not make one
    # chunk of that size, or search ranks it by its length and a reply only ever reads its first part.
    sentences = [
        f"第{n}页讲的是客户经理在第{n}个环节要做的事情和要注意的问题,比如先确认需求再出方案。" for n in range(1, 40)
    ]
    text = "课程要点:\n• " + "".join(sentences) + "\n• 最后一条短的要点。"
    chunks = chunk_document(_document(("课程", text)), chunk_chars=CHUNK_CHARS)
    assert max(len(c.text) for c in chunks) <= CHUNK_CHARS * LIST_STRETCH
    joined = "".join(c.text for c in chunks)
    assert all(sentence in joined for sentence in sentences)  # nothing lost, every sentence whole somewhere
    assert "最后一条短的要点" in joined


def test_pieces_of_one_long_item_in_the_same_chunk_do_not_repeat_the_splitter_overlap() -> None:
    # The splitter's pieces overlap (so a chunk boundary keeps context); two of them packed into one chunk
    # printed the overlap twice: "…想好询问的说法。\n…想好询问的说法。整理客户提过的…"
    more = [
        "遇到客户临时改期也不要抱怨,当场约定新的时间并记进日程",
        "每季度末汇总一次拜访效果,挑出成交率最高的做法在组里分享",
    ]
    item = "。".join(PREPARATIONS + more).replace(",", "。") + "。"  # short sentences: the overlap holds two
    assert len(item) > CHUNK_CHARS * LIST_STRETCH
    chunks = chunk_document(_document(("准备", "拜访前要做的准备:\n• " + item)), chunk_chars=CHUNK_CHARS)
    assert all(find_doubled_run(c.text) is None for c in chunks)
    joined = "".join(c.text for c in chunks)
    assert all(clause in joined for sentence in PREPARATIONS + more for clause in sentence.split(","))
    assert max(len(c.text) for c in chunks) <= CHUNK_CHARS * LIST_STRETCH


def test_a_heading_over_a_body_too_small_to_stand_alone_keeps_its_items() -> None:
    # A flattened slide: a short title, a bullet, and a second item that lost its bullet. The second item read
    # as a heading, so the title's body was one bullet (too small to be a passage) and was dropped: the slide's
    # two points never reached the index.
    slide = (
        "谈判收尾时要把对方的让步写进纪要,双方当场确认。\n"
        "收尾四字诀\n"
        "• 复述条款\n"
        "当场签字\n"
        "签约后一周内回访客户,确认合同执行中有没有新的问题,并记进客户档案。"
    )
    chunks = chunk_document(_document(("谈判收尾", slide)), chunk_chars=CHUNK_CHARS)
    holder = _chunk_with(chunks, "复述条款")
    assert "• 复述条款\n• 当场签字\n" in holder.text  # the second item is an item again, not a heading
    assert holder.section == "收尾四字诀"
