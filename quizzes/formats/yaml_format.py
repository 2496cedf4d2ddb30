"""Our canonical quiz format, YAML. See content/quizzes/README.md for a full example.

Every mapping remembers its line, so each problem says "文件:行 字段". A set may take its questions
from a GIFT, Aiken or Excel file with `questions_from: bank.gift` (path relative to the YAML file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from quizzes.imported import ImportedQuestion, ImportProblem, ImportResult

LINE_KEY = "__line__"
SET_FIELDS = {
    "title",
    "competency",
    "sub_competencies",
    "instrument",
    "level",
    "mode",
    "draw",
    "draw_per_sub_competency",
    "cut_scores",
    "time_limit_minutes",
    "description",
    "questions",
    "questions_from",
}
QUESTION_FIELDS = {"id", "kind", "stem", "options", "explanation", "sub_competency", "reference"}
OPTION_FIELDS = {"text", "correct", "feedback"}


class _LineLoader(yaml.SafeLoader):
    """A safe loader that stores each mapping's 1-based line under `__line__`."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping


def parse_yaml_document(data: bytes, *, filename: str) -> tuple[dict[str, Any] | None, list[ImportProblem]]:
    """The top-level mapping of a quiz YAML file, or the syntax problem with its line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [ImportProblem(filename, "文件不是 UTF-8 编码,请用 UTF-8 保存")]
    try:
        document = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}" if mark else filename
        return None, [ImportProblem(where, f"YAML 格式错误:{getattr(exc, 'problem', '') or exc}")]
    if not isinstance(document, dict):
        return None, [ImportProblem(filename, "文件内容应该是一个测验(title、questions 等字段)")]
    return document, []


def read_yaml_questions(document: dict[str, Any], *, filename: str) -> ImportResult:
    """The questions written inline in a quiz YAML document."""
    result = ImportResult()
    raw = document.get("questions") or []
    if not isinstance(raw, list):
        result.errors.append(ImportProblem(f"{filename}:{document.get(LINE_KEY, 1)}", "questions 必须是题目列表"))
        return result
    for number, item in enumerate(raw, start=1):
        where = f"{filename}:{item.get(LINE_KEY, '?')}" if isinstance(item, dict) else f"{filename} 第 {number} 题"
        question = _question(item, number, where, result.errors)
        if question is not None:
            result.questions.append(question)
    return result


def _question(item: object, number: int, where: str, errors: list[ImportProblem]) -> ImportedQuestion | None:
    if not isinstance(item, dict):
        errors.append(ImportProblem(where, f"第 {number} 题应该是一组字段(stem、options…)"))
        return None
    unknown = sorted(set(item) - QUESTION_FIELDS - {LINE_KEY})
    if unknown:
        errors.append(ImportProblem(where, f"第 {number} 题有不认识的字段:{', '.join(map(str, unknown))}"))
    options_raw = item.get("options")
    if not isinstance(options_raw, list):
        errors.append(ImportProblem(where, f"第 {number} 题缺少选项列表 options"))
        return None
    options: list[str] = []
    correct: list[int] = []
    feedback: list[str | None] = []
    for index, option in enumerate(options_raw):
        if isinstance(option, dict):
            extra = sorted(set(option) - OPTION_FIELDS - {LINE_KEY})
            if extra:
                errors.append(
                    ImportProblem(
                        f"{where.rsplit(':', 1)[0]}:{option.get(LINE_KEY, '?')}",
                        f"第 {number} 题的选项有不认识的字段:{', '.join(map(str, extra))}",
                    )
                )
            options.append(str(option.get("text", "")).strip())
            feedback.append(str(option["feedback"]).strip() if option.get("feedback") else None)
            if option.get("correct") is True:
                correct.append(index)
        else:
            options.append(str(option).strip())
            feedback.append(None)
    correct_count = len(correct)
    kind = str(item.get("kind") or ("multiple_choice" if correct_count > 1 else "single_choice"))
    if kind not in ("single_choice", "multiple_choice", "true_false"):
        errors.append(
            ImportProblem(where, f"第 {number} 题的题型「{kind}」不支持(single_choice/multiple_choice/true_false)")
        )
        return None
    return ImportedQuestion(
        kind=kind,  # type: ignore[arg-type]
        text=str(item.get("stem", "")).strip(),
        options=tuple(options),
        correct=tuple(correct),
        option_feedback=tuple(feedback) if any(feedback) else None,
        explanation=str(item.get("explanation") or "").strip(),
        location=where,
        name=str(item.get("id") or f"q{number}"),
        sub_competency=str(item.get("sub_competency") or "").strip(),
        reference=str(item.get("reference") or "").strip(),
    )


def resolve_questions_from(document: dict[str, Any], *, base_dir: Path) -> Path | None:
    value = document.get("questions_from")
    return None if not value else (base_dir / str(value)).resolve()
