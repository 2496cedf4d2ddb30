"""Exports of the certification record: CSV and Excel for people, xAPI 1.0.3 statements for an LRS.

Spreadsheets
- CSV is UTF-8 with a BOM and CRLF line ends, so Excel opens the Chinese headers and names correctly.
- 记录时间 is shown in Beijing time (UTC+8, no daylight saving); the record itself stores naive UTC.
- 等级 is the number 0–3 (0 = 未达等级1), so a spreadsheet can sort and average it.
- 录入人 is the assessor's employee number, or 系统 when a quiz wrote the entry.
- Text that a spreadsheet would run as a formula (starting with = + - @) is defused: CSV cells get a
  leading apostrophe, Excel cells are stored as plain strings.

xAPI (one statement per answer, one per record entry, one voiding statement per correction)
- answer: verb `answered`, result success and score raw 1/0, min 0, max 1, scaled 1/0; the object is the
  question as an Activity under its quiz version.
- record entry: verb `passed` when 等级 ≥ 1, else `failed`; score raw/min 0/max/scaled. Assessor-rated
  entries (max_score None, scored 1–3) keep passed/failed with max 3 rather than a "rated" verb: in
  the common vocabularies "rated" means the actor gave a rating, so the learner would read as the rater,
  and an assessor-as-actor statement would fall out of every per-learner LRS query. The assessor is
  named as `context.instructor` instead.
- a correction (an entry with `supersedes`) carries `context.statement` pointing to the statement it
  corrects, and a separate `voided` statement voids that statement, so an LRS counts only the correction.
- the actor is an account `{homePage, name: employee_no}`; context extensions under
  `{homepage}/xapi/extensions/` carry competency, instrument, instrument-name, level and cycle.
- every statement id is a UUID5 of an IRI naming the entry or answer, so a re-export gives the same ids.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import ValidationError

from certification.model import AnsweredQuestion, RecordEntry
from quizzes.competency import CHAT_INSTRUMENTS, INSTRUMENTS, VALUE_CREATION

BEIJING = timezone(timedelta(hours=8), "北京时间")
QUIZ_WROTE_IT = "系统"
ASSESSOR_MAX_RATING = 3

ENTRY_COLUMNS = (
    "工号",
    "姓名",
    "能力",
    "测验/评估工具",
    "得分",
    "满分",
    "等级",
    "周期",
    "记录时间(北京时间)",
    "录入人",
    "更正原因",
    "更正的记录号",
    "记录号",
    "测验名称",
    "测验版本",
)
JOB_COMPETENCIES = ("产品理解力", "客户洞察力", "销售推动力", "资源整合力")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------- spreadsheets


def instrument_name(code: str) -> str:
    """'situational' → '情境模拟测验' (an unknown code is shown as it is)."""
    return INSTRUMENTS.get(code, code)


def _to_beijing(moment: datetime) -> datetime:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(BEIJING).replace(tzinfo=None)


def _entry_values(entry: RecordEntry) -> list[Any]:
    return [
        entry.employee_no,
        entry.learner_name,
        entry.competency,
        instrument_name(entry.instrument),
        entry.raw_score,
        entry.max_score,
        entry.level,
        entry.cycle,
        _to_beijing(entry.recorded_at),
        entry.entered_by or QUIZ_WROTE_IT,
        entry.reason,
        entry.supersedes,
        entry.entry_id,
        entry.quiz_title,
        entry.quiz_version,
    ]


def _csv_cell(value: Any) -> str | int:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def entries_to_csv(entries: Sequence[RecordEntry]) -> bytes:
    """The entries as CSV bytes (UTF-8 with BOM, Chinese headers), one row per entry in the given order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ENTRY_COLUMNS)
    for entry in entries:
        writer.writerow([_csv_cell(value) for value in _entry_values(entry)])
    return buffer.getvalue().encode("utf-8-sig")


