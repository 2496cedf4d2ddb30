"""A quiz set as trainers publish it: typed, validated, immutable once published."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["practice", "certification"]


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    feedback: str | None = None


@dataclass(frozen=True)
class Question:
    key: str  # stable within a set: "neg-m-03", or "q12" when the file gives none
    kind: Literal["single_choice", "multiple_choice", "true_false"]
    stem: str
    options: tuple[Option, ...]
    explanation: str = ""
    sub_competency: str = ""
    reference: str = ""

    @property
    def correct_indexes(self) -> frozenset[int]:
        return frozenset(i for i, option in enumerate(self.options) if option.correct)


@dataclass(frozen=True)
class QuizSet:
    title: str
    competency: str
    instrument: str  # "situational" | "knowledge"
    level: str
    mode: Mode
    draw: int
    cut_scores: tuple[int, int, int]
    questions: tuple[Question, ...]
    sub_competencies: tuple[str, ...] = ()
    draw_per_sub_competency: dict[str, int] = field(default_factory=dict)
    time_limit_minutes: int | None = None
    description: str = ""
