"""Excel quiz workbooks for trainers: `coach quiz template` writes one with instructions; they fill rows.

Sheets: 说明 (how to fill it in), 测验信息 (one row per setting), 题目 (one row per question).
Every problem names the sheet and row.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException

from ingest.archive_guard import ArchiveTooLarge, NotAnArchive, check_archive
from quizzes.imported import ImportedQuestion, ImportProblem, ImportResult

INFO_SHEET, QUESTION_SHEET, HELP_SHEET = "测验信息", "题目", "说明"
INFO_FIELDS = {
    "测验名称": "title",
    "能力": "competency",
    "子能力": "sub_competencies",
    "测验类型": "instrument",
    "级别": "level",
    "模式": "mode",
    "每次抽题数": "draw",
    "分数线": "cut_scores",
    "限时(分钟)": "time_limit_minutes",
    "简介": "description",
}
INFO_EXAMPLE = {
    "测验名称": ("中级谈判情境测验(示例)", "学员在列表里看到的名称"),
    "能力": ("销售推动力", "产品理解力/客户洞察力/销售推动力/资源整合力/通用素质"),
    "子能力": ("商务谈判技巧", "多个用顿号分隔"),
    "测验类型": ("情境模拟测验", "情境模拟测验 或 知识测验"),
    "级别": ("中级", "初级/中级/高级"),
    "模式": ("练习", "练习:答完一题马上看解析;认证:最后才公布成绩,限考一次"),
    "每次抽题数": (3, "每次测验从题库里抽几题"),
    "分数线": ("1/2/3", "等级1/等级2/等级3 需要答对的题数,逐级升高"),
    "限时(分钟)": ("", "可不填"),
    "简介": ("练习在压力下分步让步", ""),
}
LETTERS = "ABCDEFGH"
QUESTION_HEADERS = ["编号", "子能力", "题干", *(f"选项{c}" for c in LETTERS), "正确答案", "解析", "参考资料"]
HELP_TEXT = [
    "怎样填写测验题库",
    "1. 在「测验信息」表的 B 列填写测验的设置,C 列是说明。",
    "2. 在「题目」表每行写一道题:题干、选项A–H(至少 2 个)、正确答案(如 B;多选写 A,C)、解析。",
    "3. 编号可不填;子能力要属于所选能力;参考资料可写知识库里教这个知识点的文档标题。",
    "4. 保存后发给机器人或运行 coach quiz import 文件 --dry-run 检查,有错误会指出工作表、行和字段。",
]


def write_template(path: Path) -> Path:
    """A workbook with instructions, the settings sheet and one example question."""
    book = Workbook()
    help_sheet = book.active
    help_sheet.title = HELP_SHEET
    for row, line in enumerate(HELP_TEXT, start=1):
        help_sheet.cell(row=row, column=1, value=line).font = Font(bold=row == 1)
    help_sheet.column_dimensions["A"].width = 100
    info = book.create_sheet(INFO_SHEET)
    info.append(["字段", "值", "说明"])
    for label, (value, hint) in INFO_EXAMPLE.items():
        info.append([label, value, hint])
    info.column_dimensions["A"].width, info.column_dimensions["B"].width, info.column_dimensions["C"].width = 14, 30, 60
    questions = book.create_sheet(QUESTION_SHEET)
    questions.append(QUESTION_HEADERS)
    questions.append(
        [
            "neg-1",
            "商务谈判技巧",
            "客户要求再降 10%,超出了你的底线。你最合适的做法是?",
            "马上答应,先签下来",
            "分几小步让,每次换取对方的条件",
            "直接拒绝并结束谈判",
            "",
            "",
            "",
            "",
            "",
            "B",
            "让步要分步,每一步都要换回对价,让对方觉得来之不易。",
            "中级谈判课 博弈论与商务谈判",
        ]
    )
    questions.append(
        [
            "neg-2",
            "商务谈判技巧",
            "以下哪些做法有助于守住底线?(多选)",
            "事先写下底线",
            "当场承诺做不到的条件",
            "请示后再答复",
            "",
            "",
            "",
            "",
            "",
            "A,C",
            "承诺前先确认能做到。",
            "",
        ]
    )
    questions.append(
        [
            "neg-3",
            "商务谈判技巧",
            "对方一上来就强硬施压,你较好的应对是?",
            "同样强硬地回击",
            "保持冷静,把话题拉回双方利益",
        ]
        + [""] * 6
        + ["B", "把竞争转为合作,关注双方利益。", ""]
    )
    for cell in questions[1]:
        cell.font = Font(bold=True)
    for column in "CDEFGHIJKLMN":
        questions.column_dimensions[column].width = 24
    for row in questions.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    book.save(path)
    return path


def read_xlsx(data: bytes, *, filename: str) -> tuple[dict[str, Any] | None, ImportResult]:
    """The set's settings (with locations) and its questions from a filled-in workbook."""
    result = ImportResult()
    try:
        check_archive(data)  # an .xlsx is a zip: refuse a zip bomb before openpyxl inflates it
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ArchiveTooLarge as exc:
        result.errors.append(ImportProblem(filename, exc.message))
        return None, result
    except (NotAnArchive, InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        result.errors.append(ImportProblem(filename, "不是有效的 Excel(.xlsx)文件,或文件已损坏"))
        return None, result
    missing = [name for name in (INFO_SHEET, QUESTION_SHEET) if name not in book.sheetnames]
    if missing:
        result.errors.append(
            ImportProblem(filename, f"缺少工作表:{'、'.join(missing)}(请用 coach quiz template 生成的模板)")
        )
        return None, result
    details = _read_info(book[INFO_SHEET], filename, result)
    _read_questions(book[QUESTION_SHEET], filename, result)
    return details, result


def _where(filename: str, sheet: str, row: int, field: str = "") -> str:
    return f"{filename} 工作表「{sheet}」第 {row} 行" + (f" {field}" if field else "")


def _read_info(sheet, filename: str, result: ImportResult) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    details: dict[str, Any] = {"__field_locations__": {}}
    for row_number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        if not row or row[0] is None:
            continue
        label = str(row[0]).strip()
        field = INFO_FIELDS.get(label)
        if field is None:
            result.errors.append(
                ImportProblem(_where(filename, INFO_SHEET, row_number, "A列"), f"不认识的字段「{label}」")
            )
            continue
        value = row[1] if len(row) > 1 else None
        details["__field_locations__"][field] = _where(filename, INFO_SHEET, row_number, label)
        if value not in (None, ""):
            details[field] = value.strip() if isinstance(value, str) else value
    return details


def _read_questions(sheet, filename: str, result: ImportResult) -> None:  # type: ignore[no-untyped-def]
    rows = sheet.iter_rows(values_only=True)
    header = [str(c).strip() if c is not None else "" for c in next(rows, ())]
    if header[: len(QUESTION_HEADERS)] != QUESTION_HEADERS:
        result.errors.append(ImportProblem(_where(filename, QUESTION_SHEET, 1), "表头和模板不一致,请不要修改第 1 行"))
        return
    col = {name: i for i, name in enumerate(QUESTION_HEADERS)}
    for row_number, row in enumerate(rows, start=2):
        cells = ["" if c is None else str(c).strip() for c in row] + [""] * len(QUESTION_HEADERS)
        if not any(cells[: len(QUESTION_HEADERS)]):
            continue
        where = _where(filename, QUESTION_SHEET, row_number)
        options = [cells[col[f"选项{c}"]] for c in LETTERS]
        while options and not options[-1]:
            options.pop()
        answer = cells[col["正确答案"]].upper().replace(",", ",").replace(" ", "")
        letters = [a for a in answer.split(",") if a]
        bad = [a for a in letters if len(a) != 1 or a not in LETTERS[: len(options)]]
        if not letters or bad:
            result.errors.append(
                ImportProblem(
                    f"{where} 正确答案", f"正确答案「{answer}」无效:请写选项字母,如 B 或 A,C(共 {len(options)} 个选项)"
                )
            )
            continue
        correct = tuple(sorted({LETTERS.index(a) for a in letters}))
        result.questions.append(
            ImportedQuestion(
                kind="multiple_choice" if len(correct) > 1 else "single_choice",
                text=cells[col["题干"]],
                options=tuple(options),
                correct=correct,
                explanation=cells[col["解析"]],
                location=where,
                name=cells[col["编号"]] or f"row{row_number}",
                sub_competency=cells[col["子能力"]],
                reference=cells[col["参考资料"]],
            )
        )
