"""What a question asks for, read from the way a learner types it (Simplified, Traditional, colloquial)."""

from __future__ import annotations

import pytest

from knowledge.question_types import Kind, amount_class, classify, focus_words

N, D, L, DEF, R, H, Y = Kind.NUMBER, Kind.DURATION, Kind.LIST, Kind.DEFINITION, Kind.REASON, Kind.HOWTO, Kind.YESNO


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("情境模拟测验多少分算等级2?", N),
        ("隔级领导打分各占多少", N),
        ("底薪一个月几成是绩效", N),
        ("晋级要多久?", D),
        ("多长时间评一次", D),
        ("晉級評審幾個月一次?", D),  # Traditional
        ("晋级分哪几个阶段?", L),
        ("晋级分几步", L),
        ("投訴處理有哪些步驟?", L),  # Traditional
        ("晋级要满足什么条件", L),
        ("谈判分几个阶段", L),  # "how many stages" is answered by naming them
        ("谈判分多少步", L),
        ("什么是EDI流程优化模型?", DEF),
        ("什麼是來電提醒?", DEF),  # Traditional
        ("EDI是啥", DEF),  # colloquial
        ("啥是博弈论", DEF),
        ("这个模型叫啥", DEF),
        ("前后端之间签SLA是干嘛用的", DEF),  # what a thing is for is said as what it is
        ("客户档案有啥用", DEF),
        ("为什么要逐级晋级?", R),
        ("為什麼要逐級晉級?", R),
        ("为啥不能跨级", R),
        ("三次让价一次比一次少,他图个啥", R),  # what for
        ("怎么让步?", H),
        ("怎麼處理客戶投訴?", H),
        ("咋跟客户砍价", H),  # colloquial
        ("提成咋算", H),
        ("遇到强硬的对手如何应对", H),
        ("能不能跨级晋级?", Y),
        ("可以补考吗", Y),
        ("有没有补考", Y),
    ],
)
def test_the_kind_a_question_asks_for(question: str, kind: Kind) -> None:
    assert classify(question).wants(kind)


@pytest.mark.parametrize(
    ("question", "absent"),
    [
        ("什么是EDI流程优化模型?", N),
        ("怎么让步?", Y),
        ("能不能跨级晋级?", N),
        ("为什么要逐级晋级?", H),
        ("衡量客户满不满意 一般看哪几个维度", N),  # names the six, does not count them: all six items stay
        ("有哪几个阶段", N),
    ],
)
def test_a_question_does_not_ask_for_what_its_wording_does_not_show(question: str, absent: Kind) -> None:
    assert not classify(question).wants(absent)


def test_a_bare_topic_asks_for_nothing_in_particular() -> None:
    assert classify("客户经理晋级").kinds == frozenset()


def test_a_question_may_ask_for_two_things() -> None:
    kinds = classify("晋级分几个阶段,每个阶段要多久?").kinds
    assert {L, D} <= kinds


@pytest.mark.parametrize(
    "question",
    [
        "投诉处理有啥要求",
        "谈判有几种风格",
        "谈判分多少个阶段",
        "那几条经营理念是啥",
        "上线能带来啥好处",
        "有啥不一样的特点",
        "8个关键时刻,最后两个是啥",  # a place in a list is read off the list
        "晋级第三步是什么",
    ],
)
def test_counting_and_colloquial_list_questions(question: str) -> None:
    assert classify(question).wants(L)


def test_number_and_duration_questions_want_a_number() -> None:
    assert classify("几分及格").wants_number
    assert classify("多久评一次").wants_number
    assert not classify("怎么让步").wants_number


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("来电提醒月租多少钱?", "money"),
        ("客户经理底薪多少", "money"),
        ("这个费用多少", "money"),
        ("考核权重比例是多少", "share"),
        ("佣金占比多少", "share"),
        ("情境模拟测验多少分算等级2?", "score"),
        ("几分及格", "score"),
        ("满分多少分", "score"),
        ("主管评价要多少分才算合格", "score"),  # 评价 holds 价 but asks for a score, not a price
        ("客户评价高不高", None),
        ("培训要几分钟", "unit:分钟"),  # minutes, not points
        ("晋级要多久?", "time"),
        ("晉級評審幾個月一次?", "time"),
        ("什么时候评审", "time"),
        ("能不能跨级晋级", None),
        ("什么是EDI流程优化模型", None),
        ("怎么让步", None),
        ("问鼎咨询那边有没有联系电话,想约他们来培训", "phone"),  # asks for the number itself
        ("投诉电话打不通怎么办", None),
    ],
)
def test_the_kind_of_amount_a_question_wants(question: str, name: str | None) -> None:
    found = amount_class(question)
    assert (found.name if found else None) == name


