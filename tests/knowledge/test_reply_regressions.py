"""Real replies over the bundled content/knowledge: what a learner must (and must not) see."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.composition import Services
from knowledge.answer import MobileAnswer
from tests.conftest import REPO, make_settings

KNOWLEDGE = REPO / "content" / "knowledge"
HASH = re.compile(r"[0-9a-f]{16}")
SEPARATOR_SECTION = "|---|---|---|---|"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Services:
    base = make_settings(Path(tmp_path_factory.mktemp("replies")) / "data")
    settings = base.model_copy(update={"vector_store": base.vector_store.model_copy(update={"mode": "off"})})
    built = Services(settings)
    for collection in ("cases", "courses", "processes"):
        built.ingest_pipeline().run([KNOWLEDGE / collection], collection=collection)
    return built


def _ask(services: Services, question: str) -> MobileAnswer:
    return services.ask(question)


@pytest.mark.parametrize(
    ("question", "must", "must_not"),
    [
        ("什么是EDI流程优化模型?", ["实施优化"], []),
        ("情境模拟测验多少分算等级2?", ["情境模拟测验", "5 / 7 / 8", "等级2"], ["|---|", "| 产品理解力 |"]),
        ("中级客户经理的标准画像是什么样", ["团队协作 3"], []),
        ("客户说我们的价格比竞争对手高,谈判时我该怎么让步?", ["让步", "交换条件"], ["哈雷", "第一部分"]),
        # 「备」「换」 are single characters the index holds rarely: at full weight they made this abstain
        ("续约开谈前,小周备了哪些能拿来跟客户换的条件?", ["增加备份链路"], []),
        # the second half of the cut-score table says which number is which level, like the first
        ("销售推动力情境模拟考几道题,多少分能到等级3", ["15 题", "8 / 10 / 12", "等级3"], ["|"]),
    ],
)
def test_reply_contains(services: Services, question: str, must: list[str], must_not: list[str]) -> None:
    answer = _ask(services, question)
    assert answer.found
    for text in must:
        assert text in answer.body
    for text in must_not:
        assert text not in answer.body
    assert not re.sub(r"\[\d+\]$", "", answer.body.rstrip()).endswith((":", ":"))


@pytest.mark.parametrize("question", ["怎么申请信用卡?", "公司的快递收发点在哪?", "今年春节放假怎么安排?"])
def test_a_question_about_a_product_the_library_does_not_cover_is_not_found(services: Services, question: str) -> None:
    answer = _ask(services, question)
    assert answer.found is False
    assert answer.sources == ()


@pytest.mark.parametrize(
    "question",
    ["什么是EDI流程优化模型?", "情境模拟测验多少分算等级2?", "中级客户经理的标准画像是什么样", "晋级要满足哪些条件?"],
)
def test_sources_are_named_and_no_section_is_a_separator_row(services: Services, question: str) -> None:
    answer = _ask(services, question)
    assert answer.sources
    for source in answer.sources:
        assert not HASH.search(source.title), source.title
        assert source.section != SEPARATOR_SECTION
        assert "|---|" not in source.section
