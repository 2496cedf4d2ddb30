"""The competency radar: a learner's 等级 per competency against the target profile of a job level.

Target profiles (scale 0–3, the same axis as 等级):

- 中级 comes from the domain notes, which give the intermediate profile per *sub-competency* in stars.
  A competency's target is the mean of its sub-competencies' stars, rounded half up (2.5 → 3);
  sub-competencies rated only 合格 (pass/fail, e.g. 其它知识) carry no stars and are left out of the mean.
  价值创造力 is given directly (3 stars).
  产品理解力 (3, 2, 1, 1) → 1.75 → 2; 客户洞察力 (3, 3, 2) → 2.67 → 3; 销售推动力 (1, 2, 2, 2) → 1.75 → 2;
  资源整合力 (3, 1, 3, 3) → 2.5 → 3; 价值创造力 → 3.
- 初级 is one star below 中级 on every axis, never below 1; 高级 one star above, capped at 3.
  The sources give no junior or senior profile, so these are a documented project choice.

The chart is drawn on a bare `Figure` with the Agg canvas (no pyplot, no rcParams changes); every
Chinese text gets the Noto Sans CJK font from the `cvttf-NotoSansCJK-Regular` package, loaded by path.
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import cast

from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.projections.polar import PolarAxes

from quizzes.competency import VALUE_CREATION

JOB_COMPETENCIES = ("产品理解力", "客户洞察力", "销售推动力", "资源整合力")
RADAR_AXES = (*JOB_COMPETENCIES, VALUE_CREATION)
MAX_LEVEL = 3

# The intermediate profile from the domain notes, per sub-competency; None marks a 合格 (pass/fail) rating.
INTERMEDIATE_SUBCOMPETENCY_STARS: dict[str, dict[str, int | None]] = {
    "产品理解力": {"产品知识": 3, "解决方案的理解与应用": 2, "行业知识": 1, "信息化管理知识": 1, "其它知识": None},
    "客户洞察力": {"信息收集": 3, "分析思维": 3, "挖掘需求与发现商机": 2},
    "销售推动力": {"顾问式销售技巧": 1, "说服影响力": 2, "商务谈判技巧": 2, "计划与项目管理": 2},
    "资源整合力": {"团队协作": 3, "指导他人": 1, "组织敏感": 3, "关系能力": 3},
}
INTERMEDIATE_VALUE_CREATION_STARS = 3

FONT_PACKAGE = "cvttf_NotoSansCJK_Regular"
FIGURE_INCHES = 6
FIGURE_DPI = 100  # 6 in × 100 dpi = 600 × 600 px
MISSING_MARK = "(未完成)"  # as the text record says of a competency without a level


def rounded_mean_of_stars(stars: Iterable[int | None]) -> int:
    """The mean of the star ratings, rounded half up; 合格-only entries (None) are left out."""
    rated = [s for s in stars if s is not None]
    if not rated:
        raise ValueError("no star ratings to average")
    return math.floor(Fraction(sum(rated), len(rated)) + Fraction(1, 2))


def _intermediate_profile() -> dict[str, int]:
    profile = {
        competency: rounded_mean_of_stars(stars.values())
        for competency, stars in INTERMEDIATE_SUBCOMPETENCY_STARS.items()
    }
    profile[VALUE_CREATION] = INTERMEDIATE_VALUE_CREATION_STARS
    return profile


_INTERMEDIATE = _intermediate_profile()
TARGET_PROFILES: dict[str, dict[str, int]] = {
    "初级": {axis: max(1, stars - 1) for axis, stars in _INTERMEDIATE.items()},
    "中级": _INTERMEDIATE,
    "高级": {axis: min(MAX_LEVEL, stars + 1) for axis, stars in _INTERMEDIATE.items()},
}


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Where the bundled Noto Sans CJK font file is (found without importing the package)."""
    spec = importlib.util.find_spec(FONT_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        for path in sorted(Path(folder).iterdir()):
            if path.suffix.lower() in (".otf", ".ttf", ".ttc"):
                return path
    raise FileNotFoundError(
        f"the Chinese font is missing: install the package cvttf-NotoSansCJK-Regular (module {FONT_PACKAGE})"
    )


def cjk_font(size: float) -> FontProperties:
    return FontProperties(fname=str(cjk_font_path()), size=size)


def radar_title(*, learner_name: str, target_level: str) -> str:
    return f"{learner_name} · 能力雷达(目标:{target_level})"


def _checked_levels(levels: Mapping[str, int | None]) -> dict[str, int | None]:
    unknown = sorted(set(levels) - set(RADAR_AXES))
    if unknown:
        raise ValueError(f"unknown competencies {unknown}; the radar shows {list(RADAR_AXES)}")
    for axis, level in levels.items():
        if level is not None and (isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 3):
            raise ValueError(f"{axis}: 等级 must be 0–3 or None, not {level!r}")
    return {axis: levels.get(axis) for axis in RADAR_AXES}


def render_radar_png(*, learner_name: str, levels: Mapping[str, int | None], target_level: str) -> bytes:
    """A 600×600 PNG radar of the learner's 等级 (missing ones drawn as 0 and marked) against the target."""
    figure = draw_radar(learner_name=learner_name, levels=levels, target_level=target_level)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI, metadata={"Software": None})
    return buffer.getvalue()