@pytest.mark.parametrize(
    ("name", "stated", "not_stated"),
    [
        ("money", "月租 30 元", "月租很便宜"),
        ("share", "绩效占 40%", "绩效占大头"),
        ("score", "及格线 60 分", "及格线不高"),
        ("time", "三个月内完成", "尽快完成"),
    ],
)
def test_each_amount_class_recognises_a_stated_amount(name: str, stated: str, not_stated: str) -> None:
    amount = next(a for a in (amount_class(q) for q in ("多少钱", "比例", "几分", "多久")) if a and a.name == name)
    assert amount.stated.search(stated)
    assert not amount.stated.search(not_stated)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("客户说我们的价格比竞争对手高,谈判时我该怎么让步?", None),  # names a price, asks for advice
        ("年终奖怎么发", None),
        ("来电提醒月租多少", "money"),
        ("中级底薪多少钱", "money"),
        ("知识测验分数线是多少", "score"),
        ("投诉处理时限是多久", "time"),
    ],
)
def test_an_amount_is_asked_only_when_the_wording_asks_how_much(question: str, expected: str | None) -> None:
    found = amount_class(question)
    assert (found.name if found else None) == expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("专线带宽多少兆", "unit:兆"),
        ("这门课一共几个课时", "unit:课时"),
        ("用户涨了多少户", "unit:户"),
        ("客服热线号码是多少", "phone"),
        ("客服几点上班", "clock"),
        ("定级依据哪几条原则", None),  # 哪几条 asks for the items, not a count
    ],
)
def test_a_question_naming_its_unit_asks_for_a_number_in_it(question: str, expected: str | None) -> None:
    found = amount_class(question)
    assert (found.name if found else None) == expected


@pytest.mark.parametrize(
    ("question", "words", "focus"),
    [
        ("那个在线测评系统登进去分几种身份?", ("在线", "测评", "系统", "身份"), ("身份",)),
        ("定客户经理岗位级别依据哪几条原则", ("客户经理", "岗位", "级别", "原则"), ("原则",)),
        ("ISO9001内部审核分哪四个阶段", ("iso9001", "内部", "审核", "阶段"), ("阶段",)),
        ("胜任力测评试点是在哪几个分公司做的", ("胜任力", "测评", "试点", "分公司"), ("分公司",)),
    ],
)
def test_the_thing_a_question_asks_to_be_named_or_counted(
    question: str, words: tuple[str, ...], focus: tuple[str, ...]
) -> None:
    assert focus_words(question, words) == focus


@pytest.mark.parametrize(
    "question", ["为什么老是出现飞单", "青海啥时候上线的业务推荐", "EDI是什么意思", "年功工资怎么算"]
)
def test_why_when_and_what_it_means_name_no_thing(question: str) -> None:
    assert focus_words(question, ("飞单", "青海", "上线", "业务", "推荐", "edi", "年功", "工资", "时候", "意思")) == ()


@pytest.mark.parametrize(
    ("question", "words", "focus"),
    [
        ("客户说价格比竞争对手高,谈判时我该怎么让步?", ("价格", "竞争对手", "谈判", "让步"), ("让步",)),
        ("如何挖掘集团客户的需求", ("挖掘", "集团客户", "需求"), ("挖掘",)),
    ],
)
def test_the_action_a_how_to_question_asks_about(question: str, words: tuple[str, ...], focus: tuple[str, ...]) -> None:
    assert focus_words(question, words) == focus


def test_a_generic_how_names_no_action() -> None:
    assert focus_words("客户投诉了怎么办", ("客户", "投诉")) == ()


def test_a_price_named_as_context_asks_for_no_number() -> None:
    assert not classify("客户说我们的价格比竞争对手高,谈判时我该怎么让步?").wants_number
    assert classify("这个套餐价格是多少").wants_number


def test_how_many_rules_asks_to_name_them_not_for_a_number() -> None:
    # 「几条」「几项」 are answered by the items; narrowing the list to the item naming the question's words
    # (as a number question does) showed one rule of five.
    assert not classify("那几条经营理念是啥").wants_number
    assert classify("考核扣几分").wants_number
