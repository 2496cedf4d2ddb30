"""How much of a unit a reply keeps, on hand-made passages: a fact deep inside a flattened slide bullet, a short
list kept whole for a question that is not a list question, a bare heading joined to what it heads, a list item
that announces more joined to the sentence saying it."""

from __future__ import annotations

from knowledge.answer import compose_answer
from knowledge.answer_units import passage_units
from knowledge.question_types import Kind, classify
from knowledge.results import Passage, SearchResult
from knowledge.span_selection import QueryShape, relevant_items, window_around


def _passage(text: str, section: str = "") -> Passage:
    return Passage("chunk-1", text, "客户经理手册", section, "手册.md", "processes", 1.0)


def _result(question: str, words: dict[str, float], text: str, section: str = "") -> SearchResult:
    return SearchResult(question, False, (_passage(text, section),), tuple(words), tuple(words), words, {})


# A slide flattened into one bullet: the asked-for rule sits near its end, past any head-first cut.
SLIDE = (
    "• 考核维度包括收入增长、到达数、离网率和满意度 指标 评定标准说明 "
    + "收入增长率按当月与上月之比乘以权重计分,到达数按目标完成度乘以权重计分,离网率按低于目标的幅度计分, " * 12
    + "满意度由各中心抽查打分,每接到一次投诉扣3分,季度汇总后公布 总计 备注"
)


def test_a_long_bullet_is_cut_around_the_question_words_not_at_its_head() -> None:
    question = "满意度这项,一次投诉扣几分"
    answer = compose_answer(_result(question, {"满意度": 2.0, "投诉": 4.0, "扣": 2.0}, SLIDE))
    assert answer.found
    assert "每接到一次投诉扣3分" in answer.body
    assert len(answer.body) < len(SLIDE)


def test_window_around_marks_both_cuts_and_keeps_the_start_without_a_match() -> None:
    shape = QueryShape.of("投诉扣几分", ["投诉"], classify("投诉扣几分"), {"投诉": 4.0})
    cut = window_around(SLIDE, 80, shape)
    assert cut.startswith("…") and "投诉" in cut and len(cut) <= 80
    assert window_around(SLIDE, 80, None) == SLIDE[:79] + "…"
    assert window_around("短句", 80, shape) == "短句"


INFLUENCES = (
    "客户的期望通常受这些因素影响:\n"
    "- 客户本人的需求和消费习惯;\n- 以往的服务经历;\n- 熟人和同行的推荐;\n- 企业的广告和承诺;\n- 报价和营业厅环境。"
)


def test_a_short_list_stays_whole_when_the_question_names_one_of_its_items() -> None:
    # 「除了需求习惯还受啥影响」 names the first item; the four others are the answer.
    question = "客户期望受啥影响?除了需求习惯"
    shape = QueryShape.of(question, ["期望", "影响", "需求", "习惯"], classify(question))
    [unit] = [u for u in passage_units(INFLUENCES, 0) if u.is_list]
    assert relevant_items(unit, shape, room=400) == unit.items
    answer = compose_answer(_result(question, {"期望": 2.0, "影响": 2.0, "需求": 1.0, "习惯": 1.0}, INFLUENCES))
    assert "熟人和同行的推荐" in answer.body and "报价和营业厅环境" in answer.body


def test_a_long_list_keeps_the_items_the_question_names_when_it_cannot_fit() -> None:
    lines = [f"{n}.第{n}题说的是企业的第{n}条理念,答案写在括号里(理念{n})" for n in range(1, 14)]
    quiz = "文化知识题:\n" + "\n".join(lines)
    quiz = quiz.replace("第7题说的是企业的第7条理念", "第7题说的是核心价值观回答的问题")
    question = "核心价值观回答的是哪个问题"
    shape = QueryShape.of(question, ["核心价值观", "回答", "问题"], classify(question))
    [unit] = [u for u in passage_units(quiz, 0) if u.is_list]
    kept = relevant_items(unit, shape, room=200)
    assert len(kept) == 1 and "核心价值观" in kept[0]


def test_a_bare_heading_heads_the_unit_after_it() -> None:
    text = "二、绩效测评的关键维度\n知识维度 互动维度 价值维度 满意维度\n反映了企业对客户的了解程度。"
    units = passage_units(text, 0)
    assert units[0].text == "二、绩效测评的关键维度"
    assert "互动维度" in units[0].full_text