def _display_width(value: Any) -> int:
    if isinstance(value, datetime):
        return 16
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _write_sheet(sheet: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Bold frozen header row, plain-string text cells, dates formatted, widths fitted to the content."""
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    widths = [_display_width(h) for h in headers]
    for row in rows:
        sheet.append([None if value == "" else value for value in row])
        for column, cell in enumerate(sheet[sheet.max_row]):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            widths[column] = max(widths[column], _display_width(cell.value))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions


def _workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def entries_to_xlsx(entries: Sequence[RecordEntry]) -> bytes:
    """The entries as an Excel workbook (sheet 认证记录), same columns as the CSV."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "认证记录"
    _write_sheet(sheet, ENTRY_COLUMNS, (_entry_values(entry) for entry in entries))
    return _workbook_bytes(workbook)


@dataclass(frozen=True)
class TeamRow:
    """One team member in a supervisor's overview; `levels` maps a competency to text like '等级2/43%'."""

    employee_no: str
    name: str
    job_level: str
    levels: Mapping[str, str] = field(default_factory=dict)
    eligible: bool = False
    next_step: str = ""
    reasons: str = ""
    started: bool = False


NOT_TAKEN = "未测"
_ELIGIBLE_FILL = PatternFill("solid", fgColor="D8F0D2")


def team_overview_columns(rows: Sequence[TeamRow]) -> tuple[str, ...]:
    """Fixed columns around the four job competencies, then any other competency the rows carry (价值创造力)."""
    extra: list[str] = []
    for row in rows:
        for competency in row.levels:
            if competency not in JOB_COMPETENCIES and competency not in extra:
                extra.append(competency)
    extra.sort(key=lambda c: (c != VALUE_CREATION, c))
    return ("工号", "姓名", "职级", *JOB_COMPETENCIES, *extra, "符合晋级条件", "下一步", "原因", "已开始认证")


def team_overview_xlsx(rows: Sequence[TeamRow]) -> bytes:
    """A supervisor's team overview as an Excel workbook (sheet 团队概览); eligible members are highlighted."""
    headers = team_overview_columns(rows)
    competencies = headers[3:-4]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "团队概览"
    _write_sheet(
        sheet,
        headers,
        (
            [
                row.employee_no,
                row.name,
                row.job_level,
                *(row.levels.get(c, NOT_TAKEN) for c in competencies),
                "是" if row.eligible else "否",
                row.next_step,
                row.reasons,
                "是" if row.started else "否",
            ]
            for row in rows
        ),
    )
    eligible_column = headers.index("符合晋级条件") + 1
    for row_number, row in enumerate(rows, start=2):
        if row.eligible:
            sheet.cell(row_number, eligible_column).fill = _ELIGIBLE_FILL
    return _workbook_bytes(workbook)


# ---------------------------------------------------------------- xAPI

XAPI_VERSION = "1.0.3"
PLATFORM = "PocketCoach"
LANGUAGE = "zh-CN"
VERB_ANSWERED = {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered", "zh-CN": "作答"}}
VERB_PASSED = {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed", "zh-CN": "通过"}}
VERB_FAILED = {"id": "http://adlnet.gov/expapi/verbs/failed", "display": {"en-US": "failed", "zh-CN": "未通过"}}
VERB_VOIDED = {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided", "zh-CN": "作废"}}
ACTIVITY_ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
ACTIVITY_QUESTION = "http://adlnet.gov/expapi/activities/question"
ACTIVITY_OBJECTIVE = "http://adlnet.gov/expapi/activities/objective"
COMPETENCY_SLUGS = {
    "产品理解力": "product-understanding",
    "客户洞察力": "customer-insight",
    "销售推动力": "sales-drive",
    "资源整合力": "resource-integration",
    VALUE_CREATION: "value-creation",
}


class XapiStatementError(ValueError):
    """A statement that an LRS would refuse; the message names the statement and the fields at fault."""


def _segment(text: str) -> str:
    return quote(text, safe="")


def _utc_timestamp(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class _Iris:
    """Every IRI and deterministic id of one export, under one homepage."""

    home: str

    def extension(self, name: str) -> str:
        return f"{self.home}/xapi/extensions/{name}"

    def statement_id(self, path: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.home}/xapi/statements/{path}"))

    def entry_statement_id(self, entry_id: int) -> str:
        return self.statement_id(f"record/{entry_id}")

    def answer_statement_id(self, answer: AnsweredQuestion) -> str:
        return self.statement_id(f"attempt/{answer.attempt_id}/question/{_segment(answer.question_key)}")

    def registration(self, attempt_id: int) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.home}/attempts/{attempt_id}"))

    def quiz(self, title: str, version: int | None) -> str:
        base = f"{self.home}/xapi/activities/quiz/{_segment(title)}"
        return base if version is None else f"{base}/v{version}"

    def competency(self, competency: str) -> str:
        slug = COMPETENCY_SLUGS.get(competency) or _segment(competency)
        return f"{self.home}/xapi/activities/competency/{slug}"

    def instrument(self, competency: str, instrument: str) -> str:
        return f"{self.competency(competency)}/instrument/{_segment(instrument)}"


def _agent(iris: _Iris, account_name: str, name: str | None = None) -> dict[str, Any]:
    agent: dict[str, Any] = {"objectType": "Agent", "account": {"homePage": iris.home, "name": account_name}}
    if name:
        agent["name"] = name
    return agent


def _quiz_activity(iris: _Iris, title: str, version: int | None) -> dict[str, Any]:
    name = title if version is None else f"{title}(第{version}版)"
    return {
        "objectType": "Activity",
        "id": iris.quiz(title, version),
        "definition": {"name": {LANGUAGE: name}, "type": ACTIVITY_ASSESSMENT},
    }


def _competency_activity(iris: _Iris, competency: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": iris.competency(competency),
        "definition": {"name": {LANGUAGE: competency}, "type": ACTIVITY_OBJECTIVE},
    }


def _score(raw: int, maximum: int) -> dict[str, Any]:
    score: dict[str, Any] = {"raw": raw, "min": 0, "max": maximum}
    if maximum > 0:
        score["scaled"] = round(raw / maximum, 4)
    return score


def _entry_statement(iris: _Iris, entry: RecordEntry) -> dict[str, Any]:
    assessor_rated = entry.max_score is None
    maximum = ASSESSOR_MAX_RATING if entry.max_score is None else entry.max_score
    if entry.quiz_title:
        activity = _quiz_activity(iris, entry.quiz_title, entry.quiz_version)
    else:
        activity = {
            "objectType": "Activity",
            "id": iris.instrument(entry.competency, entry.instrument),
            "definition": {
                "name": {LANGUAGE: f"{entry.competency} · {instrument_name(entry.instrument)}"},
                "type": ACTIVITY_ASSESSMENT,
            },
        }
    extensions: dict[str, Any] = {
        iris.extension("competency"): entry.competency,
        iris.extension("instrument"): entry.instrument,
        iris.extension("instrument-name"): instrument_name(entry.instrument),
        iris.extension("level"): entry.level,
        iris.extension("cycle"): entry.cycle,
        iris.extension("entry-id"): entry.entry_id,
    }
    context: dict[str, Any] = {
        "contextActivities": {"grouping": [_competency_activity(iris, entry.competency)]},
        "platform": PLATFORM,
        "language": LANGUAGE,
        "extensions": extensions,
    }
    if entry.attempt_id is not None:
        context["registration"] = iris.registration(entry.attempt_id)
        extensions[iris.extension("attempt-id")] = entry.attempt_id
    if entry.quiz_version is not None:
        context["revision"] = str(entry.quiz_version)
    if entry.entered_by:
        extensions[iris.extension("entered-by")] = entry.entered_by
        if assessor_rated or entry.instrument not in CHAT_INSTRUMENTS:
            context["instructor"] = _agent(iris, entry.entered_by)
    if entry.supersedes is not None:
        context["statement"] = {"objectType": "StatementRef", "id": iris.entry_statement_id(entry.supersedes)}
        extensions[iris.extension("supersedes-entry-id")] = entry.supersedes
        extensions[iris.extension("correction-reason")] = entry.reason
    passed = entry.level >= 1
    return {
        "id": iris.entry_statement_id(entry.entry_id),
        "actor": _agent(iris, entry.employee_no, entry.learner_name),
        "verb": VERB_PASSED if passed else VERB_FAILED,
        "object": activity,
        "result": {"score": _score(entry.raw_score, maximum), "success": passed, "completion": True},
        "context": context,
        "timestamp": _utc_timestamp(entry.recorded_at),
        "version": XAPI_VERSION,
    }


def _voiding_statement(iris: _Iris, correction: RecordEntry) -> dict[str, Any]:
    assert correction.supersedes is not None
    if correction.entered_by:
        actor = _agent(iris, correction.entered_by)
    else:
        actor = _agent(iris, correction.employee_no, correction.learner_name)
    return {
        "id": iris.statement_id(f"record/{correction.supersedes}/voided-by/{correction.entry_id}"),
        "actor": actor,
        "verb": VERB_VOIDED,
        "object": {"objectType": "StatementRef", "id": iris.entry_statement_id(correction.supersedes)},
        "timestamp": _utc_timestamp(correction.recorded_at),
        "version": XAPI_VERSION,
    }


def _answer_statement(iris: _Iris, answer: AnsweredQuestion, entry: RecordEntry | None) -> dict[str, Any]:
    quiz_iri = iris.quiz(answer.quiz_title, answer.quiz_version)
    definition: dict[str, Any] = {
        "name": {LANGUAGE: f"{answer.quiz_title} · {answer.question_key}"},
        "type": ACTIVITY_QUESTION,
    }
    if answer.question_text.strip():
        definition["description"] = {LANGUAGE: answer.question_text}
    extensions: dict[str, Any] = {
        iris.extension("competency"): answer.competency,
        iris.extension("instrument"): answer.instrument,
        iris.extension("instrument-name"): instrument_name(answer.instrument),
        iris.extension("attempt-id"): answer.attempt_id,
    }
    if entry is not None:  # the attempt's result, when the record has it
        extensions[iris.extension("level")] = entry.level
        extensions[iris.extension("cycle")] = entry.cycle
    return {
        "id": iris.answer_statement_id(answer),
        "actor": _agent(iris, answer.employee_no, answer.learner_name),
        "verb": VERB_ANSWERED,
        "object": {
            "objectType": "Activity",
            "id": f"{quiz_iri}/question/{_segment(answer.question_key)}",
            "definition": definition,
        },
        "result": {
            "success": answer.correct,
            "score": {"raw": int(answer.correct), "min": 0, "max": 1, "scaled": float(answer.correct)},
        },
        "context": {
            "registration": iris.registration(answer.attempt_id),
            "contextActivities": {
                "parent": [_quiz_activity(iris, answer.quiz_title, answer.quiz_version)],
                "grouping": [_competency_activity(iris, answer.competency)],
            },
            "revision": str(answer.quiz_version),
            "platform": PLATFORM,
            "language": LANGUAGE,
            "extensions": extensions,
        },
        "timestamp": _utc_timestamp(answer.answered_at),
        "version": XAPI_VERSION,
    }


def xapi_statements(
    entries: Sequence[RecordEntry],
    answers: Sequence[AnsweredQuestion],
    *,
    homepage: str = "https://pocketcoach.example",
) -> list[dict[str, Any]]:
    """xAPI 1.0.3 statements as JSON-ready dicts: each entry (followed by a voiding statement when it
    corrects another), then each answer. Ids are stable across re-exports with the same homepage."""
    iris = _Iris(homepage.rstrip("/"))
    statements: list[dict[str, Any]] = []
    for entry in entries:
        statements.append(_entry_statement(iris, entry))
        if entry.supersedes is not None:
            statements.append(_voiding_statement(iris, entry))
    latest_by_attempt: dict[int, RecordEntry] = {}
    for entry in sorted(entries, key=lambda e: e.entry_id):
        if entry.attempt_id is not None:
            latest_by_attempt[entry.attempt_id] = entry
    statements.extend(_answer_statement(iris, answer, latest_by_attempt.get(answer.attempt_id)) for answer in answers)
    return statements


def _describe(error: ValidationError) -> str:
    # Deepest first: a union (agent kinds, object kinds) reports every alternative, and the real cause
    # is usually the one that got furthest in.
    errors = sorted(error.errors(), key=lambda e: -len(e["loc"]))
    problems = [f"{'.'.join(str(part) for part in e['loc']) or '(statement)'}: {e['msg']}" for e in errors]
    more = f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""
    return "; ".join(problems[:4]) + more


def validate_statements(statements: Iterable[Mapping[str, Any]]) -> None:
    """Check every statement against ralph's xAPI base statement model, plus: ids unique, timestamps
    with a time zone. Raises XapiStatementError naming the first statement at fault.

    ralph (a runtime dependency: `coach record export --format xapi` validates before it writes) is imported
    here, not at module level: it takes about a second to import and only this export needs it."""
    from ralph.models.xapi.base.statements import BaseXapiStatement

    seen: set[str] = set()
    for index, statement in enumerate(statements):
        label = f"statement {index}"
        if not isinstance(statement, Mapping):
            raise XapiStatementError(f"{label} is a {type(statement).__name__}, not a JSON object")
        label += f" (id {statement.get('id', 'missing')})"
        try:
            model = BaseXapiStatement.model_validate(dict(statement))
        except ValidationError as exc:
            raise XapiStatementError(f"{label} is not valid xAPI: {_describe(exc)}") from exc
        except KeyError as exc:  # ralph's pre-validator reads `object` before the fields are checked
            raise XapiStatementError(f"{label} is not valid xAPI: {exc.args[0]}: Field required") from exc
        except (TypeError, ValueError) as exc:
            raise XapiStatementError(f"{label} is not valid xAPI: {exc!r}") from exc
        if model.timestamp is not None and model.timestamp.tzinfo is None:
            raise XapiStatementError(f"{label}: the timestamp has no time zone")
        if model.id is not None:
            if str(model.id) in seen:
                raise XapiStatementError(f"{label}: the id is used twice in this export")
            seen.add(str(model.id))
