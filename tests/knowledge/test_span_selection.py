"""Which span of the best passages a reply shows, on hand-made passages: a list with its lead-in up to its last
item, one table row with its column names, the advice under the heading that names the topic, a short body
whose every line is backed by the passage it cites."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from ingest.chunking import chunk_document
from ingest.extractors import ExtractedDocument, ExtractedSection
from knowledge.answer import MobileAnswer, compose_answer
from knowledge.answer_units import passage_units
from knowledge.question_types import classify
from knowledge.results import Passage, SearchResult
from knowledge.span_selection import (
    QueryShape,
    on_topic,
    overlap,
    relevant_items,
    rerank_by_units,
    score_unit,
    shorten_item,
)

CITE = re.compile(r"\[(\d+)\]$")


def passage(text: str, section: str = "", title: str = "客户经理手册", number: int = 1) -> Passage:
    return Passage(f"chunk-{number}", text, title, section, "手册.md", "processes", 10.0 - number)


def result(question: str, terms: Sequence[str], *passages: Passage, **weights: dict[str, float]) -> SearchResult:
    return SearchResult(
        question,
        False,
        passages,
        tuple(terms),
        tuple(terms),
        weights.get("words", {}),
        weights.get("bigrams", {}),
    )


def cited_groups(answer: MobileAnswer) -> list[tuple[int, list[str]]]:
    """The body cut after every line that ends in a citation: (source number, the lines it covers)."""
    groups: list[tuple[int, list[str]]] = []
    pending: list[str] = []
    for line in answer.body.splitlines():
        match = CITE.search(line)
        pending.append(CITE.sub("", line))
        if match:
            groups.append((int(match.group(1)), pending))
            pending = []
    assert not pending, f"lines after the last citation: {pending}"
    return groups


def assert_every_line_is_cited_truthfully(answer: MobileAnswer, passages: Sequence[Passage]) -> None:
    for number, lines in cited_groups(answer):
        assert 1 <= number <= len(answer.sources)
        source_text = passages[number - 1].text
        for line in lines:
            assert line.rstrip("…") in source_text, f"[{number}] does not hold {line!r}"


LEAD_IN_AND_ITEMS = (
    "三步开场法是谈判开局的常用套路,分三步:\n"
    "1、寒暄破冰,先聊对方关心的话题;\n"
    "2、确认今天的议程和时间;\n"
    "3、抛出己方的第一个报价。"
)


@pytest.mark.parametrize("question", ["什么是三步开场法?", "三步开场法有哪几步?"])
def test_a_definition_or_list_question_gets_the_lead_in_and_ends_with_the_last_item(question: str) -> None:
    source = passage(LEAD_IN_AND_ITEMS, "开场")
    answer = compose_answer(result(question, ["三步", "开场", "开场法"], source))
    assert answer.found
    assert CITE.sub("", answer.body.splitlines()[-1]) == "3、抛出己方的第一个报价。"
    assert "分三步:" in answer.body
    assert_every_line_is_cited_truthfully(answer, [source])


def test_a_lead_in_sentence_alone_is_never_the_answer() -> None:
    """A passage cut right after 「分三步:」 shows the item lines that follow, never the bare colon."""
    source = passage("三步开场法分三步:\n寒暄破冰\n确认议程\n抛出报价", "开场")
    answer = compose_answer(result("什么是三步开场法?", ["三步", "开场", "开场法"], source))
    assert answer.found
    assert not CITE.sub("", answer.body).rstrip().endswith((":", ":"))


SALARY_TABLE = (
    "各岗位底薪见下表:\n| 岗位 | 底薪 | 年功工资 |\n|---|---|---|\n"
    "| 见习 | 2500 元 | 无 |\n| 初级 | 3000 元 | 每年 100 元 |\n| 中级 | 4500 元 | 每年 150 元 |\n"
    "| 高级 | 6000 元 | 每年 200 元 |\n| 资深 | 8000 元 | 每年 300 元 |\n| 首席 | 9500 元 | 每年 400 元 |"
)


def _chunked(text: str, section: str) -> Passage:
    document = ExtractedDocument(Path("薪酬.md"), "薪酬手册", (ExtractedSection(section, text, None),))
    [chunk] = chunk_document(document, chunk_chars=400)
    return passage(chunk.text, chunk.section, "薪酬手册")


def test_a_number_question_about_one_table_row_gets_that_row_with_its_column_names() -> None:
    source = _chunked(SALARY_TABLE, "底薪标准")
    answer = compose_answer(result("中级的底薪是多少钱?", ["中级", "底薪", "多少钱"], source))
    assert answer.found
    assert "岗位:中级;底薪:4500 元" in answer.body
    for other in ("见习", "初级", "高级", "资深", "首席"):
        assert f"岗位:{other}" not in answer.body
    assert "|" not in answer.body
    assert_every_line_is_cited_truthfully(answer, [source])


def test_a_long_table_keeps_only_the_rows_the_question_names() -> None:
    source = _chunked(SALARY_TABLE, "底薪标准")
    [unit] = [u for u in passage_units(source.text, 0) if u.is_list]
    query = QueryShape.of("高级的年功工资多少", ["高级", "年功", "工资"], classify("高级的年功工资多少"))
    assert relevant_items(unit, query) == ("- 岗位:高级;底薪:6000 元;年功工资:每年 200 元",)


def test_a_list_question_keeps_a_plain_list_whole_but_a_table_to_the_row_it_names() -> None:
    steps = "晋级要走六步:\n" + "\n".join(f"{n}. 第{n}步的高级要求与说明文字" for n in range(1, 7))
    [plain] = [u for u in passage_units(_chunked(steps, "晋级步骤").text, 0) if u.is_list]
    query = QueryShape.of("高级有哪些要求", ["高级", "要求"], classify("高级有哪些要求"))
    assert relevant_items(plain, query) == plain.items

    [table] = [u for u in passage_units(_chunked(SALARY_TABLE, "底薪标准").text, 0) if u.is_list]
    query = QueryShape.of("高级有哪些待遇", ["高级", "待遇"], classify("高级有哪些待遇"))
    assert relevant_items(table, query) == tuple(item for item in table.items if "岗位:高级" in item)


def test_a_howto_question_prefers_the_advice_under_its_heading_to_an_outline_sentence() -> None:
    outline = passage(
        "课程分两部分:第一部分讲如何化解客户抱怨,第二部分讲如何安抚情绪激动的客户。", "课程简介", "满意度课", 1
    )
    advice = passage(
        "化解抱怨的做法:\n- 先听完客户的话,不要打断;\n- 复述客户的诉求,确认理解无误;\n- 给出可以兑现的解决时间。",
        "如何化解客户抱怨",
        "满意度课",
        2,
    )
    answer = compose_answer(result("怎么化解客户抱怨?", ["化解", "客户", "抱怨"], outline, advice))
    assert answer.found
    assert answer.body.splitlines()[0] == "化解抱怨的做法:"
    assert "- 给出可以兑现的解决时间。[2]" in answer.body
    assert "第一部分" not in answer.body
    assert_every_line_is_cited_truthfully(answer, [outline, advice])


def _huge_passages() -> list[Passage]:
    steps = "\n".join(
        f"{n}、第{n}步:把客户提出的每一项投诉都登记在案,写明时间、地点和诉求,再交给对应部门处理,"
        f"处理期间每{n + 1}天跟进一次结果并告诉客户进展"
        for n in range(1, 21)
    )
    run_on = "投诉处理要及时" + "并且要耐心听取客户意见同时做好记录" * 60
    principle = "投诉处理的原则是" + "先安抚情绪再解决问题," * 100 + "最后回访。"
    return [
        passage("投诉处理的步骤:\n" + steps, "投诉处理步骤", "投诉手册", 1),
        passage(run_on, "投诉处理要求", "投诉手册", 2),
        passage(principle, "投诉处理原则", "投诉手册", 3),
    ]


@pytest.mark.parametrize("first", [0, 1, 2])
@pytest.mark.parametrize("question", ["投诉处理有哪些步骤?", "投诉处理有什么要求?", "怎么做投诉处理?"])
def test_the_reply_stays_short_even_with_huge_passages(question: str, first: int) -> None:
    passages = _huge_passages()
    passages.insert(0, passages.pop(first))
    assert all(len(p.text) > 1000 for p in passages)
    answer = compose_answer(result(question, ["投诉", "处理", "步骤", "要求"], *passages))
    assert answer.found
    assert len(answer.body) <= 600
    assert len(answer.render_plain()) <= 600
    assert_every_line_is_cited_truthfully(answer, passages)


def test_a_long_item_is_shortened_to_its_name() -> None:
    item = "- 客户洞察力:信息收集、分析思维和挖掘需求三项都要达到三星,并能在拜访中当场说出客户的三个痛点"
    assert shorten_item(item, 20) == "- 客户洞察力"
    assert shorten_item("- 短的一项", 20) == "- 短的一项"
    assert len(shorten_item("没有冒号的一长串说明文字" * 5, 20)) == 20


def test_one_huge_run_on_passage_is_cut_to_fit() -> None:
    run_on = _huge_passages()[1]
    answer = compose_answer(result("投诉处理有什么要求?", ["投诉", "处理", "要求"], run_on))
    assert answer.found
    assert len(answer.render_plain()) <= 600
    assert_every_line_is_cited_truthfully(answer, [run_on])


def test_the_unit_that_counts_the_thing_asked_for_is_the_answer() -> None:
    # 「分几种身份」 is answered by 「分为五个角色」, not by the sentences that merely talk about the system.
    text = (
        "公司开发了能力评估与认证在线测评系统,协助多家分公司实施测评。"
        "在线测评系统根据登录用户的角色,为不同角色的用户提供不同的操作通道。"
        "系统分为五个角色:考生、绩效管理员、上级主管、地市管理员、系统管理员。"
    )
    question = "在线测评系统分几种身份?"
    words = {"在线": 2.0, "测评": 2.0, "系统": 1.5, "身份": 3.0}
    plain = SearchResult(question, False, (passage(text),), tuple(words), tuple(words), words, {})
    focused = SearchResult(question, False, (passage(text),), tuple(words), tuple(words), words, {}, ("身份", "角色"))
    assert "考生" in compose_answer(focused).body.split("[1]")[0]
    assert compose_answer(plain).body.split("[1]")[0] != compose_answer(focused).body.split("[1]")[0]


def test_a_word_found_counts_once_not_again_through_its_parts() -> None:
    # 「来电提醒」 found must not also count 「来电」「提醒」 and their bigrams: the topic every passage of a case
    # shares would outweigh the detail the question asks about.
    shape = QueryShape.of(
        "来电提醒BOSS里加了啥功能",
        ("来电", "提醒", "来电提醒", "boss", "功能"),
        classify("来电提醒BOSS里加了啥功能"),
        {"来电": 2.0, "提醒": 2.0, "来电提醒": 2.0, "boss": 4.0, "功能": 3.0},
        {"来电": 2.0, "电提": 2.0, "提醒": 2.0},
    )
    assert overlap("来电提醒", shape) == pytest.approx(2.0)
    assert overlap("来电", shape) == pytest.approx(2.0)  # its bigram lies inside the word found
    assert overlap("后来在BOSS里加了推荐弹窗", shape) > overlap("先为来电提醒建投诉档案", shape)


def test_the_documents_own_question_heads_its_answer_and_never_answers_alone() -> None:
    text = (
        "1.哈雷摩托是怎样管理客户期望的?\n"
        "一、加强企业管理,提高产品竞争力\n"
        "2.哈雷摩托是怎样超越客户期望的?\n"
        "哈雷公司多半会等到顾客订单确定之后,再根据他们的个性需求量身打造“专属哈雷摩托车”。\n"
        "这些个性化产品非常注重质量。"
    )
    units = passage_units(text, 0)
    headed = next(u for u in units if u.text.startswith("2.哈雷摩托"))
    assert "专属哈雷摩托车" in headed.full_text
    words = {"哈雷": 3.0, "摩托": 2.0, "超越": 2.5, "客户": 0.5, "期望": 1.5}
    answer = compose_answer(result("哈雷摩托是咋超越客户期望的", tuple(words), passage(text), words=words))
    assert "专属哈雷摩托车" in answer.body
    assert not all(line.rstrip("[1]").endswith(("?", "?")) for line in answer.body.splitlines())


def test_a_passage_saying_what_was_asked_in_one_unit_rises_above_one_with_scattered_words() -> None:
    outline = passage(
        "本课程讲谈判:第一部分讲竞争与合作,第二部分讲价格谈判。课程最后讲让步的艺术。", "课程定位", number=1
    )
    rules = passage(
        "中级的让步原则:\n- 确需让步时,分成几次小步让;\n"
        "- 每次让步都换回一个条件,价格之外也可以谈;\n- 让步幅度逐次递减。",
        "让步原则",
        number=2,
    )
    words = {"价格": 2.0, "竞争": 2.0, "谈判": 1.0, "让步": 2.0}
    question = "客户嫌价格比竞争对手高,谈判时怎么让步"
    shape = QueryShape.of(question, tuple(words), classify(question), words, {}, ("让步",))
    assert [p.chunk_id for p in rerank_by_units([outline, rules], shape)] == ["chunk-2", "chunk-1"]


def test_a_count_in_a_passage_about_something_else_gets_no_focus_bonus() -> None:
    # 华为's 「三个阶段」 do not answer 「EDI模型是哪三个阶段」: the focus bonus needs the question's rarest word.
    words = {"edi": 5.0, "模型": 1.0, "阶段": 1.0}
    shape = QueryShape.of("EDI模型是哪三个阶段", tuple(words), classify("EDI模型是哪三个阶段"), words, {}, ("阶段",))
    huawei = "华为的发展过程划分为三个阶段:懵懂阶段、追赶阶段和超越阶段。"
    assert not on_topic(huawei, shape)
    unit = passage_units(huawei, 0)[0]
    assert score_unit(unit, shape, 0.0, on_topic=False) < score_unit(unit, shape, 0.0, on_topic=True)


def test_the_subject_is_no_asking_word_and_no_single_character() -> None:
    # 「CRM绩效测评看哪几个维度」: 「哪几个」 and 「看」 are rarer in the documents than 「CRM」, but the passage about
    # CRM's 维度 is on topic without them.
    words = {"crm": 3.9, "绩效": 2.3, "测评": 3.2, "看": 4.1, "哪几": 6.5, "哪几个": 6.5, "维度": 3.6}
    question = "CRM绩效测评看哪几个维度"
    shape = QueryShape.of(question, tuple(words), classify(question), words, {}, ("维度",))
    assert on_topic("客户关系管理(CRM)绩效测评的关键维度:客户知识维度、客户互动维度。", shape)
    assert not on_topic("绩效测评的关键维度:客户知识维度、客户互动维度。", shape)


def test_a_unit_saying_the_subject_outscores_one_about_the_topic_around_it() -> None:
    # 「BPR里的SLA是干嘛用的」: SLA is the subject; a sentence on BPR and 电信 holds more of the question's words.
    words = {"bpr": 2.3, "sla": 4.1, "电信": 2.6}
    question = "电信BPR里的SLA是干嘛用的"
    shape = QueryShape.of(question, tuple(words), classify(question), words, {}, ())
    about = passage_units("BPR实施一年多后,中国电信提高了网络和运营效率。", 0)[0]
    says = passage_units("内部客户制签订SLA,后端以前端为客户。", 0)[0]
    assert score_unit(says, shape, 0.0, subject=True) > score_unit(about, shape, 0.0, subject=True)
    assert score_unit(says, shape, 0.0) < score_unit(about, shape, 0.0)  # the passage rerank does without it
