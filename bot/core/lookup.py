"""Quick lookup in chat: a question → the mobile answer with sources and buttons; the buttons' actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.buttons import ButtonMaker, button_maker
from bot.core.messages import Notice, Reply, TextReply
from bot.core.ports import KnowledgeLookup
from knowledge.answer import COLLECTION_NAMES
from storage.interaction_repository import InteractionRepository
from storage.learner_repository import LearnerRecord

MORE_RESULTS = 8  # passages 更多结果 searches for; the answer shows the first ones as its sources
FIRST_MORE = 4  # the first number 更多结果 shows (an answer cites at most three sources)
MORE_RESULTS_MAX_CHARS = 1500


@dataclass
class QuickLookup:
    """Answers questions and the buttons under answers, inside the caller's transaction."""

    knowledge: KnowledgeLookup
    interactions: InteractionRepository
    new_token: Callable[[], str]
    max_question_chars: int = 500

    def ask(self, session: Session, learner: LearnerRecord, question: str, *, now: datetime) -> list[Reply]:
        question = question.strip()
        if not question:
            return [TextReply(texts.EMPTY_QUESTION)]
        if len(question) > self.max_question_chars:
            return [TextReply(texts.QUESTION_TOO_LONG.format(limit=self.max_question_chars))]
        collections = [learner.collection_filter] if learner.collection_filter else None
        result = self.knowledge.search(question, k=5, collections=collections)
        answer = self.knowledge.answer(result)
        question_id = self.interactions.add_question(
            session,
            learner_id=learner.learner_id,
            question=question,
            collections=learner.collection_filter,
            found=answer.found,
            chunk_ids=[p.chunk_id for p in result.passages],
            now=now,
        )
        if not answer.found:
            return [TextReply(f"{texts.NOT_FOUND}{texts.NOT_FOUND_HINT}")]
        button = button_maker(self.interactions, self.new_token, session, learner.learner_id, now)
        source_row = tuple(
            button(
                texts.BUTTON_OPEN_SOURCE.format(number=s.number),
                "open_source",
                {"chunk_id": s.chunk_id, "number": s.number},
            )
            for s in answer.sources
        )
        rows = [source_row]
        if len(result.passages) > len(answer.sources):
            rows.append((button(texts.BUTTON_MORE, "more", {"question": question, "collections": collections}),))
        rows.append(
            (
                button(texts.BUTTON_UP, "rate", {"question_id": question_id, "rating": 1}),
                button(texts.BUTTON_DOWN, "rate", {"question_id": question_id, "rating": -1}),
            )
        )
        body = "\n".join([answer.body, "", texts.SOURCES, *(s.label() for s in answer.sources)])
        return [TextReply(body, buttons=tuple(rows), title=texts.ANSWER_TITLE)]

    def press(
        self, session: Session, learner: LearnerRecord, action: str, payload: dict[str, Any], *, now: datetime
    ) -> list[Reply]:
        if action == "open_source":
            passage = self.knowledge.passage(payload["chunk_id"])
            if passage is None:
                return [Notice(texts.BUTTON_EXPIRED)]
            where = COLLECTION_NAMES.get(passage.collection, passage.collection)
            title = texts.SOURCE_TITLE.format(number=payload["number"], title=passage.title)
            heading = f"{passage.section}({where})" if passage.section else where
            return [TextReply(f"{heading}\n{passage.text}", title=title)]
        if action == "more":
            return [self._more(session, learner, payload, now=now)]
        if action == "rate":
            self.interactions.set_rating(
                session,
                question_id=payload["question_id"],
                learner_id=learner.learner_id,
                rating=payload["rating"],
                now=now,
            )
            return [Notice(texts.THANKS_UP if payload["rating"] > 0 else texts.THANKS_DOWN)]
        return [Notice(texts.BUTTON_EXPIRED)]

    def _more(self, session: Session, learner: LearnerRecord, payload: dict[str, Any], *, now: datetime) -> Reply:
        """The results after the answer's sources, numbered on from them (「4.」, not 「[4]」, which reads as a
        console button), each with its 📖 button, the whole within MORE_RESULTS_MAX_CHARS."""
        result = self.knowledge.search(payload["question"], k=MORE_RESULTS, collections=payload["collections"])
        extra = result.passages[FIRST_MORE - 1 :]
        if not extra:
            return Notice(texts.NO_MORE_RESULTS)
        budget = (MORE_RESULTS_MAX_CHARS - len(texts.MORE_RESULTS_TITLE)) // len(extra) - 2  # 2: the blank line
        items, buttons = [], []
        for number, passage in enumerate(extra, start=FIRST_MORE):
            where = COLLECTION_NAMES.get(passage.collection, passage.collection)
            head = _clip(f"{number}. {passage.title} › {passage.section}({where})", budget // 2)
            items.append(f"{head}\n{_clip(passage.text, budget - len(head) - 1)}")
            buttons.append(
                self._button(session, learner, now)(
                    texts.BUTTON_OPEN_SOURCE.format(number=number),
                    "open_source",
                    {"chunk_id": passage.chunk_id, "number": number},
                )
            )
        rows = tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))
        return TextReply("\n\n".join(items), buttons=rows, title=texts.MORE_RESULTS_TITLE)

    def _button(self, session: Session, learner: LearnerRecord, now: datetime) -> ButtonMaker:
        return button_maker(self.interactions, self.new_token, session, learner.learner_id, now)


def _clip(text: str, limit: int) -> str:
    """`text` within `limit` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
