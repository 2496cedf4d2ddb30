"""What every quiz file format is read into, before validation: plain questions with locations.

Importers (YAML, Excel, GIFT, Aiken) are pure: bytes in, `ImportResult` out. They never publish.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

QuestionKind = Literal["single_choice", "multiple_choice", "true_false"]


@dataclass(frozen=True)
class ImportedQuestion:
    """A question as a file states it. `correct` holds option indexes (0-based)."""

    kind: QuestionKind
    text: str
    options: tuple[str, ...]
    correct: tuple[int, ...]
    option_feedback: tuple[str | None, ...] | None = None
    explanation: str = ""
    location: str = ""  # "questions.gift.txt:12" or "题库.xlsx 工作表「题目」第 5 行"
    name: str = ""
    sub_competency: str = ""
    reference: str = ""  # a knowledge passage or document that teaches it
    option_locations: tuple[str, ...] = ()  # where each option is written, when the format knows (YAML)

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "text": self.text,
            "options": list(self.options),
            "correct": list(self.correct),
            "option_feedback": None if self.option_feedback is None else list(self.option_feedback),
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Skipped:
    """A question of a type a chat quiz cannot ask (essay, matching, numerical…), with where it is."""

    location: str
    reason: str


@dataclass(frozen=True)
class ImportProblem:
    """An error that stops publishing: where, and what is wrong, in words a trainer understands."""

    location: str
    message: str
    question: str = ""  # the key (id) of the question it belongs to; "" for the set or the file


@dataclass
class ImportResult:
    questions: list[ImportedQuestion] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[ImportProblem] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "questions": [q.as_json() for q in self.questions],
            "skipped": [asdict(s) for s in self.skipped],
            "errors": [asdict(e) for e in self.errors],
        }
