"""The competency radar: target profiles derived from the domain notes, a valid PNG, Chinese that renders."""

from __future__ import annotations

import ast
import io
import logging
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import matplotlib
import pytest
from fontTools.ttLib import TTFont
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

import certification.radar as radar
from certification.model import JOB_LEVELS
from certification.radar import (
    INTERMEDIATE_SUBCOMPETENCY_STARS,
    RADAR_AXES,
    TARGET_PROFILES,
    cjk_font_path,
    radar_title,
    render_radar_png,
    rounded_mean_of_stars,
)
from quizzes.competency import COMPETENCIES

SOME_MISSING = {"产品理解力": 2, "客户洞察力": 1, "销售推动力": None, "资源整合力": 3}  # 价值创造力 absent
ALL_TAKEN = {"产品理解力": 2, "客户洞察力": 3, "销售推动力": 1, "资源整合力": 2, "价值创造力": 2}
MISSING_RED = (0xC0, 0x39, 0x2B)


def _render_capturing(render: Callable[[], bytes], caplog: pytest.LogCaptureFixture) -> tuple[bytes, list[str]]:
    """Render, returning the PNG and every warning or matplotlib log line (WARNING and up) it caused."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="matplotlib"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render()
    problems = [str(w.message) for w in caught]
    problems += [r.getMessage() for r in caplog.records if r.name.startswith("matplotlib")]
    return png, problems


def _red_pixels(png: bytes) -> int:
    data = Image.open(io.BytesIO(png)).convert("RGB").tobytes()
    return sum(1 for i in range(0, len(data), 3) if all(abs(data[i + k] - MISSING_RED[k]) < 25 for k in range(3)))


# ---------------------------------------------------------------- target profiles


def test_intermediate_profile_is_the_rounded_mean_of_the_domain_stars():
    assert TARGET_PROFILES["中级"] == {
        "产品理解力": 2,
        "客户洞察力": 3,
        "销售推动力": 2,
        "资源整合力": 3,
        "价值创造力": 3,
    }


def test_junior_is_one_star_lower_and_senior_one_higher_within_1_to_3():
    assert TARGET_PROFILES["初级"] == {
        "产品理解力": 1,
        "客户洞察力": 2,
        "销售推动力": 1,
        "资源整合力": 2,
        "价值创造力": 2,
    }
    assert TARGET_PROFILES["高级"] == {
        "产品理解力": 3,
        "客户洞察力": 3,
        "销售推动力": 3,
        "资源整合力": 3,
        "价值创造力": 3,
    }
    assert tuple(TARGET_PROFILES) == JOB_LEVELS
    for profile in TARGET_PROFILES.values():
        assert tuple(profile) == RADAR_AXES
        assert all(1 <= stars <= 3 for stars in profile.values())


def test_the_star_table_uses_the_programme_sub_competency_names():
    for competency, stars in INTERMEDIATE_SUBCOMPETENCY_STARS.items():
        assert set(stars) == set(COMPETENCIES[competency]), competency
    assert INTERMEDIATE_SUBCOMPETENCY_STARS["产品理解力"]["其它知识"] is None  # 合格, not stars


def test_rounding_is_half_up_and_pass_fail_entries_are_left_out():
    assert rounded_mean_of_stars([3, 1, 3, 3]) == 3  # 2.5, where round() would give 2
    assert rounded_mean_of_stars([3, 2, 1, 1, None]) == 2  # 1.75
    assert rounded_mean_of_stars([1, 2]) == 2
    assert rounded_mean_of_stars([1, 1, 2]) == 1
    with pytest.raises(ValueError):
        rounded_mean_of_stars([None])


# ---------------------------------------------------------------- rendering


def test_png_is_valid_600_square_and_small():
    png = render_radar_png(learner_name="王小丽", levels=SOME_MISSING, target_level="中级")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.verify()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (600, 600)
    assert len(png) < 150_000


def test_chinese_labels_render_without_missing_glyph_warnings(caplog):
    for target in JOB_LEVELS:
        png, problems = _render_capturing(
            partial(render_radar_png, learner_name="欧阳晓慧", levels=SOME_MISSING, target_level=target), caplog
        )
        assert png
        assert problems == [], problems


def test_the_warning_capture_does_catch_a_missing_glyph(caplog):
    """Control: the same capture sees matplotlib's complaint when Chinese is drawn in its default font."""

    def render_in_default_font() -> bytes:
        figure = Figure(figsize=(2, 1), dpi=50)
        FigureCanvasAgg(figure)
        figure.text(0.1, 0.5, "产品理解力", fontfamily="DejaVu Sans")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()

    _, problems = _render_capturing(render_in_default_font, caplog)
    assert any("missing from font" in p for p in problems), problems


