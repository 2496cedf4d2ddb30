"""A certification set must match its instrument in the competency model — items drawn and cut scores — or
it is refused with the reason; practice sets stay free."""

from __future__ import annotations

from pathlib import Path

from quizzes.loading import load_quiz_file


def _yaml(*, competency: str = "产品理解力", instrument: str = "情境模拟测验", mode: str = "certification",
          draw: int = 10, cuts: str = "[5, 7, 8]", questions: int = 12) -> str:  # fmt: skip
    lines = [
        "title: 认证测验",
        f"competency: {competency}",
        f"instrument: {instrument}",
        "level: 中级",
        f"mode: {mode}",
        f"draw: {draw}",
        f"cut_scores: {cuts}",
        "questions:",
    ]
    for n in range(questions):
        lines += [
            f"  - id: q{n}",
            f"    stem: 第{n}题",
            "    options:",
            "      - text: 对",
            "        correct: true",
            "      - text: 错",
        ]
    return "\n".join(lines) + "\n"


def _load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    return load_quiz_file(path)


def test_the_programmes_draw_and_cut_scores_publish(tmp_path):
    assert _load(tmp_path, _yaml()).ok
    assert _load(tmp_path, _yaml(competency="销售推动力", draw=15, cuts="[8, 10, 12]", questions=15)).ok


def test_draw_3_with_cuts_1_2_3_is_refused_for_a_certification(tmp_path):
    loaded = _load(tmp_path, _yaml(draw=3, cuts="[1, 2, 3]"))
    assert not loaded.ok
    messages = " ".join(p.message for p in loaded.result.errors)
    assert "10" in messages and "5/7/8" in messages


def test_other_cut_scores_are_refused(tmp_path):
    loaded = _load(tmp_path, _yaml(cuts="[4, 6, 8]"))
    assert not loaded.ok and any("5/7/8" in p.message for p in loaded.result.errors)


def test_an_instrument_the_competency_does_not_have_is_refused(tmp_path):
    loaded = _load(tmp_path, _yaml(competency="销售推动力", instrument="知识测验"))
    assert not loaded.ok and any("没有" in p.message for p in loaded.result.errors)
    general = _load(tmp_path, _yaml(competency="通用素质"))
    assert not general.ok


def test_practice_sets_may_draw_what_they_like(tmp_path):
    assert _load(tmp_path, _yaml(mode="practice", draw=3, cuts="[1, 2, 3]")).ok
