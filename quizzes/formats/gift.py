"""Moodle GIFT importer: the chat-quiz subset (single/multiple choice, true/false) of a GIFT file.

It follows Moodle's own parser (question/format/gift/format.php, Moodle 4.5) step by step, so a bank
imports here exactly as it would into Moodle: questions are chunks separated by blank lines, `//`
lines are comments, `{…}` holds the answers, `####` starts the general feedback. Question types a chat
quiz cannot ask (essay, matching, short answer, numerical, description) are listed in `skipped`.
Texts are returned as plain text: `[html]` texts lose their tags and entities.

Everything is linear in the input: no regex here can backtrack over more than one line or tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from quizzes.imported import ImportedQuestion, ImportProblem, ImportResult, Skipped

MAX_BYTES = 5 * 1024 * 1024
MAX_ERRORS = 500  # after this many errors the rest of the file is not examined
MAX_QUESTIONS = 10_000  # questions + skipped per file; a bigger bank should be split
MAX_CHUNK_LINES = 1_000  # no real question is that long without a blank line
MAX_CHOICES = 200  # a chat quiz shows a handful of options; this only stops absurd inputs early
PHP_WS = " \t\n\r\0\x0b"  # what PHP's trim() removes; Moodle trims with it
FORMATS = ("moodle", "html", "plain", "markdown")
TRUE_FALSE = ("T", "TRUE", "F", "FALSE")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ESCAPE = re.compile(r"\\([\\:#={}~n])")
_PLACEHOLDER = {c: chr(0xE000 + i) for i, c in enumerate(":#={}~n")}
_RESTORE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _PLACEHOLDER.items()})
_WEIGHT = re.compile(r"%-*[0-9]{1,2}\.?[0-9]*%")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[A-Za-z/!][^<>]*>")

SKIP_REASONS = {
    "essay": "论述题(essay)无法在聊天测验中作答,已跳过",
    "match": "匹配题(matching)无法在聊天测验中作答,已跳过",
    "shortanswer": "简答题(short answer)无法在聊天测验中作答,已跳过",
    "numerical": "数值题(numerical)无法在聊天测验中作答,已跳过",
    "description": "说明文字(description)不是题目,已跳过",
}


def decode_text(data: bytes, filename: str, kind: str) -> tuple[str | None, ImportProblem | None]:
    """UTF-8 (with or without BOM) text, or a located problem: Moodle rejects non-UTF-8 files too."""
    if len(data) > MAX_BYTES:
        return None, ImportProblem(filename, f"文件太大(超过 {MAX_BYTES // (1024 * 1024)} MB),请拆分后再导入")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, ImportProblem(
            f"{filename}:{line}",
            f"第 {line} 行:文件不是 UTF-8 编码(可能是 Windows-1252 或 GBK),Moodle 也会拒绝这种 {kind} 文件。"
            "请用记事本或 WPS 把文件另存为「UTF-8」编码后重新导入。",
        )


def iter_lines(text: str) -> Iterator[tuple[int, str]]:
    """(1-based number, line) for a text with any line ending (CRLF, LF or old Mac CR), lazily."""
    start, number = 0, 1
    for match in _LINE_BREAK.finditer(text):
        yield number, text[start : match.start()]
        start, number = match.end(), number + 1
    yield number, text[start:]


def too_many(result: ImportResult, filename: str, line: int) -> ImportProblem | None:
    """A closing error once a file has too many errors or questions to go on reading it."""
    if len(result.errors) >= MAX_ERRORS:
        message = f"错误已超过 {MAX_ERRORS} 处,第 {line} 行起的内容没有再检查。请先修正上面的错误。"
    elif len(result.questions) + len(result.skipped) >= MAX_QUESTIONS:
        message = f"题目超过 {MAX_QUESTIONS} 道,第 {line} 行起的内容没有导入。请把文件拆分成几个较小的文件。"
    else:
        return None
    return ImportProblem(f"{filename}:{line}", f"第 {line} 行:{message}")


def to_plain(text: str, fmt: str) -> str:
    """Plain text for the chat: HTML tags dropped (<br> becomes a line break) and entities decoded."""
    if fmt != "html":
        return text
    text = _TAG.sub("", _BR.sub("\n", text))
    return html.unescape(text).replace("\xa0", " ").strip()


@dataclass
class _Chunk:
    """One question's worth of lines (blank-line separated), with their 1-based line numbers."""

    lines: list[tuple[int, str]]
    last_line: int = 0  # set when the chunk is longer than MAX_CHUNK_LINES and its tail was not kept

    @property
    def first_line(self) -> int:
        """The line a trainer should look at: the first that is not a `//` comment."""
        return next((n for n, line in self.lines if not line.startswith("//")), self.lines[0][0])


def _chunks(lines: Iterator[tuple[int, str]]) -> Iterator[_Chunk]:
    """Group trimmed lines into chunks separated by blank lines, as Moodle's readquestions() does."""
    chunk = _Chunk([])
    for number, raw in lines:
        line = raw.strip(PHP_WS)
        if not line:
            if chunk.lines:
                yield chunk
                chunk = _Chunk([])
        elif len(chunk.lines) < MAX_CHUNK_LINES:
            chunk.lines.append((number, line))
        else:
            chunk.last_line = number
    if chunk.lines:
        yield chunk