def draw_radar(*, learner_name: str, levels: Mapping[str, int | None], target_level: str) -> Figure:
    """The radar's figure (on its own Agg canvas), before it is saved."""
    if target_level not in TARGET_PROFILES:
        raise ValueError(f"unknown job level {target_level!r}; expected one of {list(TARGET_PROFILES)}")
    current = _checked_levels(levels)
    target = TARGET_PROFILES[target_level]
    missing = [axis for axis, level in current.items() if level is None]

    angles = [2 * math.pi * i / len(RADAR_AXES) for i in range(len(RADAR_AXES))]
    closed_angles = [*angles, angles[0]]
    current_values = [current[axis] or 0 for axis in RADAR_AXES]
    target_values = [target[axis] for axis in RADAR_AXES]

    figure = Figure(figsize=(FIGURE_INCHES, FIGURE_INCHES), dpi=FIGURE_DPI)
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.19, right=0.81, bottom=0.08, top=0.8)
    ax = cast(PolarAxes, figure.add_subplot(projection="polar"))
    ax.set_theta_offset(math.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_ylim(0, MAX_LEVEL)
    ax.set_rorigin(-0.5)  # 等级0 is a small ring, so missing axes stay apart instead of meeting in one point

    ax.plot(closed_angles, [*target_values, target_values[0]], color="#d9822b", linewidth=2, linestyle="--")
    ax.fill(closed_angles, [*target_values, target_values[0]], color="#d9822b", alpha=0.12)
    ax.plot(closed_angles, [*current_values, current_values[0]], color="#1f6fb2", linewidth=2, marker="o")
    ax.fill(closed_angles, [*current_values, current_values[0]], color="#1f6fb2", alpha=0.25)
    handles: list[Artist] = [ax.lines[1], ax.lines[0]]
    labels = ["当前", "目标"]
    if missing:
        missing_angles = [angles[RADAR_AXES.index(axis)] for axis in missing]
        handles.append(ax.scatter(missing_angles, [0] * len(missing), marker="X", s=90, color="#c0392b", zorder=5))
        labels.append("未完成(按0绘制)")

    tick_font = cjk_font(12)
    ax.set_xticks(angles, [axis + ("\n" + MISSING_MARK if axis in missing else "") for axis in RADAR_AXES])
    for label, axis, angle in zip(ax.get_xticklabels(), RADAR_AXES, angles, strict=True):
        label.set_fontproperties(tick_font)
        side = math.sin(angle)  # clockwise from the top: > 0 on the right half, < 0 on the left
        label.set_horizontalalignment("center" if abs(side) < 0.1 else "left" if side > 0 else "right")
        if axis in missing:
            label.set_color("#c0392b")
    # The ring labels are texts of their own, above every line on an opaque box: as tick labels they were drawn
    # under the profiles, and the ring and the target line ran through 「等级2」.
    ax.set_yticks(range(1, MAX_LEVEL + 1), [""] * MAX_LEVEL)
    label_angle = math.pi / len(RADAR_AXES)  # halfway between the first two axes
    for n in range(1, MAX_LEVEL + 1):
        ax.text(
            label_angle,
            n,
            f"等级{n}",
            fontproperties=cjk_font(8),
            color="#666666",
            ha="center",
            va="center",
            zorder=10,
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"},
        )
    ax.tick_params(axis="x", pad=6)

    figure.suptitle(radar_title(learner_name=learner_name, target_level=target_level), fontproperties=cjk_font(15))
    figure.legend(handles, labels, prop=cjk_font(11), loc="upper center", bbox_to_anchor=(0.5, 0.93), ncols=3)

    return figure
