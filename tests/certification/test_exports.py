"""Exports: CSV and Excel round trips with Chinese, xAPI statements valid per ralph, broken ones refused."""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from certification.exports import (
    ENTRY_COLUMNS,
    TeamRow,
    XapiStatementError,
    entries_to_csv,
    entries_to_xlsx,
    team_overview_xlsx,
    validate_statements,
    xapi_statements,
)
from certification.model import AnsweredQuestion, RecordEntry

HOME = "https://pocketcoach.example"
EXT = f"{HOME}/xapi/extensions/"

QUIZ_ENTRY = RecordEntry(
    entry_id=1,
    learner_id=7,
    employee_no="E1001",
    learner_name="王小丽",
    competency="产品理解力",
    instrument="situational",
    raw_score=7,
    max_score=10,
    level=2,
    cycle="2026H2",
    recorded_at=datetime(2026, 7, 1, 9, 30),  # naive UTC, as storage keeps it
    attempt_id=11,
    quiz_title="产品情境测验",
    quiz_version=3,
)
FAILED_ENTRY = RecordEntry(
    entry_id=2,
    learner_id=8,
    employee_no="E1002",
    learner_name="欧阳晓慧",
    competency="客户洞察力",
    instrument="knowledge",
    raw_score=9,
    max_score=20,
    level=0,
    cycle="2026H2",
    recorded_at=datetime(2026, 7, 1, 20, 5, tzinfo=UTC),
    attempt_id=12,
    quiz_title="客户洞察知识测验",
    quiz_version=1,
)
RATING = RecordEntry(
    entry_id=3,
    learner_id=7,
    employee_no="E1001",
    learner_name="王小丽",
    competency="销售推动力",
    instrument="structured_interview",
    raw_score=2,
    max_score=None,
    level=2,
    cycle="2026H2",
    recorded_at=datetime(2026, 7, 2, 17, 0, tzinfo=timezone(timedelta(hours=8))),  # = 09:00 UTC
    entered_by="M2001",
)
CORRECTION = RecordEntry(
    entry_id=4,
    learner_id=7,
    employee_no="E1001",
    learner_name="王小丽",
    competency="销售推动力",
    instrument="structured_interview",
    raw_score=3,
    max_score=None,
    level=3,
    cycle="2026H2",
    recorded_at=datetime(2026, 7, 3, 1, 0),
    entered_by="M2001",
    supersedes=3,
    reason="=评分录入错误,应为3分",  # starts like a spreadsheet formula
)
ENTRIES = [QUIZ_ENTRY, FAILED_ENTRY, RATING, CORRECTION]


def _answer(
    key: str, correct: bool, attempt_id: int = 11, text: str = "客户说预算不足,你应当先做什么?"
) -> AnsweredQuestion:
    return AnsweredQuestion(
        attempt_id=attempt_id,
        employee_no="E1001" if attempt_id == 11 else "E1002",
        learner_name="王小丽" if attempt_id == 11 else "欧阳晓慧",
        question_key=key,
        question_text=text,
        correct=correct,
        answered_at=datetime(2026, 7, 1, 9, 20),
        competency="产品理解力" if attempt_id == 11 else "客户洞察力",
        instrument="situational" if attempt_id == 11 else "knowledge",
        quiz_title="产品情境测验" if attempt_id == 11 else "客户洞察知识测验",
        quiz_version=3 if attempt_id == 11 else 1,
    )


ANSWERS = [_answer("neg-m-03", True), _answer("q12", False), _answer("q1", True, attempt_id=12, text="")]


# ---------------------------------------------------------------- CSV


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_has_a_bom_and_chinese_headers():
    data = entries_to_csv(ENTRIES)
    assert data.startswith(b"\xef\xbb\xbf")
    header = _csv_rows(data)[0]
    assert header == list(ENTRY_COLUMNS)
    for name in ("工号", "姓名", "能力", "测验/评估工具", "得分", "满分", "等级", "周期", "录入人", "更正原因"):
        assert name in header
    assert "记录时间(北京时间)" in header


