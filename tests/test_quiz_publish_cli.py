"""`coach quiz publish` and `list` and the programme rule for certification sets. A file the file check passes but
publish_quiz_set refuses: the title is control characters only ("\\a\\x01"), nothing once they are dropped — exit 1,
the reason in Chinese, nothing stored. `list` names a version stored before the rule."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from app.cli import main
from quizzes.loading import load_quiz_file
from quizzes.serialization import quiz_to_json
from storage.db import UnitOfWork, create_database_engine
from storage.quiz_repository import QuizRepository
from tests.support.certification_sets import certification_set_yaml


def test_a_certification_file_publish_refuses_says_why_and_publishes_nothing(tmp_path, capsys):
    data = str(tmp_path / "data")
    text = certification_set_yaml("产品理解力", title="占位").replace("title: 占位", 'title: "\\a\\x01"')
    path = tmp_path / "控制字符.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["--data-dir", data, "quiz", "publish", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "没有错误" in out  # the file check let it through
    assert "错误 控制字符.yaml:缺少测验名称(title)" in err and "控制字符.yaml:没有发布" in err
    assert main(["--data-dir", data, "quiz", "list"]) == 0
    assert capsys.readouterr().out == ""


def test_the_same_file_with_a_title_publishes(tmp_path, capsys):
    data = str(tmp_path / "data")
    path = tmp_path / "认证.yaml"
    path.write_text(certification_set_yaml("产品理解力", title="产品情境认证"), encoding="utf-8")
    assert main(["--data-dir", data, "quiz", "publish", str(path)]) == 0
    assert "已发布:产品情境认证" in capsys.readouterr().out
    assert main(["--data-dir", data, "quiz", "list"]) == 0
    assert "产品情境认证" in capsys.readouterr().out


def test_quiz_list_names_a_certification_version_stored_before_the_programme_rule(tmp_path, capsys):
    """Trainers find the sets learners can no longer start: 3 questions cut at 1/2/3, written straight to the
    repository as releases before the rule did, are listed as 不符合能力体系; a conformant one as 在用."""
    data = tmp_path / "data"
    good = tmp_path / "认证.yaml"
    good.write_text(certification_set_yaml("产品理解力", title="产品情境认证"), encoding="utf-8")
    assert main(["--data-dir", str(data), "quiz", "publish", str(good)]) == 0
    loaded = load_quiz_file(good)
    assert loaded.quiz is not None
    old = replace(loaded.quiz, title="旧认证", draw=3, cut_scores=(1, 2, 3), questions=loaded.quiz.questions[:3])
    engine = create_database_engine(f"sqlite:///{data / 'coach.sqlite3'}")
    try:
        with UnitOfWork(engine).begin() as session:
            QuizRepository().publish(
                session, title=old.title, competency=old.competency, instrument=old.instrument, level=old.level,
                mode=old.mode, content=quiz_to_json(old), source_name="old.yaml", by=None, now=datetime(2026, 1, 5),
            )  # fmt: skip
    finally:
        engine.dispose()
    capsys.readouterr()
    assert main(["--data-dir", str(data), "quiz", "list"]) == 0
    rows = {line.split("\t")[-1]: line.split("\t")[-2] for line in capsys.readouterr().out.splitlines()}
    assert rows == {"产品情境认证": "在用", "旧认证": "不符合能力体系,不能开考"}