def _escape(text: str) -> str:
    """Moodle's escapedchar_pre: `\\:` `\\#` `\\=` `\\{` `\\}` `\\~` `\\n` become placeholders, `\\\\` a backslash."""
    return _ESCAPE.sub(lambda m: "\\" if m[1] == "\\" else _PLACEHOLDER[m[1]], text)


def _with_format(text: str, default: str) -> tuple[str, str]:
    """Moodle's parse_text_with_format: an optional leading [html]/[moodle]/… then unescape and trim."""
    fmt = default
    if text.startswith("["):
        end = text.find("]")
        name = text[1:end] if end >= 0 else text[1:-1]
        if name in FORMATS:
            fmt, text = name, text[end + 1 :]
    return text.translate(_RESTORE).strip(PHP_WS), fmt


def _plain(text: str, default: str) -> tuple[str, str]:
    """A field's plain text and format."""
    value, fmt = _with_format(text, default)
    return to_plain(value, fmt), fmt


@dataclass
class _Question:
    """A chunk cut into Moodle's pieces: question text, answer block and general feedback."""

    location: str
    line: int
    name: str
    text: str
    fmt: str
    answers: str
    explanation: str
    qtype: str


class _Rejected(Exception):
    """A chunk Moodle refuses to import; the message is for the trainer."""


def _split_chunk(text: str, location: str, line: int) -> _Question:
    """Name, question text (missing-word blank inserted), answers and general feedback of one chunk."""
    name = ""
    if text.startswith("::"):
        text = text[2:]
        end = text.find("::")
        if end >= 0:
            name, text = text[:end].translate(_RESTORE).strip(PHP_WS), text[end + 2 :].strip(PHP_WS)
    start, finish = text.find("{"), text.find("}")
    if start < 0 and finish < 0:
        qtext, answers = text, None
    elif start < 0 or finish < start:
        raise _Rejected(
            f"第 {line} 行:找不到成对的 {{…}}(答案要写在花括号里),这道题没有导入。"
            "如果题目中间有空行,请删掉空行;题目里要显示花括号时请写成 \\{ 和 \\}。"
        )
    else:
        answers = text[start + 1 : finish].strip(PHP_WS)
        blank = "" if text.endswith("}") else "_____"
        qtext = text[:start] + blank + text[finish + 1 :]
    feedback = ""
    if answers is not None and (sep := answers.rfind("####")) >= 0:
        feedback, answers = answers[sep + 4 :], answers[:sep].strip(PHP_WS)
    qtext, fmt = _with_format(qtext, "moodle")
    explanation = _plain(feedback, fmt)[0]
    return _Question(location, line, name, qtext, fmt, answers or "", explanation, _question_type(answers))


def _question_type(answers: str | None) -> str:
    """Moodle's type detection, in Moodle's order."""
    if answers is None:
        return "description"
    if answers == "":
        return "essay"
    if answers.startswith("#"):
        return "numerical"
    if "~" in answers:
        return "multichoice"
    if "=" in answers and "->" in answers:
        return "match"
    check = answers[: answers.find("#")].strip(PHP_WS) if answers.find("#") > 0 else answers
    return "truefalse" if check in TRUE_FALSE else "shortanswer"


def _skip_reason(question: _Question) -> str:
    """Why a question is skipped, with a hint when a lower-case true/false made it a short answer."""
    reason = f"第 {question.line} 行:{SKIP_REASONS[question.qtype]}"
    if question.qtype == "shortanswer" and question.answers.split("#")[0].strip().upper() in TRUE_FALSE:
        reason += "(判断题的答案要写成大写的 T、TRUE、F 或 FALSE)"
    return reason


def _weight(answer: str, line: int) -> tuple[float, str]:
    """The fraction of one multichoice answer (`=`: 1, `%50%`: 0.5, otherwise 0) and its remaining text."""
    if answer.startswith("="):
        return 1.0, answer[1:]
    if _WEIGHT.match(answer):
        end = answer.index("%", 1)
        try:
            return float(answer[1:end]) / 100, answer[end + 1 :]
        except ValueError:
            raise _Rejected(f"第 {line} 行:选项权重「{answer[: end + 1]}」写法不对,应该像 %50% 或 %-100%") from None
    return 0.0, answer


