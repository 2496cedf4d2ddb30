"""Quiz files: YAML and Excel round trips, validation errors with locations, nothing half-accepted."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from quizzes.formats.excel import write_template
from quizzes.loading import load_quiz_file

GOOD_YAML = """\
title: 中级谈判情境练习
competency: 销售推动力
sub_competencies: [商务谈判技巧]
instrument: 情境模拟测验
level: 中级
mode: practice
draw: 3
cut_scores: [1, 2, 3]
questions:
  - id: n1
    sub_competency: 商务谈判技巧
    stem: |
      客户采购经理说竞争对手报价低 15%,要求你立刻跟价,否则不续约。
      你已经接近底线。你首先应该怎么做?
    options:
      - text: 立刻跟价,先保住客户
      - text: 先了解对方报价包含的服务范围,再谈价值差异
        correct: true
        feedback: 先摸清对方的真实条件,再决定是否让步。
      - text: 直接拒绝,表示没有余地
    explanation: 中级要能判断对方底线,不被单一价格牵着走。
    reference: 中级谈判课 博弈论与商务谈判
  - id: n2
    stem: 确需让步时,下列哪些做法是对的?
    options:
      - text: 分几次小步让出
        correct: true
      - text: 一次让到底以示诚意
      - text: 每次让步都换取对方的条件
        correct: true
  - id: n3
    stem: 对方是"红色"强势型谈判者,一上来就施压。较好的应对是?
    options:
      - text: 以同样强硬的态度回击
      - text: 保持冷静,把话题拉回双方利益
        correct: true
"""


def _write(tmp_path: Path, text: str, name: str = "set.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_yaml_set_loads_typed(tmp_path):
    loaded = load_quiz_file(_write(tmp_path, GOOD_YAML))
    assert loaded.result.errors == [] and loaded.ok
    quiz = loaded.quiz
    assert (quiz.competency, quiz.instrument, quiz.level, quiz.mode, quiz.draw, quiz.cut_scores) == (
        "销售推动力",
        "situational",
        "中级",
        "practice",
        3,
        (1, 2, 3),
    )
    first, second, _third = quiz.questions
    assert first.kind == "single_choice" and first.correct_indexes == {1}
    assert "底线" in first.stem and first.options[1].feedback.startswith("先摸清")
    assert second.kind == "multiple_choice" and second.correct_indexes == {0, 2}


def test_cut_scores_must_rise(tmp_path):
    loaded = load_quiz_file(_write(tmp_path, GOOD_YAML.replace("cut_scores: [1, 2, 3]", "cut_scores: [2, 1, 3]")))
    assert not loaded.ok
    assert any("逐级升高" in e.message and e.location == "set.yaml:8 cut_scores" for e in loaded.result.errors)


def test_every_broken_thing_is_reported_with_its_line(tmp_path):
    broken = (
        GOOD_YAML.replace("competency: 销售推动力", "competency: 唱歌能力")
        .replace("draw: 3", "draw: 5")
        .replace("      - text: 直接拒绝,表示没有余地", "      - text: 立刻跟价,先保住客户")
        .replace("        correct: true\n      - text: 一次让到底以示诚意", "      - text: 一次让到底以示诚意")
        .replace(
            "      - text: 每次让步都换取对方的条件\n        correct: true", "      - text: 每次让步都换取对方的条件"
        )
    )
    errors = load_quiz_file(_write(tmp_path, broken)).result.errors
    messages = {e.message.split(";")[0]: e.location for e in errors}
    # each set-level problem at its field's own line, naming the field (they all said line 1)
    assert messages["未知的能力「唱歌能力」"] == "set.yaml:2 competency"
    assert messages["题库只有 3 题,少于每次要抽的 5 题"] == "set.yaml:7 draw"
    # a repeated option where the repeat is written (line 20), not at the question's line 10
    assert messages["选项「立刻跟价,先保住客户」和选项 A 重复"] == "set.yaml:20"
    assert messages["没有标出正确答案"] == "set.yaml:23"
    assert not any("超过了每次抽题数" in e.message for e in errors)  # 3 <= 5


def test_yaml_syntax_errors_say_in_chinese_what_to_fix(tmp_path):
    """PyYAML's English (「expected <block end>…」) told a trainer nothing."""
    misaligned = GOOD_YAML.replace("      - text: 直接拒绝,表示没有余地", "     - text: 直接拒绝,表示没有余地")
    tab = GOOD_YAML.replace("level: 中级", "level:\t中级\n\tmode2: x")
    colon = GOOD_YAML.replace("title: 中级谈判情境练习", "title: 价格: 中级谈判")
    for text, expected in ((misaligned, "缩进没有对齐"), (tab, "Tab"), (colon, "加上引号")):
        (problem,) = load_quiz_file(_write(tmp_path, text)).result.errors
        assert problem.location.startswith("set.yaml:") and expected in problem.message
        assert not any(word in problem.message for word in ("expected", "found", "mapping", "while"))


