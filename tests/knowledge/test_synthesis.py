"""Answer synthesis with a fake chat model (LangChain's own fake): grounded, cited, or it falls back."""

from __future__ import annotations

import time

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from knowledge.answer import compose_answer
from knowledge.results import Passage, SearchResult
from knowledge.synthesis import GroundedSynthesizer, build_prompt

RESULT = SearchResult(
    query="隔级领导打分占多少",
    abstained=False,
    passages=(
        Passage(
            "c1", "直接上司和跨级上司分别评估,权重各为50%。", "客户经理晋级流程", "评估", "晋级.md", "processes", 3.2
        ),
        Passage("c2", "晋级每半年评审一次。", "客户经理晋级流程", "原则", "晋级.md", "processes", 1.1),
    ),
    query_terms=("跨级", "上司"),
)


def _synth(model, timeout=5.0) -> GroundedSynthesizer:
    return GroundedSynthesizer(model=model, timeout_seconds=timeout, max_chars=600)


def test_prompt_holds_only_the_retrieved_passages_numbered():
    messages = build_prompt(RESULT, limit=400)
    human = messages[1].content
    assert "[1] 客户经理晋级流程 › 评估" in human and "[2]" in human and "[3]" not in human
    assert "只根据给出的资料回答" in messages[0].content


def test_a_cited_answer_is_used_with_the_sources():
    answer = _synth(FakeListChatModel(responses=["直接上司和跨级上司各占50%。[1]"])).answer(RESULT)
    assert answer.body == "直接上司和跨级上司各占50%。[1]"
    assert [s.number for s in answer.sources] == [1, 2]
    assert len(answer.render_plain()) <= 600


def test_an_answer_without_citations_falls_back_to_extractive():
    answer = _synth(FakeListChatModel(responses=["大概一半一半吧。"])).answer(RESULT)
    assert answer == compose_answer(RESULT, max_chars=600)


def test_a_citation_of_a_passage_not_given_falls_back():
    answer = _synth(FakeListChatModel(responses=["各占50%。[7]"])).answer(RESULT)
    assert answer == compose_answer(RESULT, max_chars=600)


class _SlowModel(FakeListChatModel):
    def _call(self, *args, **kwargs):  # type: ignore[override]
        time.sleep(2)
        return super()._call(*args, **kwargs)


class _BrokenModel(FakeListChatModel):
    def _call(self, *args, **kwargs):  # type: ignore[override]
        raise ConnectionError("endpoint down")


def test_timeout_and_errors_fall_back():
    extractive = compose_answer(RESULT, max_chars=600)
    assert _synth(_SlowModel(responses=["各占50%。[1]"]), timeout=0.2).answer(RESULT) == extractive
    assert _synth(_BrokenModel(responses=["x"])).answer(RESULT) == extractive


def test_abstention_is_never_sent_to_the_model():
    nothing = SearchResult("食堂几点开饭", True, ())
    model = _BrokenModel(responses=["x"])
    assert not _synth(model).answer(nothing).found


def test_prompt_carries_the_spans_the_extractive_answer_chose() -> None:
    human = build_prompt(RESULT, limit=400, spans="要点一句[1]")[1].content
    assert "要点一句[1]" in str(human)
    assert "其中与问题最相关的原文" not in str(build_prompt(RESULT, limit=400)[1].content)
