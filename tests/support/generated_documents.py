"""Long generated documents for ingest tests and benches: many sections, each about one passage long, each with
a marker of its own (「标记 K0007」) so a search can tell which passages of the document are searchable."""

from __future__ import annotations

import random
from pathlib import Path

_SUBJECTS = ("客户经理", "支行", "营业厅", "政企客户", "团队主管", "培训师", "柜员", "理财顾问")
_ACTIONS = ("回访", "登记", "复核", "上报", "讲解", "演示", "核对", "跟进", "整理", "归档")
_OBJECTS = ("投诉工单", "贷款申请", "宽带套餐", "信用卡额度", "合同条款", "客户档案", "营销方案", "满意度问卷")
_WHEN = ("当天", "次日上午", "三个工作日内", "每周一", "月底前", "季度末", "受理后两小时内", "签约前")


def marker(section: int) -> str:
    """The marker word of a section (a Latin-and-digit token the lexical index keeps whole)."""
    return f"K{section:04d}"


def section_text(section: int, *, rng: random.Random, sentences: int = 6) -> str:
    parts = [f"本节标记 {marker(section)}。"]
    for _ in range(sentences):
        parts.append(
            f"{rng.choice(_SUBJECTS)}应在{rng.choice(_WHEN)}{rng.choice(_ACTIONS)}{rng.choice(_OBJECTS)},"
            f"并把结果{rng.choice(_ACTIONS)}给{rng.choice(_SUBJECTS)}。"
        )
    return "".join(parts)


def write_long_markdown(path: Path, *, sections: int, seed: int = 13, title: str = "超长操作手册") -> Path:
    """A Markdown manual of `sections` sections of ~200 characters each (one passage each at chunk_chars 300)."""
    rng = random.Random(seed)
    lines = [f"# {title}", ""]
    for number in range(sections):
        lines += [f"## 第 {number + 1} 节 {rng.choice(_OBJECTS)}", "", section_text(number, rng=rng), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
