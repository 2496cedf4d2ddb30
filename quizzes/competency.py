"""The programme's competency model, instruments and cut scores (from the domain notes; tests pin them)."""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("初级", "中级", "高级")

COMPETENCIES: dict[str, tuple[str, ...]] = {
    "产品理解力": ("产品知识", "解决方案的理解与应用", "行业知识", "信息化管理知识", "其它知识"),
    "客户洞察力": ("信息收集", "分析思维", "挖掘需求与发现商机"),
    "销售推动力": ("顾问式销售技巧", "说服影响力", "商务谈判技巧", "计划与项目管理"),
    "资源整合力": ("团队协作", "指导他人", "组织敏感", "关系能力"),
    "通用素质": ("追求双赢", "竞争意识", "追求卓越", "结果导向"),
}
VALUE_CREATION = "价值创造力"  # the composite of all competencies

INSTRUMENTS = {
    "situational": "情境模拟测验",
    "knowledge": "知识测验",
    "case_writing": "案例撰写",
    "structured_interview": "结构化访谈",
    "product_presentation": "集团客户产品演讲",
    "solution_presentation": "方案演讲",
}
CHAT_INSTRUMENTS = ("situational", "knowledge")  # the others are rated by an assessor, not taken in chat


@dataclass(frozen=True)
class ProgrammeInstrument:
    competency: str
    instrument: str
    items: int | None
    cuts: tuple[int, int, int]  # minimum score for 等级1, 等级2, 等级3


PROGRAMME_INSTRUMENTS = (
    ProgrammeInstrument("产品理解力", "knowledge", 80, (45, 55, 75)),
    ProgrammeInstrument("产品理解力", "situational", 10, (5, 7, 8)),
    ProgrammeInstrument("产品理解力", "case_writing", None, (1, 2, 3)),
    ProgrammeInstrument("客户洞察力", "situational", 10, (5, 7, 8)),
    ProgrammeInstrument("客户洞察力", "knowledge", 20, (12, 14, 16)),
    ProgrammeInstrument("销售推动力", "situational", 15, (8, 10, 12)),
    ProgrammeInstrument("销售推动力", "structured_interview", None, (1, 2, 3)),
    ProgrammeInstrument("销售推动力", "product_presentation", None, (1, 2, 3)),
    ProgrammeInstrument("资源整合力", "situational", 10, (5, 7, 8)),
    ProgrammeInstrument("资源整合力", "structured_interview", None, (1, 2, 3)),
    ProgrammeInstrument("资源整合力", "solution_presentation", None, (1, 2, 3)),
)


def instrument_code(text: str) -> str | None:
    """'situational', '情境模拟测验' or '情境' → 'situational'."""
    text = text.strip()
    for code, name in INSTRUMENTS.items():
        if text in (code, name) or (len(text) >= 2 and name.startswith(text)):
            return code
    return None


def programme_instrument(competency: str, instrument: str) -> ProgrammeInstrument | None:
    """The programme's instrument of a competency ('产品理解力', 'situational'), or None when it has none."""
    return next((p for p in PROGRAMME_INSTRUMENTS if (p.competency, p.instrument) == (competency, instrument)), None)


def level_for_score(score: int, cuts: tuple[int, ...]) -> int:
    """等级 reached: 0 (not yet 等级1), 1, 2 or 3 — the highest cut the score reaches."""
    return sum(1 for cut in cuts if score >= cut)
