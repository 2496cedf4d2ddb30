"""QuizSet ↔ JSON, for storing an immutable published version. Pure."""

from __future__ import annotations

import json
from dataclasses import asdict

from quizzes.model import Option, Question, QuizSet


def quiz_to_json(quiz: QuizSet) -> str:
    return json.dumps(asdict(quiz), ensure_ascii=False, sort_keys=True)


def quiz_from_json(text: str) -> QuizSet:
    data = json.loads(text)
    questions = tuple(
        Question(
            key=q["key"],
            kind=q["kind"],
            stem=q["stem"],
            options=tuple(Option(o["text"], o["correct"], o.get("feedback")) for o in q["options"]),
            explanation=q.get("explanation", ""),
            sub_competency=q.get("sub_competency", ""),
            reference=q.get("reference", ""),
        )
        for q in data["questions"]
    )
    return QuizSet(
        title=data["title"],
        competency=data["competency"],
        instrument=data["instrument"],
        level=data["level"],
        mode=data["mode"],
        draw=data["draw"],
        cut_scores=tuple(data["cut_scores"]),  # type: ignore[arg-type]
        questions=questions,
        sub_competencies=tuple(data.get("sub_competencies", ())),
        draw_per_sub_competency=dict(data.get("draw_per_sub_competency", {})),
        time_limit_minutes=data.get("time_limit_minutes"),
        description=data.get("description", ""),
    )