def test_a_list_item_announcing_more_takes_the_sentence_that_says_it() -> None:
    text = "• (1)客户的总价值,包括:产品、服务、人员和形象;\n• (2)客户的总成本,包括:\n金钱、时间、精力和体力。"
    units = passage_units(text, 0)
    lists = [u for u in units if u.is_list]
    assert lists and "金钱、时间、精力和体力。" in lists[0].items
    question = "客户总成本包括哪些"
    answer = compose_answer(_result(question, {"总成本": 4.0, "包括": 1.0}, text))
    assert "时间、精力" in answer.body


# Items separated by 「;」 inside one paragraph: an enumeration, shaped like a scraped course's list of five ideas.
IDEAS = (
    "以客户为中心的经营理念,背景是市场越来越开放,竞争越来越激烈。乐园的经营理念如下:"
    "理念之一:让游客开心; 理念之二:营造快乐氛围; 理念之三:读懂游客需要; "
    "理念之四:提升员工素质; 理念之五:健全服务体系。"
)


def test_sentences_ending_in_semicolons_are_one_list_under_their_colon_lead_in() -> None:
    units = passage_units(IDEAS, 0)
    listed = [u for u in units if u.is_list]
    assert len(listed) == 1
    assert listed[0].text == "乐园的经营理念如下:"
    assert listed[0].items[0].startswith("理念之一") and listed[0].items[-1] == "理念之五:健全服务体系。"
    assert not [u for u in passage_units("先做准备;再去拜访。然后总结。", 0) if u.is_list]  # one 「;」 is a clause


def test_a_list_question_gets_every_semicolon_item() -> None:
    words = {"经营": 2.0, "理念": 2.0, "乐园": 3.0}
    answer = compose_answer(_result("乐园那几条经营理念是啥", words, IDEAS))
    assert "读懂游客需要" in answer.body and "健全服务体系" in answer.body


def test_the_list_under_the_heading_that_names_it_beats_the_intro_that_mentions_it() -> None:
    # 「8 个关键时刻都有啥」: the course intro names the eight moments in passing; the section they head lists them.
    intro = Passage(
        "chunk-1",
        "课程先讲谈判的核心是什么,再讲谈判过程里的 8 个关键时刻,然后给出成功模式。",
        "初级谈判课",
        "课程定位",
        "谈判.md",
        "courses",
        1.0,
    )
    moments = Passage(
        "chunk-2",
        "下面是一种常用划分:\n1. 开场寒暄;\n2. 确认需求;\n3. 第一次报价;\n4. 出现僵局;\n5. 捕捉成交信号;",
        "初级谈判课",
        "8 个关键时刻",
        "谈判.md",
        "courses",
        0.9,
    )
    words = {"谈判": 1.0, "过程": 2.0, "关键": 2.0, "时刻": 2.0, "关键时刻": 4.0}
    question = "谈判过程里那8个关键时刻都有啥"
    result = SearchResult(question, False, (intro, moments), tuple(words), tuple(words), words, {})
    assert classify(result.query).wants(Kind.LIST)
    answer = compose_answer(result)
    assert "捕捉成交信号" in answer.body


def test_a_passage_not_yet_quoted_brings_its_best_unit_when_there_is_room() -> None:
    # 「为啥要多往合作上引」: the first passage's list names 集团客户 and 谈判 most; the reason is the second's.
    traits = Passage(
        "chunk-1",
        "和个人客户相比,集团客户谈判有几个明显不同:\n- 决策人多;\n- 周期长;\n- 是长期合作,谈崩影响多年。",
        "初级谈判课",
        "集团客户谈判的特点",
        "初级.md",
        "courses",
        1.0,
    )
    said = "集团客户是长期关系,属于重复博弈,合作的收益更大。"
    reason = Passage("chunk-2", said, "中级谈判课", "化竞争为合作", "中级.md", "courses", 0.9)
    words = {"集团客户": 3.0, "谈判": 2.0, "合作": 2.0, "引": 1.0}
    question = "为啥跟集团客户谈判要多往合作上引"
    answer = compose_answer(SearchResult(question, False, (traits, reason), tuple(words), tuple(words), words, {}))
    assert "决策人多" in answer.body and "合作的收益更大" in answer.body