def test_a_missing_competency_says_it_is_missing_and_what_to_write(tmp_path):
    errors = load_quiz_file(_write(tmp_path, GOOD_YAML.replace("competency: 销售推动力\n", ""))).result.errors
    (problem,) = [e for e in errors if "能力" in e.message and "子能力" not in e.message]
    assert problem.message.startswith("缺少能力(competency);请写其中之一:") and "「」" not in problem.message


def test_every_problem_comes_at_once_and_the_summary_counts_only_good_questions(tmp_path):
    """A broken mode stopped every question check (fix two errors, four new ones appeared); the summary counted
    questions with errors as importable."""
    from app.quiz_commands import import_summary

    broken = (
        GOOD_YAML.replace("mode: practice", "mode: exam")
        .replace("cut_scores: [1, 2, 3]", "cut_scores: [1, 2]")
        .replace("      - text: 直接拒绝,表示没有余地", "      - text: 立刻跟价,先保住客户")
        .replace("title: 中级谈判情境练习", "title: 中级谈判情境练习\ntitel: 拼错的字段")
    )
    loaded = load_quiz_file(_write(tmp_path, broken))
    messages = {e.message.split(";")[0]: e.location for e in loaded.result.errors}
    assert messages["模式必须是 练习(practice) 或 认证(certification)"] == "set.yaml:7 mode"
    assert messages["分数线必须是 3 个数:等级1/等级2/等级3"] == "set.yaml:9 cut_scores"
    assert messages["不认识的字段「titel」"] == "set.yaml:2 titel"
    assert "选项「立刻跟价,先保住客户」和选项 A 重复" in messages  # reported in the same round
    assert import_summary(loaded.result).startswith("2 题可导入,1 题有错误,")


def test_yaml_syntax_error_names_the_line(tmp_path):
    loaded = load_quiz_file(_write(tmp_path, "title: x\nquestions: [\n  - a: b\n"))
    assert not loaded.ok and loaded.result.errors[0].location.startswith("set.yaml:")
    assert "YAML 格式错误" in loaded.result.errors[0].message


def test_excel_template_round_trip(tmp_path):
    template = write_template(tmp_path / "模板.xlsx")
    loaded = load_quiz_file(template)
    assert loaded.result.errors == [] and loaded.ok
    assert [q.kind for q in loaded.quiz.questions] == ["single_choice", "multiple_choice", "single_choice"]
    assert loaded.quiz.cut_scores == (1, 2, 3) and loaded.quiz.mode == "practice"


def test_excel_errors_name_sheet_row_and_field(tmp_path):
    path = write_template(tmp_path / "题库.xlsx")
    book = load_workbook(path)
    book["题目"]["L2"] = "Z"  # 正确答案 column of the first question
    book["题目"]["E3"] = "事先写下底线"  # option B duplicates option A
    book["测验信息"]["B9"] = "3/2/1"  # 分数线
    book.save(path)
    errors = load_quiz_file(path).result.errors
    where = {e.location: e.message for e in errors}
    assert "正确答案「Z」无效" in where["题库.xlsx 工作表「题目」第 2 行 正确答案"]
    assert "和选项 A 重复" in where["题库.xlsx 工作表「题目」第 3 行"]
    assert "逐级升高" in where["题库.xlsx 工作表「测验信息」第 9 行 分数线"]


def test_a_corrupt_workbook_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "坏.xlsx"
    path.write_bytes(b"not a workbook")
    loaded = load_quiz_file(path)
    assert not loaded.ok and "损坏" in loaded.result.errors[0].message
