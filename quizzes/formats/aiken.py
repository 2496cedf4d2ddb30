"""Moodle Aiken importer: single-choice questions, one line of question text, lettered options.

    The Moodle project was started by:
    A) Petr Skoda
    B) Martin Dougiamas
    ANSWER: B

It follows Moodle's parser (question/format/aiken/format.php, Moodle 4.5): a line starting with a capital
letter and `)` or `.` is an option, a line starting with `ANSWER:` closes the question, any other line
starts a new question; lines shorter than two bytes are ignored. Texts are kept literally (Moodle only
HTML-escapes them for display). Unlike Moodle, a question still open at the end of the file is reported
instead of being dropped silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from quizzes.formats.gift import PHP_WS, decode_text, iter_lines, too_many
from quizzes.imported import ImportedQuestion, ImportProblem, ImportResult

_OPTION = re.compile(r"[A-Z][).]")
_ANSWER = "ANSWER:"
_LOOSE_ANSWER = re.compile(r"answer\s*[:：]", re.IGNORECASE)  # "Answer: B", "ANSWER：B"


@dataclass
class _Open:
    """The question being read: its text, where it starts, and the options seen so far."""

    text: str
    line: int
    options: list[str] = field(default_factory=list)
    broken: bool = False  # an error was already reported for it


def _short(text: str) -> str:
    """The start of a long text, to name a question in a message."""
    return text if len(text) <= 30 else text[:30] + "…"


class _AikenReader:
    """Moodle's readquestions() loop, one line at a time, collecting questions and located errors."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.result = ImportResult()
        self.open: _Open | None = None

    def error(self, line: int, message: str) -> None:
        """Record a problem at `line` (1-based) of the file."""
        self.result.errors.append(ImportProblem(f"{self.filename}:{line}", f"第 {line} 行:{message}"))

    def read_line(self, number: int, raw: str) -> None:
        """Handle one line: option, ANSWER line, or the first line of a new question."""
        line = raw.strip(PHP_WS)
        if len(line.encode("utf-8")) < 2:
            return
        if _OPTION.match(line):
            self.option(number, line)
        elif line.startswith(_ANSWER):
            self.answer(number, line)
        else:
            self.start(number, line)

    def option(self, number: int, line: str) -> None:
        """`A) text` or `A. text`: one more option of the open question."""
        if self.open is None:
            self.error(number, f"选项「{_short(line)}」前面没有题目(题干要写在选项之前的一行),已忽略")
            return
        text = line[2:].strip(PHP_WS)
        if not text:
            self.error(number, f"选项「{line}」后面没有文字,题目「{_short(self.open.text)}」没有导入")
            self.open.broken = True
        self.open.options.append(text)

    def answer(self, number: int, line: str) -> None:
        """`ANSWER: B`: close the open question with its correct option."""
        question, self.open = self.open, None
        if question is None:
            self.error(number, "ANSWER 行前面没有题目和选项,已忽略")
            return
        if question.broken:
            return
        if len(question.options) < 2:
            self.error(
                question.line,
                f"题目「{_short(question.text)}」只有 {len(question.options)} 个选项(第 {number} 行是 ANSWER),"
                "至少需要两个,这道题没有导入",
            )
            return
        letter = line[len(_ANSWER) :].strip(PHP_WS)[:1]
        index = ord(letter) - ord("A") if letter else -1
        if not 0 <= index < len(question.options):
            last = chr(ord("A") + len(question.options) - 1)
            self.error(
                number,
                f"ANSWER 后的「{letter}」不是 A–{last} 中的一个选项字母(要用大写字母),"
                f"题目「{_short(question.text)}」没有导入",
            )
            return
        self.result.questions.append(
            ImportedQuestion(
                kind="single_choice",
                text=question.text,
                options=tuple(question.options),
                correct=(index,),
                location=f"{self.filename}:{question.line}",
            )
        )

    def start(self, number: int, line: str) -> None:
        """Any other line starts a new question; an unfinished one before it is reported and dropped."""
        if _LOOSE_ANSWER.match(line):
            self.open = None
            self.error(number, f"「{_short(line)}」要写成大写的「ANSWER:」加英文冒号,否则 Moodle 不认,这道题没有导入")
            return
        if self.open is not None:
            self.unfinished(f"在第 {number} 行下一题开始之前")
        self.open = _Open(line, number)

    def unfinished(self, where: str) -> None:
        """Report the open question as having no ANSWER line."""
        if self.open is not None and not self.open.broken:
            self.error(
                self.open.line,
                f"题目「{_short(self.open.text)}」{where}没有 ANSWER 行,这道题没有导入。"
                "每道题要以「ANSWER: 正确选项字母」结束;题干只能占一行。",
            )


def read_aiken(data: bytes, *, filename: str) -> ImportResult:
    """Import an Aiken file: single-choice questions and located errors (Aiken has no other types)."""
    reader = _AikenReader(filename)
    text, problem = decode_text(data, filename, "Aiken")
    if text is None:
        reader.result.errors.append(problem or ImportProblem(filename, "无法读取文件"))
        return reader.result
    for number, line in iter_lines(text):
        if stop := too_many(reader.result, filename, number):
            reader.result.errors.append(stop)
            reader.open = None
            break
        reader.read_line(number, line)
    reader.unfinished("到文件结尾都")
    if not (reader.result.questions or reader.result.errors):
        reader.result.errors.append(ImportProblem(f"{filename}:1", "文件里没有找到任何 Aiken 题目"))
    return reader.result