def test_the_bundled_font_has_every_character_the_chart_writes():
    texts = [radar_title(learner_name="王小丽", target_level=level) for level in JOB_LEVELS] + [
        *RADAR_AXES,
        radar.MISSING_MARK,
        "当前",
        "目标",
        "未完成(按0绘制)",
        "等级1",
        "等级2",
        "等级3",
    ]
    cmap = TTFont(str(cjk_font_path()), lazy=True).getBestCmap()
    absent = sorted({ch for text in texts for ch in text if ord(ch) not in cmap and not ch.isspace()})
    assert absent == []


def test_font_is_the_packaged_noto_sans_cjk():
    path = cjk_font_path()
    assert path.name == "NotoSansCJKtc-Regular.otf"
    assert path.parent.name == "cvttf_NotoSansCJK_Regular"


def test_title_names_learner_and_target():
    assert radar_title(learner_name="王小丽", target_level="中级") == "王小丽 · 能力雷达(目标:中级)"


def test_missing_levels_are_drawn_and_marked():
    with_missing = render_radar_png(learner_name="王小丽", levels=SOME_MISSING, target_level="中级")
    complete = render_radar_png(learner_name="王小丽", levels=ALL_TAKEN, target_level="中级")
    assert _red_pixels(with_missing) > 200  # the red X marks, red axis labels and legend entry
    assert _red_pixels(complete) == 0
    empty = render_radar_png(learner_name="新员工", levels={}, target_level="初级")
    assert _red_pixels(empty) > _red_pixels(with_missing)


def test_rendering_is_deterministic_and_depends_on_the_input():
    first = render_radar_png(learner_name="王小丽", levels=ALL_TAKEN, target_level="中级")
    assert render_radar_png(learner_name="王小丽", levels=ALL_TAKEN, target_level="中级") == first
    assert render_radar_png(learner_name="王小丽", levels=ALL_TAKEN, target_level="高级") != first


@pytest.mark.parametrize(
    ("levels", "target", "message"),
    [
        (ALL_TAKEN, "专家", "unknown job level"),
        ({"通用素质": 1}, "中级", "unknown competencies"),
        ({"产品理解力": 4}, "中级", "0–3"),
        ({"产品理解力": -1}, "中级", "0–3"),
        ({"产品理解力": True}, "中级", "0–3"),
        ({"产品理解力": 2.0}, "中级", "0–3"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(levels, target, message):
    with pytest.raises(ValueError, match=message):
        render_radar_png(learner_name="王小丽", levels=levels, target_level=target)


def test_no_pyplot_and_no_global_matplotlib_state():
    tree = ast.parse(Path(radar.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name if isinstance(node, ast.Import) else f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any("pyplot" in name for name in imported)
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not names & {"rcParams", "rc", "use", "rc_context", "pyplot", "plt"}
    before = dict.copy(matplotlib.rcParams)  # the raw values: reading "backend" by key would resolve it
    render_radar_png(learner_name="王小丽", levels=SOME_MISSING, target_level="中级")
    assert dict.copy(matplotlib.rcParams) == before


# ---------------------------------------------------------------- what a reader sees (issue 12)


def test_an_incomplete_competency_reads_like_the_text_record():
    """The /record text says 「未完成」 for a competency without a level (some results, or none): so does the chart."""
    figure = radar.draw_radar(learner_name="王小丽", levels=SOME_MISSING, target_level="中级")
    labels = [t.get_text() for ax in figure.axes for t in ax.get_xticklabels()]
    legend = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert "销售推动力\n(未完成)" in labels and "价值创造力\n(未完成)" in labels
    assert "未完成(按0绘制)" in legend
    assert not any("未测" in text for text in [*labels, *legend])


def test_no_line_runs_through_a_ring_label():
    """The 等级 labels sit on their rings: each is drawn above every line, on an opaque box, so neither the ring nor
    a profile crosses its characters (checked in the picture: no profile-coloured pixel inside a label)."""
    figure = radar.draw_radar(learner_name="王小丽", levels=ALL_TAKEN, target_level="中级")
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), bytes(canvas.buffer_rgba())).convert("RGB")
    ax = figure.axes[0]
    ring_labels = [t for t in [*ax.texts, *ax.get_yticklabels()] if t.get_text().startswith("等级")]
    assert sorted(t.get_text() for t in ring_labels) == ["等级1", "等级2", "等级3"]
    on_top = max(artist.get_zorder() for artist in [*ax.lines, *ax.collections, *ax.patches, ax.yaxis, ax.xaxis])
    colours = [(0xD9, 0x82, 0x2B), (0x1F, 0x6F, 0xB2)]  # the target and the current profile
    for label in ring_labels:
        box = label.get_bbox_patch()
        assert box is not None and box.get_facecolor()[3] == 1.0 and label.get_zorder() > on_top
        extent = label.get_window_extent()
        top, bottom = image.height - int(extent.y1) + 1, image.height - int(extent.y0) - 1
        data = image.crop((int(extent.x0) + 1, top, int(extent.x1) - 1, bottom)).tobytes()
        pixels = [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]
        crossing = [p for p in pixels for c in colours if all(abs(p[k] - c[k]) < 40 for k in range(3))]
        assert crossing == [], label.get_text()