def test_csv_round_trip_keeps_chinese_and_values():
    rows = [dict(zip(ENTRY_COLUMNS, row, strict=True)) for row in _csv_rows(entries_to_csv(ENTRIES))[1:]]
    assert len(rows) == 4
    quiz, failed, rating, correction = rows
    assert quiz["工号"] == "E1001" and quiz["姓名"] == "王小丽" and quiz["能力"] == "产品理解力"
    assert quiz["测验/评估工具"] == "情境模拟测验"
    assert (quiz["得分"], quiz["满分"], quiz["等级"], quiz["周期"]) == ("7", "10", "2", "2026H2")
    assert quiz["记录时间(北京时间)"] == "2026-07-01 17:30:00"  # naive UTC + 8 h
    assert quiz["录入人"] == "系统" and quiz["测验名称"] == "产品情境测验" and quiz["测验版本"] == "3"
    assert failed["姓名"] == "欧阳晓慧" and failed["等级"] == "0" and failed["测验/评估工具"] == "知识测验"
    assert failed["记录时间(北京时间)"] == "2026-07-02 04:05:00"
    assert rating["测验/评估工具"] == "结构化访谈" and rating["满分"] == "" and rating["录入人"] == "M2001"
    assert rating["记录时间(北京时间)"] == "2026-07-02 17:00:00"
    assert correction["更正的记录号"] == "3" and correction["记录号"] == "4"


def test_csv_defuses_text_a_spreadsheet_would_run_as_a_formula():
    correction = _csv_rows(entries_to_csv([CORRECTION]))[1]
    assert correction[ENTRY_COLUMNS.index("更正原因")] == "'=评分录入错误,应为3分"


def test_csv_of_no_entries_is_just_the_header():
    assert _csv_rows(entries_to_csv([])) == [list(ENTRY_COLUMNS)]


# ---------------------------------------------------------------- Excel


def test_xlsx_round_trip_with_bold_header_and_widths():
    sheet = load_workbook(io.BytesIO(entries_to_xlsx(ENTRIES))).active
    assert sheet.title == "认证记录"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(ENTRY_COLUMNS)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    quiz = dict(zip(ENTRY_COLUMNS, rows[1], strict=True))
    assert quiz["姓名"] == "王小丽" and quiz["测验/评估工具"] == "情境模拟测验"
    assert (quiz["得分"], quiz["满分"], quiz["等级"]) == (7, 10, 2)
    assert quiz["记录时间(北京时间)"] == datetime(2026, 7, 1, 17, 30)
    rating = dict(zip(ENTRY_COLUMNS, rows[3], strict=True))
    assert rating["满分"] is None and rating["录入人"] == "M2001"
    widths = {column: sheet.column_dimensions[column].width for column in "ABCDI"}
    assert all(width >= 8 for width in widths.values())
    assert widths["D"] >= 14  # 测验/评估工具 / 集团客户产品演讲 are wide in CJK


def test_xlsx_stores_formula_like_text_as_plain_text():
    sheet = load_workbook(io.BytesIO(entries_to_xlsx([CORRECTION]))).active
    cell = sheet.cell(2, ENTRY_COLUMNS.index("更正原因") + 1)
    assert cell.value == "=评分录入错误,应为3分"
    assert cell.data_type == "s"


def test_team_overview_xlsx_round_trip():
    rows = [
        TeamRow(
            employee_no="E1001",
            name="王小丽",
            job_level="初级",
            levels={"产品理解力": "等级2/43%", "客户洞察力": "等级3/67%", "价值创造力": "等级2/50%"},
            eligible=True,
            next_step="申请晋级中级",
            reasons="",
            started=True,
        ),
        TeamRow(
            employee_no="E1002",
            name="欧阳晓慧",
            job_level="中级",
            levels={},
            eligible=False,
            next_step="完成销售推动力情境模拟测验",
            reasons="销售推动力未测;资源整合力未测",
            started=False,
        ),
    ]
    sheet = load_workbook(io.BytesIO(team_overview_xlsx(rows))).active
    assert sheet.title == "团队概览"
    table = list(sheet.iter_rows(values_only=True))
    assert table[0] == (
        "工号",
        "姓名",
        "职级",
        "产品理解力",
        "客户洞察力",
        "销售推动力",
        "资源整合力",
        "价值创造力",
        "符合晋级条件",
        "下一步",
        "原因",
        "已开始认证",
    )
    assert all(cell.font.bold for cell in sheet[1])
    assert table[1] == (
        "E1001",
        "王小丽",
        "初级",
        "等级2/43%",
        "等级3/67%",
        "未测",
        "未测",
        "等级2/50%",
        "是",
        "申请晋级中级",
        None,
        "是",
    )
    assert table[2][:4] == ("E1002", "欧阳晓慧", "中级", "未测")
    assert table[2][8:] == ("否", "完成销售推动力情境模拟测验", "销售推动力未测;资源整合力未测", "否")
    assert sheet.cell(2, 9).fill.fgColor.rgb.endswith("D8F0D2")
    assert sheet.cell(3, 9).fill.fill_type is None


