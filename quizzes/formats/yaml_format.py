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


def _construct_mapping_with_line(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    mapping = yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)
    mapping[LINE_KEY] = node.start_mark.line + 1
    return mapping


class _LineLoader(yaml.SafeLoader):
    """A safe loader that stores each mapping's 1-based line under `__line__`."""

    construct_mapping = _construct_mapping_with_line  # type: ignore[assignment]


# The same loader over libyaml's parser when PyYAML has it (~10× faster: `make run` publishes every bundled quiz);
# a file it refuses is read again by the pure-Python one, whose problems `_SYNTAX_PROBLEMS` knows.
_FastLineLoader: type[Any] | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _FastLineLoader(yaml.CSafeLoader):  # type: ignore[no-redef]
        construct_mapping = _construct_mapping_with_line


FIELD_LOCATIONS_KEY = "__field_locations__"  # the top-level mapping's key → "file:line key"

# PyYAML's problems, as a trainer would fix them (the English text is kept out of the message).
_SYNTAX_PROBLEMS = (
    ("found character '\\t'", "这一行用了 Tab 缩进;YAML 只能用空格缩进,请把 Tab 换成空格"),
    ("expected <block end>", "缩进没有对齐:这一行和上面同一级的行缩进不同(同一级的字段、「- 」开头的选项要左边对齐)"),
    ("mapping values are not allowed", "这里多了一个冒号「:」:值里有冒号时,请给整个值加上引号,如 stem: \"价格:多少\""),
    ("could not find expected ':'", "缺少冒号:每个字段写成「字段: 值」,冒号后面要有空格"),
    ("found unexpected end of stream", "引号没有闭合:找到开头的引号,在值的末尾补上同样的引号"),
    ("found unknown escape character", "双引号里的反斜杠「\\」不对:改用单引号,或写成「\\\\」"),
    ("expected ',' or ']'", "方括号列表没有写完:[5, 7, 8] 这样的列表要用逗号分开并以「]」结束"),
    ("expected ',' or '}'", "花括号没有写完:{…} 里的项要用逗号分开并以「}」结束"),
    ("found duplicate anchor", "同名的锚点「&」出现了两次,请改名"),
    ("found undefined alias", "引用「*」了一个没有定义的锚点"),
)


def _syntax_problem(exc: yaml.YAMLError) -> str:
    problem = str(getattr(exc, "problem", "") or exc)
    for english, chinese in _SYNTAX_PROBLEMS:
        if english in problem:
            return f"YAML 格式错误:{chinese}"
    return "YAML 格式错误:这一行附近的写法不对;检查缩进(只用空格)、冒号后的空格和引号是否成对"


def _load_with_key_lines(text: str, loader_class: type[Any]) -> tuple[Any, dict[str, int]]:
    """The document (as `yaml.load` gives it) and the line of each key of its top-level mapping (a set's fields),
    from one parse: the node tree is composed once and constructed from."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        document = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    if not isinstance(node, yaml.MappingNode):
        return document, {}
    lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)}
    return document, lines


def parse_yaml_document(data: bytes, *, filename: str) -> tuple[dict[str, Any] | None, list[ImportProblem]]:
    """The top-level mapping of a quiz YAML file, or the syntax problem with its line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [ImportProblem(filename, "文件不是 UTF-8 编码,请用 UTF-8 保存")]
    try:
        document, lines = _load_with_key_lines(text, _FastLineLoader or _LineLoader)
    except yaml.YAMLError:
        try:
            document, lines = _load_with_key_lines(text, _LineLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{filename}:{mark.line + 1}" if mark else filename
            return None, [ImportProblem(where, _syntax_problem(exc))]
    if not isinstance(document, dict):
        return None, [ImportProblem(filename, "文件内容应该是一个测验(title、questions 等字段)")]
    document[FIELD_LOCATIONS_KEY] = {key: f"{filename}:{line} {key}" for key, line in lines.items()}
    return document, []


def read_yaml_questions(document: dict[str, Any], *, filename: str) -> ImportResult:
    """The questions written inline in a quiz YAML document."""
    result = ImportResult()
    raw = document.get("questions") or []
    if not isinstance(raw, list):
        where = document.get(FIELD_LOCATIONS_KEY, {}).get("questions", f"{filename}:{document.get(LINE_KEY, 1)}")
        result.errors.append(ImportProblem(where, "questions 必须是题目列表(每题以「- 」开头)"))
        return result
    for number, item in enumerate(raw, start=1):
        where = f"{filename}:{item.get(LINE_KEY, '?')}" if isinstance(item, dict) else f"{filename} 第 {number} 题"
        question = _question(item, number, where, result.errors)
        if question is not None:
            result.questions.append(question)
    return result


def _question(item: object, number: int, where: str, errors: list[ImportProblem]) -> ImportedQuestion | None:
    if not isinstance(item, dict):
        errors.append(ImportProblem(where, f"第 {number} 题应该是一组字段(stem、options…)", question=f"q{number}"))
        return None
    key = str(item.get("id") or f"q{number}")
    unknown = sorted(set(item) - QUESTION_FIELDS - {LINE_KEY})
    if unknown:
        known = "、".join(sorted(QUESTION_FIELDS))
        errors.append(
            ImportProblem(
                where, f"第 {number} 题有不认识的字段:{', '.join(map(str, unknown))};可用的字段:{known}", question=key
            )
        )
    options_raw = item.get("options")
    if not isinstance(options_raw, list):
        errors.append(
            ImportProblem(where, f"第 {number} 题缺少选项列表 options(每个选项一行,以「- 」开头)", question=key)
        )
        return None
    file = where.rsplit(":", 1)[0]
    option_locations = tuple(
        f"{file}:{o[LINE_KEY]}" if isinstance(o, dict) and LINE_KEY in o else where for o in options_raw
    )
    options: list[str] = []
    correct: list[int] = []
    feedback: list[str | None] = []
    for index, option in enumerate(options_raw):
        if isinstance(option, dict):
            extra = sorted(set(option) - OPTION_FIELDS - {LINE_KEY})
            if extra:
                errors.append(
                    ImportProblem(
                        option_locations[index],
                        f"第 {number} 题的选项有不认识的字段:{', '.join(map(str, extra))};"
                        "可用的字段:text、correct、feedback",
                        question=key,
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
            ImportProblem(
                where, f"第 {number} 题的题型(kind)「{kind}」不支持;请写 single_choice、multiple_choice 或 true_false",
                question=key,
            )
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
        name=key,
        option_locations=option_locations,
        sub_competency=str(item.get("sub_competency") or "").strip(),
        reference=str(item.get("reference") or "").strip(),
    )


def resolve_questions_from(document: dict[str, Any], *, base_dir: Path) -> Path | None:
    value = document.get("questions_from")
    return None if not value else (base_dir / str(value)).resolve()
