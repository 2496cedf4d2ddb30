"""`coach eval`, the answer figure: does the reply the learner reads carry the fact?

Each question is asked the way the chat asks it (the configured search, then the answerer). The reply text
(`MobileAnswer.body`, without the source list) is matched against the evidence strings the way passages
are (`knowledge.metrics.reply_carries_evidence`), whatever file it was taken from; a second figure also
wants the reply's first source to be a right file. The baseline pastes the best passage as the reply (cut to
the same length, same abstention), so a composed reply is measured against doing nothing clever.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.answer import MobileAnswer
from knowledge.metrics import ReplyOutcome, reply_carries_evidence, score_replies
from knowledge.results import SearchResult

if TYPE_CHECKING:
    from app.evaluation import EvalQuestion

MISS_REPLY_CHARS = 200
REPLIES = {"composed": "composed reply", "best_passage": "best passage as reply"}


@dataclass(frozen=True)
class JudgedReply:
    """One reply, as judged: what the learner read, its first source file, whether it carries the fact."""

    text: str
    found: bool
    first_source: str | None
    carries_fact: bool
    first_source_right: bool

    def outcome(self, question: EvalQuestion) -> ReplyOutcome:
        return ReplyOutcome(
            question.question_id,
            question.answerable,
            self.found,
            len(self.text) if self.found else 0,
            self.carries_fact,
            self.first_source_right,
        )


@dataclass(frozen=True)
class QuestionReplies:
    question: EvalQuestion
    composed: JudgedReply
    best_passage: JudgedReply


def judge_reply(question: EvalQuestion, *, text: str, found: bool, first_source: str | None) -> JudgedReply:
    shown = text if found else ""
    right = bool(found and first_source is not None and (not question.sources or first_source in question.sources))
    carries = question.answerable and reply_carries_evidence(shown, evidence=question.evidence)
    return JudgedReply(shown, found, first_source if found else None, carries, right)


def judge_question(
    question: EvalQuestion,
    result: SearchResult,
    answer: MobileAnswer,
    *,
    source_of: Callable[[str], str | None],
    max_chars: int,
) -> QuestionReplies:
    """Judge the composed reply and the best-passage baseline for one question, from one search."""
    first_source = source_of(answer.sources[0].chunk_id) if answer.found and answer.sources else None
    composed = judge_reply(question, text=answer.body, found=answer.found, first_source=first_source)
    best = result.passages[0] if result.passages and not result.abstained else None
    baseline = judge_reply(
        question,
        text=best.text[:max_chars] if best else "",
        found=best is not None,
        first_source=best.source if best else None,
    )
    return QuestionReplies(question, composed, baseline)


def score_answers(judged: Sequence[QuestionReplies]) -> dict[str, dict[str, object]]:
    return {
        "composed": score_replies([j.composed.outcome(j.question) for j in judged]).as_json(),
        "best_passage": score_replies([j.best_passage.outcome(j.question) for j in judged]).as_json(),
    }


def question_json(judged: QuestionReplies, ranks: dict[str, int | None]) -> dict[str, object]:
    """One question's record in `coach eval --json`, for diffing two runs."""
    q = judged.question
    return {
        "id": q.question_id,
        "question": q.question,
        "answerable": q.answerable,
        "evidence": list(q.evidence),
        "sources": list(q.sources),
        "reply": judged.composed.text,
        "found": judged.composed.found,
        "first_source": judged.composed.first_source,
        "carries_fact": judged.composed.carries_fact,
        "first_source_right": judged.composed.first_source_right,
        "best_passage_carries_fact": judged.best_passage.carries_fact,
        "best_passage_source": judged.best_passage.first_source,
        "first_hit_rank": ranks,  # per retrieval configuration, 1-based within the top 10, null when missed
    }


def print_answer_table(scores: dict[str, dict[str, object]], out: Callable[[str], None]) -> None:
    out("answers (the reply text the learner reads):")
    out(
        f"{'reply':<24}{'carries fact':>14}{'+right file':>13}{'abstain(unans)':>16}{'wrong-abstain':>15}"
        f"{'median chars':>14}{'max':>6}"
    )
    for key, label in REPLIES.items():
        s = scores[key]
        out(
            f"{label:<24}{_fmt(s['carries_fact']):>14}{_fmt(s['carries_fact_right_source']):>13}"
            f"{_fmt(s['abstain_on_unanswerable']):>16}{_fmt(s['wrong_abstain_on_answerable']):>15}"
            f"{_fmt_count(s['median_chars']):>14}{_fmt_count(s['max_chars']):>6}"
        )


def print_misses(judged: Sequence[QuestionReplies], out: Callable[[str], None]) -> None:
    """Answerable questions whose reply misses the fact, and unanswerable ones that got a reply."""
    missed = [j for j in judged if j.question.answerable and not j.composed.carries_fact]
    answered = [j for j in judged if not j.question.answerable and j.composed.found]
    if missed:
        out(f"replies without the fact ({len(missed)}):")
    for j in missed:
        reply = j.composed.text[:MISS_REPLY_CHARS].replace("\n", " ") if j.composed.found else "(没有找到)"
        out(f"  {j.question.question_id}  {j.question.question}")
        out(f"    reply:    {reply}")
        out(f"    evidence: {' | '.join(j.question.evidence)}")
    if answered:
        out(f"unanswerable questions that got a reply ({len(answered)}):")
    for j in answered:
        out(f"  {j.question.question_id}  {j.question.question}")
        out(f"    reply:    {j.composed.text.replace(chr(10), ' ')}")


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"


def _fmt_count(value: object) -> str:
    return f"{value:.0f}" if isinstance(value, int | float) else "-"
