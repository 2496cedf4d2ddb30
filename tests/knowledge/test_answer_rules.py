"""The abstention rules (named things, amounts) and `compose_answer` on hand-made search results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from knowledge.abstention import missing_entities, states_amount
from knowledge.answer import compose_answer
from knowledge.question_types import AmountClass, amount_class, latin_terms
from knowledge.results import Passage, SearchResult
from knowledge.slots import other_pay_items
from knowledge.tokenizer import Tokenizer

PROMOTION = (
    "员工填写晋级申请表后,由直接上司和跨级上司分别评估,权重各为50%。",
    "申请晋级须逐级进行,不得跨级,每半年评审一次。",
)


def passage(text: str, section: str = "", number: int = 1) -> Passage:
    return Passage(f"chunk-{number}", text, "业务手册", section, "手册.md", "processes", 5.0)


def result(question: str, terms: Sequence[str], *passages: Passage, key: Sequence[str] = ()) -> SearchResult:
    return SearchResult(question, False, passages, tuple(terms), tuple(key or terms))


def _amount(question: str) -> AmountClass:
    found = amount_class(question)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def entities() -> tuple[str, ...]:
    return Tokenizer().entities


def test_a_named_product_absent_from_every_passage_is_missing(entities: tuple[str, ...]) -> None:
    assert missing_entities("怎么申请信用卡", entities, PROMOTION) == ("信用卡",)


def test_a_lost_certificate_is_a_chore_the_promotion_rules_do_not_answer(entities: tuple[str, ...]) -> None:
    assert missing_entities("客戶經理證書丟了怎麼補辦", entities, PROMOTION) == ("证书",)


def test_a_named_thing_the_passages_name_is_not_missing(entities: tuple[str, ...]) -> None:
    passages = (*PROMOTION, "办理信用卡需要带身份证到营业厅。")
    assert missing_entities("怎么申请信用卡", entities, passages) == ()


def test_a_question_naming_nothing_misses_nothing(entities: tuple[str, ...]) -> None:
    assert missing_entities("怎么申请晋级", entities, PROMOTION) == ()


def test_a_named_thing_is_found_in_traditional_wording_too() -> None:
    assert missing_entities("怎麼申請信用卡", ("信用卡",), PROMOTION) == ("信用卡",)
    assert missing_entities("怎麼申請信用卡", ("信用卡",), ["信用卡申請須知"]) == ()


def test_a_longer_entity_is_not_satisfied_by_its_shorter_part() -> None:
    assert missing_entities("数字专线多少钱", ("专线", "数字专线"), ["专线的月租是 500 元"]) == ("数字专线",)


MONEY_QUESTION = "来电提醒的月租多少钱?"
MONEY_TERMS = ["来电提醒", "月租", "多少钱"]


def test_a_money_question_whose_passage_states_no_amount_is_not_found() -> None:
    text = "来电提醒开通后,客户的满意度明显提高。月租的收取方式由各地自行决定。"
    answer = compose_answer(result(MONEY_QUESTION, MONEY_TERMS, passage(text, "来电提醒")))
    assert not answer.found
    assert answer.body == ""


def test_an_amount_beside_another_product_does_not_answer_the_money_question() -> None:
    filler = "各地市分公司按季度汇总开通数量、投诉数量和回访结果,报省公司业务部门统一分析,作为下一阶段推广的依据。"
    text = "来电提醒开通后,客户的满意度明显提高。" + filler * 2 + "\n彩铃的月租 5 元。"
    answer = compose_answer(result(MONEY_QUESTION, MONEY_TERMS, passage(text, "增值业务")))
    assert not answer.found


def test_the_same_passage_stating_the_fee_is_found() -> None:
    text = "来电提醒开通后,客户的满意度明显提高。来电提醒月租 30 元,开通当月免费。"
    answer = compose_answer(result(MONEY_QUESTION, MONEY_TERMS, passage(text, "来电提醒")))
    assert answer.found
    assert "30 元" in answer.body


def test_a_fee_listed_under_a_short_lead_in_that_names_the_product_is_found() -> None:
    text = "来电提醒的资费:\n- 月租 30 元\n- 开通当月免费"
    answer = compose_answer(result(MONEY_QUESTION, MONEY_TERMS, passage(text, "资费")))
    assert answer.found
    assert "- 月租 30 元" in answer.body


def test_a_question_asking_for_no_amount_is_answered_without_one() -> None:
    answer = compose_answer(result("能不能跨级晋级?", ["跨级", "晋级"], passage(PROMOTION[1], "晋级原则")))
    assert answer.found
    assert "不得跨级" in answer.body


def test_an_abstained_search_gives_the_not_found_reply() -> None:
    answer = compose_answer(SearchResult("怎么申请信用卡?", True, ()))
    assert not answer.found
    assert answer.sources == ()
    assert "没有找到" in answer.render_plain()


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("月租多少钱", "来电提醒月租 30 元", True),
        ("月租多少钱", "来电提醒月租很便宜", False),
        ("几分及格", "来电提醒知识测验 60 分及格", True),
        ("几分及格", "来电提醒知识测验要认真准备", False),
        ("比例多少", "来电提醒的评分里直接上司占 50%", True),
        ("要多久", "来电提醒每半年评估一次", True),
        ("要多久", "来电提醒由人力资源部负责评估", False),
    ],
)
def test_states_amount_of_the_asked_kind(question: str, text: str, expected: bool) -> None:
    assert states_amount(_amount(question), [text], ["来电提醒"]) is expected


def test_a_short_best_sentence_brings_the_one_that_explains_it() -> None:
    text = "“零投诉就等于满意”是一种误会。很多客户有意见也不说出来,而是悄悄转到别家。另外一句和问题无关的话。"
    answer = compose_answer(result("没人投诉是不是就说明客户满意", ["投诉", "满意"], passage(text)))
    assert answer.body.splitlines()[0] == "“零投诉就等于满意”是一种误会。[1]"
    assert "悄悄转到别家" in answer.body
    assert "无关" not in answer.body


def test_a_list_brings_the_short_sentence_that_sums_it_up() -> None:
    # 「图个啥」: the three concessions are the best unit, the why is the sentence right after them
    text = (
        "小周分三次让步,每次都换回一点东西:\n- 第一次降 4%,合同延长为三年;\n- 第二次降 2%,新增 10 个网点;\n"
        "- 第三次只降 1%。\n让步幅度越来越小,对方感到已经接近极限。\n别的段落讲客户满意度调查的频次和方式。"
    )
    answer = compose_answer(result("小周三次让步一次比一次少,图个啥", ["小周", "三次", "让步"], passage(text)))
    assert answer.body.startswith("小周分三次让步")
    assert "接近极限" in answer.body
    assert "满意度调查" not in answer.body


def test_an_amount_far_from_the_question_term_does_not_answer_it() -> None:
    money = _amount("绩效工资一个月多少钱")
    near = "绩效工资每月 800 元,按季度考核结果浮动。"
    far = "绩效工资按季度考核结果发放,由部门负责人评定,具体额度另行通知,请留意人力资源部门的公告。年功工资每年 20 元。"
    assert states_amount(money, [near], ["绩效工资"])
    assert not states_amount(money, [far], ["绩效工资"])


def test_an_amount_in_the_next_sentence_does_not_answer_for_the_term_before_it() -> None:
    money = _amount("职业技能鉴定补贴一个月给多少钱")
    text = "收入含年功工资和职业技能鉴定补贴。\n- 年功工资:每年 20 元"
    assert not states_amount(money, [text], ["职业技能鉴定补贴"])
    assert states_amount(money, ["职业技能鉴定补贴:每月 50 元"], ["职业技能鉴定补贴"])


def test_a_unit_the_question_names_must_be_stated() -> None:
    unit = _amount("这门课一共几个课时")
    assert not states_amount(unit, ["谈判课共两部分,讲博弈论和让步。"], ["谈判课"])
    assert states_amount(unit, ["谈判课共 12 课时,分两天上完。"], ["谈判课"])


HARLEY = "哈雷的员工至少要接受80小时的教育训练,学习增进品质和生产力的新技能。"
DISNEY = "迪斯尼乐园善于在排队的各个环节设定游客期望,广播里说的等候时间总比实际长一些。"


def _named(question: str, *passages: Passage) -> SearchResult:
    terms = ("员工", "培训", "小时", "迪斯尼", "排队")
    return SearchResult(question, False, passages, terms, terms, named=("迪斯尼",))


def test_an_amount_stated_for_another_company_does_not_answer_the_question() -> None:
    # The 80 hours are 哈雷's; the passage naming 迪斯尼 states no training time: not found.
    answer = compose_answer(_named("迪斯尼员工入职要培训多少小时", passage(HARLEY), passage(DISNEY, number=2)))
    assert not answer.found


def test_the_reply_is_made_of_the_passages_naming_what_the_question_names() -> None:
    answer = compose_answer(_named("迪斯尼排队为啥总说要等很久", passage(HARLEY), passage(DISNEY, number=2)))
    assert answer.found
    assert "哈雷" not in answer.body
    assert "迪斯尼" in answer.body and answer.body.rstrip().endswith("[2]")


POSTS = "岗位模型分三个阶段:售前阶段、售中阶段、售后阶段,每个阶段的模型各不相同。"
EDI = "运用EDI模型优化业务流程:评估研究、设计部署、实施优化。"


def test_a_latin_term_in_the_question_must_be_named_by_the_passage_quoted() -> None:
    # 「EDI」 names the thing asked about as a product name does: the best-scoring passage on 「模型」「三个阶段」
    # that never says EDI does not answer; the one that does is quoted.
    terms = ("edi", "模型", "三个", "阶段")
    posts = replace(passage(POSTS), source="岗位模型.md")
    result = SearchResult("EDI模型是哪三个阶段", False, (posts, passage(EDI, number=2)), terms, terms)
    answer = compose_answer(result)
    assert "实施优化" in answer.body and "售前阶段" not in answer.body


def test_a_latin_term_may_be_named_by_another_chunk_of_the_same_document() -> None:
    # A BPR case's chunk need not repeat 「BPR」: the case's other chunk retrieved names it.
    terms = ("bpr", "营销", "能力", "方法")
    method = replace(passage("应用六步分析法提高大客户经理的营销能力。"), source="电信案例.txt")
    named = replace(passage("BPR 的核心是流程重组。", number=2), source="电信案例.txt")
    other = replace(passage("营销能力靠培训提升,方法因人而异。", number=3), source="培训.txt")
    answer = compose_answer(SearchResult("BPR里提升营销能力用的啥方法", False, (method, named, other), terms, terms))
    assert "六步分析法" in answer.body


def test_latin_terms_are_read_folded() -> None:
    assert latin_terms("BPR里前后端签SLA干嘛") == ("bpr", "sla")
    assert latin_terms("ＫＰＩ咋算,5G专线") == ("kpi",)


PAY = "客户经理的收入分四块:基本工资、年功工资、职业技能鉴定补贴和绩效工资 等级 初级 中级 高级 年功工资每满一年加20元"
PAY_NOTE = "基本工资 高级 560 610 660 备注: 1、持有职称证书的客户经理,按职业技能鉴定等级另发补贴。"


def test_an_amount_beside_another_pay_item_is_not_the_asked_one() -> None:
    question = "职业技能鉴定补贴每个月发多少钱"
    money, others = _amount(question), other_pay_items(question, _amount(question))
    assert not states_amount(money, [PAY], ["职业技能"], others=others)  # the 20 元 are the 年功工资's
    assert states_amount(money, ["职业技能鉴定补贴:每月 50 元"], ["职业技能"], others=others)
    assert other_pay_items("年功工资一年加多少钱", _amount("年功工资一年加多少钱")) is not None
    assert states_amount(_amount("年功工资一年加多少钱"), [PAY], ["年功"], others=None)


def test_a_numbered_item_starts_a_new_context_for_the_amount() -> None:
    # The pay row's numbers end before 「1、」: the note after it names the 补贴 but no amount of it.
    assert not states_amount(_amount("职业技能鉴定补贴多少钱"), [PAY_NOTE], ["职业技能"])


def test_a_question_naming_no_pay_item_has_no_others() -> None:
    assert other_pay_items("来电提醒月租多少钱", _amount("来电提醒月租多少钱")) is None


def test_a_conclusion_comes_with_what_it_is_drawn_from() -> None:
    # 「所以期望要早管理」 is the best sentence for 「为啥得趁早管」; the reason is the list before it.
    text = (
        "集团客户期望的特点:\n- 期望来自多个部门;\n- 期望一旦写进合同纪要,就很难再降下来。\n"
        "所以期望要在谈判早期就管理,而不是等交付出问题再解释。"
    )
    reply = compose_answer(result("客户期望为啥得趁早管理", ["期望", "趁早", "管理"], passage(text))).body
    assert "很难再降下来" in reply
    assert reply.index("很难再降下来") < reply.index("所以期望")