def test_team_row_is_frozen():
    row = TeamRow(employee_no="E1", name="张三", job_level="初级")
    with pytest.raises(AttributeError):
        row.eligible = True  # type: ignore[misc]


# ---------------------------------------------------------------- xAPI


def _statements() -> list[dict]:
    return xapi_statements(ENTRIES, ANSWERS, homepage=HOME)


def _by_id(statements: list[dict]) -> dict[str, dict]:
    return {s["id"]: s for s in statements}


def test_every_statement_is_valid_per_ralph_and_json_ready():
    statements = _statements()
    validate_statements(statements)
    assert json.loads(json.dumps(statements, ensure_ascii=False)) == statements
    # four entries, one voiding statement for the correction, three answers
    assert len(statements) == 8
    assert all(s["version"] == "1.0.3" for s in statements)


def test_ids_are_deterministic_uuid5_and_unique():
    first, again = _statements(), _statements()
    assert [s["id"] for s in first] == [s["id"] for s in again]
    assert first == again
    assert len({s["id"] for s in first}) == len(first)
    assert all(uuid.UUID(s["id"]).version == 5 for s in first)
    other_site = xapi_statements(ENTRIES, ANSWERS, homepage="https://coach.other.example/")
    assert not {s["id"] for s in first} & {s["id"] for s in other_site}
    # an entry's id does not depend on what else is exported with it
    alone = xapi_statements([QUIZ_ENTRY], [], homepage=HOME)
    assert alone[0]["id"] == first[0]["id"]


def test_timestamps_are_iso_8601_utc():
    for statement in _statements():
        stamp = statement["timestamp"]
        assert stamp.endswith("Z")
        assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0)
    rating = _statements()[2]
    assert rating["timestamp"] == "2026-07-02T09:00:00.000Z"  # 17:00 Beijing time


