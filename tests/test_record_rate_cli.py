"""`coach record rate` follows the chat's rule: only the person's supervisor or an admin rates, never oneself."""

from __future__ import annotations

from app.cli import main
from app.composition import Services
from app.settings import load_settings
from bot.core import texts
from bot.core.messages import ChannelUser
from bot.core.roles import Role


def test_record_rate_refuses_by_equal_to_the_learner_and_outsiders(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COACH_VECTOR_STORE__MODE", "off")
    data = ["--data-dir", str(tmp_path)]
    core = Services(load_settings(data_dir=tmp_path)).conversation
    people = [("S1", Role.SUPERVISOR, "张主管"), ("L1", Role.LEARNER, "组员甲"), ("L2", Role.LEARNER, "外人乙")]
    for number, role, name in people:
        core.provision(
            ChannelUser("console", number), name=name, employee_no=number, region="省", level="初级", role=role
        )
    assert main([*data, "users", "supervise", "L1", "S1"]) == 0
    capsys.readouterr()

    assert main([*data, "record", "rate", "S1", "销售推动力", "结构化访谈", "3", "--by", "s1"]) == 1
    assert texts.RATE_SELF in capsys.readouterr().err
    assert main([*data, "record", "rate", "L2", "销售推动力", "结构化访谈", "3", "--by", "S1"]) == 1
    assert "不在您的团队里" in capsys.readouterr().err
    assert main([*data, "record", "rate", "L1", "销售推动力", "结构化访谈", "3", "--by", "L2"]) == 1
    assert "不是主管或管理员" in capsys.readouterr().err
    assert main([*data, "record", "rate", "L1", "销售推动力", "结构化访谈", "3", "--by", "S1"]) == 0