def _multichoice(q: _Question) -> ImportedQuestion:
    """Single choice when some answer starts with `=`, multiple choice (weights like `~%50%`) otherwise."""
    single = "=" in q.answers
    if q.answers.count("~") + q.answers.count("=") > MAX_CHOICES:
        raise _Rejected(f"第 {q.line} 行:选项超过 {MAX_CHOICES} 个,请检查花括号里的 ~ 和 = 是否写错")
    parts = q.answers.replace("=", "~=").split("~")
    parts[0] = parts[0].strip(PHP_WS)
    if not parts[0]:
        parts.pop(0)
    options: list[tuple[str, float, str]] = []
    for part in parts:
        fraction, rest = _weight(part.strip(PHP_WS), q.line)
        text, _, comment = rest.partition("#")
        option, feedback_text = _plain(text.strip(PHP_WS), q.fmt)[0], _plain(comment.strip(PHP_WS), q.fmt)[0]
        if not option and not fraction and not feedback_text:
            continue  # Moodle drops completely blank choices when it saves the question
        if not option:
            raise _Rejected(f"第 {q.line} 行:有一个选项是空的(只有权重或反馈),请补上选项文字")
        options.append((option, fraction, feedback_text))
    if len(options) < 2:
        raise _Rejected(f"第 {q.line} 行:选择题至少需要两个选项,这道题没有导入")
    correct = tuple(i for i, (_, f, _) in enumerate(options) if (f == 1.0 if single else f > 0))
    if not correct:
        raise _Rejected(f"第 {q.line} 行:多选题没有任何得分为正的选项(例如 ~%50%),无法判断哪些是正确答案")
    feedback = tuple(fb or None for _, _, fb in options)
    return ImportedQuestion(
        kind="single_choice" if single else "multiple_choice",
        text=to_plain(q.text, q.fmt),
        options=tuple(text for text, _, _ in options),
        correct=correct,
        option_feedback=feedback if any(feedback) else None,
        explanation=q.explanation,
        location=q.location,
        name=q.name,
    )


def _truefalse(q: _Question) -> ImportedQuestion:
    """`{T#A#B}`: A is shown to whoever picks the wrong answer, B to whoever picks the right one."""
    bits = [*q.answers.split("#", 2), "", ""]
    answer = _with_format(bits[0].strip(PHP_WS), q.fmt)[0]
    wrong, right = (_plain(b.strip(PHP_WS), q.fmt)[0] or None for b in bits[1:3])
    is_true = answer in ("T", "TRUE")
    feedback = (right, wrong) if is_true else (wrong, right)
    return ImportedQuestion(
        kind="true_false",
        text=to_plain(q.text, q.fmt),
        options=("True", "False"),
        correct=(0,) if is_true else (1,),
        option_feedback=feedback if any(feedback) else None,
        explanation=q.explanation,
        location=q.location,
        name=q.name,
    )


def _swallowed_question(chunk: _Chunk, filename: str) -> ImportProblem | None:
    """A `$CATEGORY:` line followed by a question with no blank line between: Moodle loses that question."""
    lines = [(n, line) for n, line in chunk.lines if not line.startswith("//")]
    extra = next(((n, line) for n, line in lines[1:] if not line.startswith("$CATEGORY:")), None)
    if extra is None:
        return None
    number = extra[0]
    return ImportProblem(
        f"{filename}:{number}",
        f"第 {number} 行:$CATEGORY 行(第 {lines[0][0]} 行)后面缺少空行,第 {number}–{lines[-1][0]} 行"
        "会被 Moodle(和本工具)当作分类名的一部分,其中的题目没有导入。请在 $CATEGORY 行后加一个空行。",
    )


def _read_chunk(chunk: _Chunk, filename: str, result: ImportResult) -> None:
    """Moodle's readquestion() for one chunk: add a question, a skipped entry or an error to `result`."""
    if chunk.last_line:
        first = chunk.lines[0][0]
        message = f"从这一行到第 {chunk.last_line} 行,超过 {MAX_CHUNK_LINES} 行没有空行;题目之间要用空行隔开"
        result.errors.append(ImportProblem(f"{filename}:{first}", f"第 {first} 行:{message}"))
        return
    text = "\n".join(" " if line.startswith("//") else line for _, line in chunk.lines).strip(PHP_WS)
    if not text:
        return  # only comments
    text = _escape(text)
    if text.startswith("$CATEGORY:"):
        if problem := _swallowed_question(chunk, filename):
            result.errors.append(problem)
        return
    line = chunk.first_line
    location = f"{filename}:{line}"
    try:
        question = _split_chunk(text, location, line)
        if question.qtype == "multichoice":
            result.questions.append(_multichoice(question))
        elif question.qtype == "truefalse":
            result.questions.append(_truefalse(question))
        else:
            result.skipped.append(Skipped(location, _skip_reason(question)))
    except _Rejected as rejected:
        result.errors.append(ImportProblem(location, str(rejected)))


def read_gift(data: bytes, *, filename: str) -> ImportResult:
    """Import a GIFT file: supported questions, skipped question types and located errors."""
    result = ImportResult()
    text, problem = decode_text(data, filename, "GIFT")
    if text is None:
        result.errors.append(problem or ImportProblem(filename, "无法读取文件"))
        return result
    for chunk in _chunks(iter_lines(text)):
        if stop := too_many(result, filename, chunk.first_line):
            result.errors.append(stop)
            break
        _read_chunk(chunk, filename, result)
    if not (result.questions or result.skipped or result.errors):
        result.errors.append(ImportProblem(f"{filename}:1", "文件里没有找到任何 GIFT 题目"))
    return result
