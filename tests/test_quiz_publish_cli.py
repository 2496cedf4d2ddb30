"""`coach quiz publish` of a certification file the file check passes but publish_quiz_set refuses: the title is
control characters only ("\\a\\x01"), nothing once they are dropped. Exit 1, the reason in Chinese, nothing stored."""

from __future__ import annotations

from app.cli import main
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
