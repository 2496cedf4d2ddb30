"""Optional answer synthesis with a chat model through LangChain, grounded only in retrieved passages.

Off by default. Any failure — error, timeout, an answer that cites nothing or cites a passage that was
not given — falls back to the extractive answer, so a learner always gets sources they can check.
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
from collections.abc import Callable

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from knowledge.answer import MobileAnswer, compose_answer
from knowledge.results import SearchResult
from knowledge.unit_similarity import SEMANTIC_WEIGHT, UnitSimilarity

log = logging.getLogger(__name__)
_CITATION = re.compile(r"\[(\d+)\]")

SYSTEM_PROMPT = (
    "你是客户经理的随身教练。只根据给出的资料回答,不要使用资料以外的知识。"
    "用简体中文,先给结论,句子短,适合手机阅读,总长不超过{limit}个字。"
    "每句话后用 [编号] 标出依据的资料。资料里没有答案时,只回答:资料库里没有找到可靠的答案。"
)


def build_prompt(result: SearchResult, *, limit: int, spans: str = "") -> list[SystemMessage | HumanMessage]:
    """The messages sent to the model: the rules, the numbered passages, the spans the extractive answer took
    from them (the model starts from the same evidence a learner would read), and the question."""
    sources = "\n\n".join(
        f"[{i}] {p.title} › {p.section}\n{p.text}" for i, p in enumerate(result.passages[:3], start=1)
    )
    picked = f"\n\n其中与问题最相关的原文:\n{spans}" if spans else ""
    return [
        SystemMessage(SYSTEM_PROMPT.format(limit=limit)),
        HumanMessage(f"资料:\n{sources}{picked}\n\n问题:{result.query}"),
    ]


class GroundedSynthesizer:
    """Writes the mobile answer with a chat model; falls back to `compose_answer` on any doubt."""

    def __init__(
        self,
        *,
        model: BaseChatModel,
        timeout_seconds: float,
        max_chars: int,
        similarity: UnitSimilarity | None = None,
        semantic_weight: float = SEMANTIC_WEIGHT,
    ) -> None:
        self._model = model
        self._similarity = similarity  # the extractive answer's unit scoring by meaning (dense side on)
        self._semantic_weight = semantic_weight
        self._timeout = timeout_seconds
        self._max_chars = max_chars
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm")

    def answer(self, result: SearchResult) -> MobileAnswer:
        extractive = compose_answer(
            result, max_chars=self._max_chars, similarity=self._similarity, semantic_weight=self._semantic_weight
        )
        if not extractive.found:
            return extractive
        try:
            prompt = build_prompt(result, limit=self._max_chars - 120, spans=extractive.body)
            text = self._call(lambda: self._model.invoke(prompt).content)
        except Exception:  # the model is optional: any failure means the extractive answer
            log.warning("answer synthesis failed; using the extractive answer", exc_info=True)
            return extractive
        body = str(text).strip()
        cited = {int(n) for n in _CITATION.findall(body)}
        if not cited or not cited <= set(range(1, len(extractive.sources) + 1)):
            log.info(
                "synthesised answer cites %s of %d sources; using the extractive answer", cited, len(extractive.sources)
            )
            return extractive
        footer = len("\n\n来源:\n") + sum(len(s.label()) + 1 for s in extractive.sources)
        return MobileAnswer(result.query, True, body[: max(self._max_chars - footer, 80)], extractive.sources)

    def _call(self, call: Callable[[], object]) -> object:
        return self._pool.submit(call).result(timeout=self._timeout)


def build_openai_chat_model(*, base_url: str, model: str, api_key: str, timeout_seconds: float) -> BaseChatModel:
    """An OpenAI-compatible chat model (any server speaking that API)."""
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        base_url=base_url,
        model=model,
        api_key=SecretStr(api_key),
        timeout=timeout_seconds,
        max_retries=1,
        temperature=0,
    )
