"""Tests for ingest.blocks: a section's lines read back as paragraphs, lists with their lead-in, and tables."""

from __future__ import annotations

import pytest

from ingest.blocks import (
    LONG_LINE,
    ListBlock,
    Paragraph,
    Table,
    is_list_item,
    is_separator_row,
    is_table_line,
    parse_blocks,
    render_table_rows,
    split_inline_list,
)


def _only(blocks: list, kind: type) -> list:
    return [b for b in blocks if isinstance(b, kind)]


def test_a_markdown_table_with_a_separator_reads_as_a_table_with_its_header() -> None:
    blocks = parse_blocks(
        ["| 岗位 | 底薪 | 绩效系数 |", "|---|---|---|", "| 初级 | 3000 元 | 1.0 |", "| 中级 | 4500 元 | 1.2 |"]
    )
    assert blocks == [Table("", ("岗位", "底薪", "绩效系数"), (("初级", "3000 元", "1.0"), ("中级", "4500 元", "1.2")))]


def test_a_table_takes_the_colon_sentence_before_it_as_its_lead_in() -> None:
    blocks = parse_blocks(["各岗位的底薪见下表:", "| 岗位 | 底薪 |", "|---|---|", "| 初级 | 3000 元 |"])
    [table] = blocks
    assert isinstance(table, Table)
    assert table.lead_in == "各岗位的底薪见下表:"
    assert table.header == ("岗位", "底薪")


def test_a_lone_table_row_has_no_header_and_stays_one_item() -> None:
    [block] = parse_blocks(["| 岗位 | 底薪 |"])
    assert isinstance(block, ListBlock)
    assert block.items == ("岗位 底薪",)


@pytest.mark.parametrize(
    "item",
    [
        "1、先摸清客户的预算",
        "2.再报出第一个价格",
        "(1)记下对方的每一次让步",
        "(2)留出回旋余地",
        "①复述诉求",
        "• 确认时间",
        "- 约定回访",
    ],
)
def test_each_marker_kind_starts_a_list_item(item: str) -> None:
    assert is_list_item(item)
    [block] = parse_blocks([item, "- 收尾时再确认一遍"])
    assert isinstance(block, ListBlock)
    assert block.items[0] == item


@pytest.mark.parametrize("line", ["1.5倍底薪按季度发放", "2.5%的提成在年底结算", "3000 元以上需审批"])
def test_a_number_at_the_start_of_a_sentence_is_not_a_list_marker(line: str) -> None:
    assert not is_list_item(line)
    assert parse_blocks([line]) == [Paragraph(line)]


def test_a_paragraph_ending_in_a_colon_joins_the_list_and_only_its_last_sentence_is_the_lead_in() -> None:
    blocks = parse_blocks(["本节讲谈判的开场。开场要做三件事:", "1、寒暄破冰", "2、确认议程", "3、试探底线"])
    assert blocks == [
        Paragraph("本节讲谈判的开场。"),
        ListBlock("开场要做三件事:", ("1、寒暄破冰", "2、确认议程", "3、试探底线")),
    ]


def test_a_paragraph_without_a_colon_is_not_a_lead_in() -> None:
    blocks = parse_blocks(["开场很重要。", "- 寒暄破冰", "- 确认议程"])
    assert blocks == [Paragraph("开场很重要。"), ListBlock("", ("- 寒暄破冰", "- 确认议程"))]


def test_an_inline_numbered_run_is_split_into_items_under_its_lead_in() -> None:
    line = "回访是售后的一部分。回访分三步:1、电话预约;2、上门了解使用情况;3、填写回访记录。"
    before, listed = split_inline_list(line) or ("", ListBlock("", ()))
    assert before == "回访是售后的一部分。"
    assert listed.lead_in == "回访分三步:"
    assert [item.rstrip("。") for item in listed.items] == ["1、电话预约", "2、上门了解使用情况", "3、填写回访记录"]
    assert parse_blocks([line]) == [Paragraph(before), listed]


def test_numbers_that_do_not_count_up_from_one_are_not_an_inline_list() -> None:
    assert split_inline_list("底薪上浮 2.5 倍,名额 3 个,见第 4、5 页。") is None


def test_a_long_scraped_line_is_split_at_chinese_section_numerals() -> None:
    first = (
        "一、课程目标:让学员在谈判桌上保持冷静,看清对方真正想要的东西,"
        "分辨哪些条件可以谈、哪些必须守住,并学会几种稳妥的让步办法。"
    )
    second = "二、课程安排:上午讲授,下午分组演练,每组由一位老讲师带着反复练到熟练为止,结束时互相点评。"
    third = (
        "三、考核方式:课后交一份谈判复盘,讲师按清单打分,"
        "不及格的学员下期补训一次,补训后仍不合格的由部门经理另行安排辅导。"
    )
    line = first + second + third
    assert len(line) > LONG_LINE
    texts = [b.text for b in parse_blocks([line]) if isinstance(b, Paragraph)]
    assert texts == [first, second, third]


def test_a_short_line_with_section_numerals_is_left_whole() -> None:
    line = "一、目标明确。二、分工清楚。"
    assert parse_blocks([line]) == [Paragraph(line)]


@pytest.mark.parametrize("line", ["|---|---|", "| --- | :---: |", "|---|---|---|---|"])
def test_separator_rows_are_recognised_and_never_kept_as_content(line: str) -> None:
    assert is_separator_row(line)
    blocks = parse_blocks(["| 等级 | 分数线 |", line, "| 等级1 | 60 |", "| 等级2 | 75 |"])
    [table] = _only(blocks, Table)
    assert all("---" not in cell for row in (table.header, *table.rows) for cell in row)


def test_a_table_row_is_a_table_line_and_not_a_paragraph() -> None:
    assert is_table_line("| 等级 | 分数线 |")
    assert not is_table_line("等级和分数线")
    blocks = parse_blocks(["分数线如下:", "| 等级 | 分数线 |", "|---|---|", "| 等级2 | 75 |"])
    assert not _only(blocks, Paragraph)


def test_rows_are_spelled_out_with_their_column_names_and_empty_cells_dropped() -> None:
    table = Table("", ("能力", "测评工具", "分数线"), (("谈判力", "情景演练", "5 / 7 / 8"), ("倾听力", "-", "60")))
    assert render_table_rows(table) == ["- 能力:谈判力;测评工具:情景演练;分数线:5 / 7 / 8", "- 能力:倾听力;分数线:60"]
