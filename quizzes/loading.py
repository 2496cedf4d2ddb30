"""Read a quiz file in any supported format and validate it: nothing is published from here.

`load_quiz_file` returns the typed `QuizSet` (when the file has the set's details — YAML or Excel)
and the import result with every problem located; a file with any error must publish nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from quizzes.competency import instrument_code
from quizzes.formats.yaml_format import (
    LINE_KEY,
    SET_FIELDS,
    parse_yaml_document,
    read_yaml_questions,
    resolve_questions_from,
)
from quizzes.imported import ImportedQuestion, ImportProblem, ImportResult
from quizzes.model import Option, Question, QuizSet
from quizzes.validation import validate_quiz_set

FORMATS = ("yaml", "xlsx", "gift", "aiken")
MAX_QUIZ_FILE_BYTES = 5 * 1024 * 1024
MODES = {"practice": "practice", "练习": "practice", "certification": "certification", "认证": "certification"}


@dataclass(frozen=True)
class LoadedQuiz:
    quiz: QuizSet | None
    result: ImportResult

    @property
    def ok(self) -> bool:
        return self.quiz is not None and not self.result.errors


def guess_format(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith((".yaml", ".yml")):
        return "yaml"
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".gift") or name.endswith(".gift.txt"):
        return "gift"
    if name.endswith(".aiken") or name.endswith(".aiken.txt"):
        return "aiken"
    return None


def read_questions(data: bytes, *, fmt: str, filename: str) -> tuple[dict[str, Any] | None, ImportResult]:
    """The questions of a file (and, for YAML/Excel, the set's details as a mapping)."""
    if fmt == "gift":
        from quizzes.formats.gift import read_gift

        return None, read_gift(data, filename=filename)
    if fmt == "aiken":
        from quizzes.formats.aiken import read_aiken

        return None, read_aiken(data, filename=filename)
    if fmt == "xlsx":
        from quizzes.formats.excel import read_xlsx

        return read_xlsx(data, filename=filename)
    if fmt == "yaml":
        document, problems = parse_yaml_document(data, filename=filename)
        if document is None:
            return None, ImportResult(errors=problems)
        return document, read_yaml_questions(document, filename=filename)
    raise ValueError(f"unknown format {fmt}")


def load_quiz_file(path: Path, *, fmt: str | None = None, data: bytes | None = None) -> LoadedQuiz:
    """Read and validate a quiz file; `data` lets a chat upload be read without touching disk."""
    fmt = fmt or guess_format(path)
    filename = path.name
    if fmt not in FORMATS:
        problem = ImportProblem(filename, "不认识的文件格式;支持 .yaml .xlsx GIFT 和 Aiken(用 --format 指定)")
        return LoadedQuiz(None, ImportResult(errors=[problem]))
    if data is None:
        try:
            data = path.read_bytes()
        except OSError:
            return LoadedQuiz(None, ImportResult(errors=[ImportProblem(filename, "文件无法读取")]))
    if len(data) > MAX_QUIZ_FILE_BYTES:
        return LoadedQuiz(None, ImportResult(errors=[ImportProblem(filename, "文件太大(超过 5 MB)")]))
    details, result = read_questions(data, fmt=fmt, filename=filename)
    if details is None:
        return LoadedQuiz(None, result)
    bank = resolve_questions_from(details, base_dir=path.parent) if fmt == "yaml" else None
    if bank is not None:
        bank_format = guess_format(bank)
        if not bank.is_file() or bank_format is None:
            result.errors.append(
                ImportProblem(filename, f"questions_from 指向的题库文件不存在或格式不认识:{bank.name}")
            )
        else:
            _, bank_result = read_questions(bank.read_bytes(), fmt=bank_format, filename=bank.name)
            result.questions += bank_result.questions
            result.skipped += bank_result.skipped
            result.errors += bank_result.errors
    quiz, locations, stand_in = _build_set(details, result, filename)
    problems = validate_quiz_set(quiz or stand_in, locations=locations, source=filename)
    if quiz is None:  # every problem at once: the questions are checked even when set fields are broken
        problems = [p for p in problems if p.question]
    result.errors += problems
    return LoadedQuiz(quiz, result)


def _build_set(
    details: dict[str, Any], result: ImportResult, filename: str
) -> tuple[QuizSet | None, dict[str, str], QuizSet]:
    """The set (None when a field it needs is unusable, each reported), where each field and question is written,
    and a stand-in set with safe values in the unusable fields, so the questions can still be checked."""
    result.questions = [
        q if q.name else replace(q, name=f"q{number}") for number, q in enumerate(result.questions, start=1)
    ]
    line = details.get(LINE_KEY)
    locations = {q.name: q.location for q in result.questions}
    for q in result.questions:
        locations.update({f"{q.name}.options[{i}]": where for i, where in enumerate(q.option_locations)})
    field_lines = details.get("__field_locations__", {})
    for name in SET_FIELDS:
        locations[name] = field_lines.get(name, f"{filename}:{line}" if line else filename)
    unknown = sorted(k for k in details if k not in SET_FIELDS and not str(k).startswith("__"))
    for key in unknown:
        result.errors.append(
            ImportProblem(
                field_lines.get(key, locations["title"]),
                f"不认识的字段「{key}」;测验可用的字段:{'、'.join(sorted(SET_FIELDS))}(注意拼写和缩进)",
            )
        )

    def number(name: str, default: int | None = None) -> int | None:
        value = details.get(name, default)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            result.errors.append(ImportProblem(locations[name], f"{name} 必须是整数,不能是「{value}」"))
            return default

    cuts_raw = details.get("cut_scores")
    if isinstance(cuts_raw, str):
        cuts_raw = [c for c in cuts_raw.replace("/", " ").replace(",", " ").split() if c]
    try:
        cuts = tuple(int(c) for c in cuts_raw) if cuts_raw else ()
    except (TypeError, ValueError):
        result.errors.append(ImportProblem(locations["cut_scores"], "分数线必须是 3 个整数,例如 [5, 7, 8]"))
        cuts = ()
    if len(cuts) != 3:
        result.errors.append(ImportProblem(locations["cut_scores"], "分数线必须是 3 个数:等级1/等级2/等级3"))
    instrument = instrument_code(str(details.get("instrument") or ""))
    if instrument is None:
        result.errors.append(
            ImportProblem(locations["instrument"], "测验类型必须是 情境模拟测验(situational) 或 知识测验(knowledge)")
        )
    mode = MODES.get(str(details.get("mode") or "practice").strip())
    if mode is None:
        result.errors.append(ImportProblem(locations["mode"], "模式必须是 练习(practice) 或 认证(certification)"))
    draw = number("draw", len(result.questions))
    per_sub = details.get("draw_per_sub_competency") or {}
    if not isinstance(per_sub, dict):
        result.errors.append(
            ImportProblem(locations["draw_per_sub_competency"], "draw_per_sub_competency 应写成 子能力: 题数")
        )
        per_sub = {}
    subs = details.get("sub_competencies") or []
    if isinstance(subs, str):
        subs = [s for s in subs.replace(",", "、").replace(",", "、").split("、") if s.strip()]
    usable = len(cuts) == 3 and instrument is not None and mode is not None and draw is not None
    quiz = QuizSet(
        title=str(details.get("title") or "").strip(),
        competency=str(details.get("competency") or "").strip(),
        instrument=instrument or "situational",
        level=str(details.get("level") or "").strip(),
        mode=(mode or "practice"),  # type: ignore[arg-type]
        draw=draw if draw is not None else len(result.questions),
        cut_scores=(cuts[0], cuts[1], cuts[2]) if len(cuts) == 3 else (1, 2, 3),
        questions=tuple(_question(q) for q in result.questions),
        sub_competencies=tuple(str(s).strip() for s in subs),
        draw_per_sub_competency={str(k): int(v) for k, v in per_sub.items() if k != LINE_KEY},
        time_limit_minutes=number("time_limit_minutes"),
        description=str(details.get("description") or "").strip(),
    )
    return (quiz if usable else None), locations, quiz


def _question(q: ImportedQuestion) -> Question:
    feedback = q.option_feedback or (None,) * len(q.options)
    return Question(
        key=q.name,
        kind=q.kind,
        stem=q.text,
        options=tuple(
            Option(text, i in q.correct, fb) for i, (text, fb) in enumerate(zip(q.options, feedback, strict=False))
        ),
        explanation=q.explanation,
        sub_competency=q.sub_competency,
        reference=q.reference,
    )
