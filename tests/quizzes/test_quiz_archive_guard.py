"""An Excel quiz file is a zip archive too: a zip bomb is refused before openpyxl opens it, with a located
Chinese reason, and nothing is published."""

from __future__ import annotations

import zipfile
from pathlib import Path

from quizzes.formats.excel import write_template
from quizzes.loading import load_quiz_file


def _add_bomb(path: Path, *, megabytes: int, name: str = "xl/media/image1.bin") -> Path:
    """Stream `megabytes` MB of zeros into one deflated member (~1 KB per MB on disk)."""
    member = zipfile.ZipInfo(name)
    member.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "a") as archive, archive.open(member, "w", force_zip64=True) as fh:
        block = bytes(1024 * 1024)
        for _ in range(megabytes):
            fh.write(block)
    return path


def test_a_zip_bomb_workbook_is_refused_before_opening(tmp_path):
    path = _add_bomb(write_template(tmp_path / "题库.xlsx"), megabytes=300)
    assert path.stat().st_size < 1024 * 1024
    loaded = load_quiz_file(path)
    assert not loaded.ok
    messages = [f"{p.location} {p.message}" for p in loaded.result.errors]
    assert any("题库.xlsx" in m and "解压" in m and "压缩炸弹" in m for m in messages), messages


def test_a_member_compressed_a_thousand_to_one_is_refused_even_under_the_total_cap(tmp_path):
    path = _add_bomb(write_template(tmp_path / "题库.xlsx"), megabytes=20)
    loaded = load_quiz_file(path)
    assert not loaded.ok and any("压缩比" in p.message for p in loaded.result.errors)


def test_the_template_still_loads(tmp_path):
    assert load_quiz_file(write_template(tmp_path / "模板.xlsx")).ok