def test_answer_statements():
    answers = [s for s in _statements() if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"]
    assert len(answers) == 3
    right, wrong, other = answers
    assert right["actor"] == {"objectType": "Agent", "account": {"homePage": HOME, "name": "E1001"}, "name": "王小丽"}
    assert right["result"] == {"success": True, "score": {"raw": 1, "min": 0, "max": 1, "scaled": 1.0}}
    assert wrong["result"] == {"success": False, "score": {"raw": 0, "min": 0, "max": 1, "scaled": 0.0}}
    activity = right["object"]
    assert activity["objectType"] == "Activity"
    assert activity["id"].startswith(f"{HOME}/xapi/activities/quiz/") and activity["id"].endswith(
        "/v3/question/neg-m-03"
    )
    assert activity["definition"]["name"] == {"zh-CN": "产品情境测验 · neg-m-03"}
    assert activity["definition"]["description"] == {"zh-CN": "客户说预算不足,你应当先做什么?"}
    assert "description" not in other["object"]["definition"]  # no empty language map
    context = right["context"]
    assert context["contextActivities"]["parent"][0]["definition"]["name"] == {"zh-CN": "产品情境测验(第3版)"}
    assert context["extensions"][EXT + "competency"] == "产品理解力"
    assert context["extensions"][EXT + "instrument"] == "situational"
    assert context["extensions"][EXT + "instrument-name"] == "情境模拟测验"
    assert context["extensions"][EXT + "level"] == 2 and context["extensions"][EXT + "cycle"] == "2026H2"
    assert context["registration"] == wrong["context"]["registration"] != other["context"]["registration"]
    assert other["context"]["extensions"][EXT + "level"] == 0


def test_entry_statements_pass_or_fail_on_level():
    by_id = _by_id(_statements())
    quiz, failed = _statements()[0], _statements()[1]
    assert quiz["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert quiz["result"] == {
        "score": {"raw": 7, "min": 0, "max": 10, "scaled": 0.7},
        "success": True,
        "completion": True,
    }
    assert quiz["object"]["definition"]["name"] == {"zh-CN": "产品情境测验(第3版)"}
    assert quiz["context"]["registration"] == _statements()[5]["context"]["registration"]  # same attempt
    assert failed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    assert failed["result"]["success"] is False and failed["result"]["score"]["scaled"] == 0.45
    extensions = failed["context"]["extensions"]
    assert extensions[EXT + "competency"] == "客户洞察力"
    assert extensions[EXT + "level"] == 0 and extensions[EXT + "cycle"] == "2026H2"
    assert len(by_id) == 8


def test_assessor_rating_keeps_passed_with_the_assessor_as_instructor():
    rating = _statements()[2]
    assert rating["actor"]["account"]["name"] == "E1001"
    assert rating["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
    assert rating["result"]["score"] == {"raw": 2, "min": 0, "max": 3, "scaled": 0.6667}
    assert rating["context"]["instructor"] == {"objectType": "Agent", "account": {"homePage": HOME, "name": "M2001"}}
    assert rating["object"]["definition"]["name"] == {"zh-CN": "销售推动力 · 结构化访谈"}
    assert "registration" not in rating["context"]


def test_a_correction_points_to_and_voids_the_statement_it_replaces():
    statements = _statements()
    rating, correction, voiding = statements[2], statements[3], statements[4]
    assert correction["context"]["statement"] == {"objectType": "StatementRef", "id": rating["id"]}
    assert correction["context"]["extensions"][EXT + "correction-reason"] == "=评分录入错误,应为3分"
    assert voiding["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert voiding["object"] == {"objectType": "StatementRef", "id": rating["id"]}
    assert voiding["actor"]["account"]["name"] == "M2001"
    assert "result" not in voiding and "context" not in voiding


def _broken(mutate) -> dict:
    statement = copy.deepcopy(_statements()[0])
    mutate(statement)
    return statement


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.pop("actor"), "actor"),
        (lambda s: s.pop("object"), "object: Field required"),
        (lambda s: s["verb"].update(id="answered"), "verb"),
        (lambda s: s["verb"].update(id="http://adlnet.gov/expapi/verbs/not a verb"), "verb"),
        (lambda s: s["result"]["score"].update(scaled=1.5), "scaled"),
        (lambda s: s["result"]["score"].update(raw=11), "raw cannot be greater than max"),
        (lambda s: s["actor"].update(name=""), "empty"),
        (lambda s: s["actor"]["account"].update(homePage="pocketcoach"), "homePage"),
        (lambda s: s["object"]["definition"].update(name={"中文": "产品情境测验"}), "name"),
        (lambda s: s.update(version="2.0.0"), "version"),
        (lambda s: s.update(id="not-a-uuid"), "id"),
        (lambda s: s.update(timestamp="2026-07-01T09:30:00"), "time zone"),
        (lambda s: s["result"].update(success="yes"), "success"),
    ],
)
def test_validator_rejects_broken_statements(mutate, message):
    good = _statements()
    statement = _broken(mutate)
    with pytest.raises(XapiStatementError, match=message) as raised:
        validate_statements([*good[1:], statement])
    assert f"statement {len(good) - 1}" in str(raised.value)


def test_validator_rejects_duplicate_ids_and_non_objects():
    statements = _statements()
    with pytest.raises(XapiStatementError, match="used twice"):
        validate_statements([*statements, statements[0]])
    with pytest.raises(XapiStatementError, match="not a JSON object"):
        validate_statements(["{}"])  # type: ignore[list-item]
