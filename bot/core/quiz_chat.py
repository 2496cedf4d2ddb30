"""Quizzes in chat: /quiz, answering by lettered buttons, /stop, /review, and trainers' uploads.

Channel-neutral: builds TextReplies and button tokens; the quiz rules live in `quizzes/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.core import texts
from bot.core.buttons import ButtonMaker
from bot.core.messages import Button, InboundFile, Notice, Reply, TextReply
from bot.core.review import review_choices
from bot.core.roles import Role
from quizzes.attempts import AnswerOutcome, AttemptResult, QuestionView, QuizAttempts, half_year_cycle
from quizzes.competency import INSTRUMENTS
from quizzes.loading import guess_format, load_quiz_file
from quizzes.model import Question
from quizzes.publishing import QuizSetRefused, publish_quiz_set
from storage.learner_repository import LearnerRecord
from storage.quiz_repository import AttemptRow, QuizRepository

LETTERS = "ABCDEFGH"


def _letters(indexes: Any) -> str:
    return "、".join(LETTERS[i] for i in sorted(indexes))


def _problem_lines(refused: QuizSetRefused) -> str:
    return "\n".join(f"• {p.location}:{p.message}" for p in refused.problems[:15])


@dataclass
class QuizChat:
    attempts: QuizAttempts
    repository: QuizRepository

    # --- commands -----------------------------------------------------------------------------
    def list_sets(
        self, session: Session, learner: LearnerRecord, button: ButtonMaker, *, now: datetime, all_levels: bool = False
    ) -> list[Reply]:
        active = self.attempts.active(session, learner.learner_id)
        if active is not None:
            return [TextReply(texts.QUIZ_RESUME), *self._continue(session, active, button, now=now)]
        sets = self.attempts.available(session, level=None if all_levels else learner.level)
        rows = [
            (button(quiz_label(s.competency, s.title, s.mode), "quiz_pick", {"version_id": s.version_id}),)
            for s in sets
        ]
        if not all_levels:
            rows.append((button(texts.QUIZ_OTHER_LEVELS, "quiz_all_levels", {}),))
        title = texts.QUIZ_LIST_ALL_TITLE if all_levels else texts.QUIZ_LIST_TITLE.format(level=learner.level)
        return [TextReply(texts.QUIZ_NONE if not sets else title, buttons=tuple(rows))]

    def stop(self, session: Session, learner: LearnerRecord, *, now: datetime) -> list[Reply]:
        active = self.attempts.active(session, learner.learner_id)
        if active is None:
            return [TextReply(texts.QUIZ_NOTHING_TO_STOP)]
        self.attempts.stop(session, active, now=now)
        return [TextReply(texts.QUIZ_STOPPED)]

    def review(self, session: Session, learner: LearnerRecord, button: ButtonMaker, *, now: datetime) -> list[Reply]:
        due = self.attempts.next_review(session, learner_id=learner.learner_id, now=now)
        if due is None:
            count = self.repository.open_mistakes(session, learner.learner_id)
            return [
                TextReply(texts.REVIEW_NONE.format(open_count=texts.REVIEW_OPEN.format(count=count) if count else ""))
            ]
        mistake_id, question, order = due
        shown = [question.options[i].text for i in order]
        choices = [
            button(
                "".join(LETTERS[i] for i in picked),
                "review_answer",
                {"mistake_id": mistake_id, "original": sorted(order[i] for i in picked), "order": list(order)},
            )
            for picked in review_choices(question, order, seed=mistake_id)
        ]
        rows = tuple(tuple(choices[i : i + 4]) for i in range(0, len(choices), 4))
        body = self._question_body(question.stem, shown, "single_choice")
        if question.kind == "multiple_choice":
            body += "\n" + texts.REVIEW_MULTI_HINT
        return [TextReply(body, buttons=rows, title=texts.REVIEW_TITLE)]

    # --- buttons ------------------------------------------------------------------------------
    def press(
        self,
        session: Session,
        learner: LearnerRecord,
        action: str,
        payload: dict[str, Any],
        button: ButtonMaker,
        *,
        now: datetime,
    ) -> list[Reply]:
        if action == "quiz_all_levels":
            return self.list_sets(session, learner, button, now=now, all_levels=True)
        if action == "quiz_pick":
            return self._start(session, learner, payload["version_id"], button, now=now)
        if action == "review_answer":
            return self._review_answer(session, learner, payload, button, now=now)
        if action == "publish_confirm":
            return self._publish(session, learner, payload["upload_id"], now=now)
        attempt = self.repository.attempt_for_update(session, payload["attempt_id"])
        if attempt is None or attempt.learner_id != learner.learner_id or attempt.status != "active":
            return [Notice(texts.QUIZ_NOT_ACTIVE)]
        if attempt.position != payload["position"]:
            return [Notice(texts.QUIZ_ALREADY_ANSWERED)]
        if self.attempts.expired(attempt, now):
            return self._result(self.attempts.finish(session, attempt, now=now, expired=True), attempt)
        if action == "quiz_toggle":
            selected = self.attempts.toggle(session, attempt, payload["shown"])
            return [Notice(texts.QUIZ_SELECTED.format(letters=_letters(selected) or "无"))]
        if action == "quiz_submit":
            chosen = frozenset(int(c) for c in attempt.pending.split(",") if c)
            if not chosen:
                return [Notice(texts.QUIZ_SELECT_FIRST)]
        else:
            chosen = frozenset({payload["shown"]})
        order = tuple(attempt.draw[attempt.position][1])  # as the question was shown
        outcome = self.attempts.answer(session, attempt, chosen, now=now)
        if outcome is None:
            return [Notice(texts.QUIZ_ALREADY_ANSWERED)]
        replies: list[Reply] = [self._feedback(outcome, order)] if outcome.show_feedback else []
        refreshed = self.repository.attempt_for_update(session, attempt.attempt_id)
        assert refreshed is not None
        return replies + self._continue(session, refreshed, button, now=now)

    # --- trainers' uploads ---------------------------------------------------------------------
    def upload(
        self, session: Session, learner: LearnerRecord, file: InboundFile, button: ButtonMaker, *, now: datetime
    ) -> list[Reply]:
        if Role(learner.role) not in (Role.TRAINER, Role.ADMIN):
            return [TextReply(texts.FILE_NOT_ALLOWED)]
        if guess_format(Path(file.filename)) is None:
            return [TextReply(texts.FILE_UNSUPPORTED)]
        loaded = load_quiz_file(Path(file.filename), data=file.data)
        if loaded.result.errors:
            lines = [f"• {e.location}:{e.message}" for e in loaded.result.errors[:15]]
            return [TextReply(texts.PUBLISH_ERRORS.format(count=len(loaded.result.errors), errors="\n".join(lines)))]
        if loaded.quiz is None:
            return [TextReply(texts.PUBLISH_NEEDS_DETAILS)]
        quiz = loaded.quiz
        upload_id = self.repository.add_upload(
            session, learner_id=learner.learner_id, filename=file.filename, data=file.data, now=now
        )
        skipped = texts.PUBLISH_SKIPPED.format(count=len(loaded.result.skipped)) if loaded.result.skipped else ""
        preview = texts.PUBLISH_PREVIEW.format(
            title=quiz.title,
            competency=quiz.competency,
            instrument=INSTRUMENTS[quiz.instrument],
            level=quiz.level,
            mode=texts.QUIZ_MODE[quiz.mode],
            count=len(quiz.questions),
            draw=quiz.draw,
            cuts="/".join(map(str, quiz.cut_scores)),
            skipped=skipped,
            sample=quiz.questions[0].stem[:120],
        )
        return [
            TextReply(preview, buttons=((button(texts.PUBLISH_CONFIRM, "publish_confirm", {"upload_id": upload_id}),),))
        ]

    def _publish(self, session: Session, learner: LearnerRecord, upload_id: int, *, now: datetime) -> list[Reply]:
        if Role(learner.role) not in (Role.TRAINER, Role.ADMIN):  # the role now, not when the preview was made
            return [Notice(texts.ACTION_NOT_ALLOWED)]
        upload = self.repository.upload(session, upload_id)
        if upload is None or upload.learner_id != learner.learner_id:
            return [Notice(texts.BUTTON_EXPIRED)]
        loaded = load_quiz_file(Path(upload.filename), data=upload.data)
        if not loaded.ok or loaded.quiz is None:
            return [TextReply(texts.PUBLISH_ERRORS.format(count=len(loaded.result.errors), errors=""))]
        try:
            published = publish_quiz_set(
                session, self.repository, loaded.quiz, source_name=upload.filename, by=learner.learner_id, now=now
            )
        except QuizSetRefused as refused:  # e.g. a title of control characters only, empty once they are dropped
            return [TextReply(texts.PUBLISH_ERRORS.format(count=len(refused.problems), errors=_problem_lines(refused)))]
        return [TextReply(texts.PUBLISH_DONE.format(title=published.title, version=published.version))]

    # --- helpers ------------------------------------------------------------------------------
    def _start(
        self, session: Session, learner: LearnerRecord, version_id: int, button: ButtonMaker, *, now: datetime
    ) -> list[Reply]:
        active = self.attempts.active(session, learner.learner_id)
        if active is not None:
            return [TextReply(texts.QUIZ_RESUME), *self._continue(session, active, button, now=now)]
        started = self.attempts.start(session, learner_id=learner.learner_id, version_id=version_id, now=now)
        if started == "certification_used":
            return [TextReply(texts.QUIZ_CERT_USED.format(cycle=half_year_cycle(now)))]
        if started == "not_found":
            return [TextReply(texts.QUIZ_NOT_FOUND)]
        if started == "not_conformant":
            return [TextReply(texts.QUIZ_NOT_CONFORMANT)]
        quiz = self.attempts.quiz_of(session, started)
        limit = texts.QUIZ_TIME_LIMIT.format(minutes=quiz.time_limit_minutes) if quiz.time_limit_minutes else ""
        intro = texts.QUIZ_STARTED.format(
            title=quiz.title, mode=texts.QUIZ_MODE[quiz.mode], total=quiz.draw, limit=limit
        )
        return [TextReply(intro), *self._continue(session, started, button, now=now)]

    def _continue(self, session: Session, attempt: AttemptRow, button: ButtonMaker, *, now: datetime) -> list[Reply]:
        if self.attempts.expired(attempt, now):
            return self._result(self.attempts.finish(session, attempt, now=now, expired=True), attempt)
        view = self.attempts.current(session, attempt)
        if view is None:
            return self._result(self.attempts.finish(session, attempt, now=now), attempt)
        return [self._question(view, button)]

    @staticmethod
    def _question_body(stem: str, options: list[str], kind: str) -> str:
        lines = [stem, ""] + [f"{LETTERS[i]}. {text}" for i, text in enumerate(options)]
        if kind == "multiple_choice":
            lines.append(texts.QUIZ_MULTI_HINT)
        return "\n".join(lines)

    def _question(self, view: QuestionView, button: ButtonMaker) -> TextReply:
        base = {"attempt_id": view.attempt_id, "position": view.position}
        action = "quiz_toggle" if view.question.kind == "multiple_choice" else "quiz_answer"
        letters = tuple(button(LETTERS[i], action, {**base, "shown": i}) for i in range(len(view.order)))
        rows: tuple[tuple[Button, ...], ...] = (letters,)
        if view.question.kind == "multiple_choice":
            rows += ((button(texts.QUIZ_SUBMIT, "quiz_submit", base),),)
        title = texts.QUIZ_QUESTION_HEADER.format(position=view.position + 1, total=view.total)
        body = self._question_body(view.question.stem, view.shown_options, view.question.kind)
        return TextReply(body, buttons=rows, title=title, open_question=True)

    @staticmethod
    def _feedback(outcome: AnswerOutcome, order: tuple[int, ...]) -> TextReply:
        """Right, or wrong with the correct options by the letters shown (A、C、D) and their texts, in the shown
        order — option texts may contain 「、」 themselves, so joining the texts alone could not be read."""
        question = outcome.question
        lines = [texts.QUIZ_RIGHT] if outcome.correct else _correct_answer_lines(question, order)
        for index in sorted(outcome.chosen_original):
            feedback = question.options[index].feedback
            if feedback:
                lines.append(feedback)
        if question.explanation:
            lines.append(texts.QUIZ_EXPLANATION.format(text=question.explanation))
        if not outcome.correct and question.reference:
            lines.append(texts.QUIZ_READ_MORE.format(reference=question.reference))
        return TextReply("\n".join(lines))

    @staticmethod
    def _result(result: AttemptResult, attempt: AttemptRow) -> list[Reply]:
        level_text = texts.QUIZ_LEVEL.format(level=result.level) if result.level else texts.QUIZ_LEVEL_NONE
        lines = [
            texts.QUIZ_RESULT.format(
                title=result.title,
                correct=result.correct,
                total=result.total,
                level_text=level_text,
                cuts="/".join(map(str, result.cut_scores)),
            )
        ]
        if result.expired:
            lines.append(texts.QUIZ_EXPIRED)
        if result.missed:
            lines += ["", texts.QUIZ_MISSED_TITLE]
            orders = {key: tuple(order) for key, order in attempt.draw}
            lines += [_missed_line(q, orders.get(q.key, tuple(range(len(q.options))))) for q in result.missed]
        return [TextReply("\n".join(lines))]

    def _review_answer(
        self, session: Session, learner: LearnerRecord, payload: dict[str, Any], button: ButtonMaker, *, now: datetime
    ) -> list[Reply]:
        answered = self.attempts.answer_review(
            session,
            learner_id=learner.learner_id,
            mistake_id=payload["mistake_id"],
            chosen=frozenset(payload["original"]),
            now=now,
        )
        if answered is None:
            return [Notice(texts.QUIZ_ALREADY_ANSWERED)]
        right, question, left = answered
        outcome = AnswerOutcome(right, question, frozenset(payload["original"]), show_feedback=True)
        note = TextReply(texts.REVIEW_LEFT if left else texts.REVIEW_AGAIN) if right else None
        follow = self.review(session, learner, button, now=now)
        order = tuple(payload.get("order") or range(len(question.options)))  # buttons made before order was kept
        return [self._feedback(outcome, order), *([note] if note else []), *follow]


def quiz_label(competency: str, title: str, mode: str) -> str:
    """「能力·标题(模式)」 without saying twice what the title already says: a title naming its competency keeps
    no prefix, a title naming its mode no suffix (「产品理解力情境模拟测验(认证)」 stays as it is)."""
    mode_name = texts.QUIZ_MODE.get(mode, mode)
    prefix = "" if competency in title else f"{competency}·"
    suffix = "" if mode_name in title else f"({mode_name})"
    return f"{prefix}{title}{suffix}"


def _correct_answer_lines(question: Question, order: tuple[int, ...]) -> list[str]:
    """「❌ 回答错误,正确答案:A、C」, then each correct option as shown: 「A. …」."""
    shown = [position for position, original in enumerate(order) if original in question.correct_indexes]
    return [
        texts.QUIZ_WRONG.format(letters=_letters(shown)),
        *(f"{LETTERS[p]}. {question.options[order[p]].text}" for p in shown),
    ]


def _missed_line(question: Question, order: tuple[int, ...]) -> str:
    shown = [position for position, original in enumerate(order) if original in question.correct_indexes]
    answer = "  ".join(f"{LETTERS[p]}. {question.options[order[p]].text}" for p in shown)
    explanation = f"\n  解析:{question.explanation}" if question.explanation else ""
    return f"• {question.stem.splitlines()[0][:60]}\n  正确答案:{answer}{explanation}"
