"""Zip bombs and floods of text: an archive-based document (docx, pptx; xlsx in quizzes/) is measured before any
library opens it — members' declared sizes and compression ratios, then the bytes it really inflates to,
streamed — and any file's text is capped. Refused with their own code and a Chinese reason, not 「文件已损坏」,
and the ingest stays within a bounded amount of memory (measured in a child process)."""

from __future__ import annotations

import io
import json
import resource
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ingest.extractors import ExtractionError, extract_document
from tests.support.documents import write_docx, write_pptx

ROOT = Path(__file__).resolve().parents[2]
_PARAGRAPH = b"<w:p><w:r><w:t>" + "晋级每半年评审一次。".encode() * 4 + b"</w:t></w:r></w:p>"
_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _write_bomb_docx(path: Path, *, expanded_mb: int) -> Path:
    """A real docx whose word/document.xml is `expanded_mb` MB of valid paragraphs, streamed into the archive
    (a few hundred KB on disk; nothing that size is ever held in memory here)."""
    template = path.with_suffix(".template.docx")
    write_docx(template, "炸弹", ["第一段"])
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                target.writestr(info, source.read(info))
        member = zipfile.ZipInfo("word/document.xml")
        member.compress_type = zipfile.ZIP_DEFLATED
        with target.open(member, "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document ' + _W + b"><w:body>")
            block = _PARAGRAPH * (1024 * 1024 // len(_PARAGRAPH))
            for _ in range(expanded_mb):
                fh.write(block)
            fh.write(b"</w:body></w:document>")
    template.unlink()
    return path


def _code(path: Path, **limits) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ExtractionError) as caught:
        extract_document(path, **limits)
    return caught.value.code, caught.value.message


def test_a_zip_bomb_docx_is_refused_as_too_large_when_expanded_not_as_corrupt(tmp_path):
    bomb = _write_bomb_docx(tmp_path / "炸弹.docx", expanded_mb=300)
    assert bomb.stat().st_size < 2 * 1024 * 1024  # small on disk
    code, message = _code(bomb)
    assert code == "expands_too_large"
    assert "解压" in message and "损坏" not in message


def test_members_declared_small_but_inflating_large_are_caught_while_streaming(tmp_path):
    """A forged header (declared 1 KB, really 40 MB) passes the declared-size check; the streamed count stops it."""
    path = _write_bomb_docx(tmp_path / "伪造.docx", expanded_mb=40)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("word/document.xml")
    _forge_uncompressed_size(data, info, 1024)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("word/document.xml").file_size == 1024  # what a reader is told
    code, message = _code(path)
    assert code == "expands_too_large"
    assert "实际" in message


def _forge_uncompressed_size(data: bytearray, info: zipfile.ZipInfo, size: int) -> None:
    """Rewrite a member's uncompressed size in the central directory, which is what zip readers believe."""
    name = info.filename.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            assert struct.unpack_from("<I", data, at + 24)[0] == info.file_size  # not zip64 at this size
            struct.pack_into("<I", data, at + 24, size)
            return
        at = data.find(b"PK\x01\x02", at + 46)
    raise AssertionError("member not found")


def test_too_many_members_are_refused(tmp_path):
    path = tmp_path / "很多部件.pptx"
    write_pptx(path, [("标题", "正文")])
    with zipfile.ZipFile(path, "a") as archive:
        for number in range(20_001):
            archive.writestr(f"ppt/media/x{number}.bin", b"")
    code, message = _code(path)
    assert code == "expands_too_large" and "20" in message


def test_a_high_compression_ratio_alone_is_refused_before_inflating(tmp_path):
    path = _write_bomb_docx(tmp_path / "高压缩比.docx", expanded_mb=20)  # under the total cap, ratio ~ 1000:1
    code, message = _code(path)
    assert code == "expands_too_large" and "压缩比" in message


def test_ordinary_documents_still_read(tmp_path):
    docx_path = write_docx(tmp_path / "流程.docx", "晋级流程", ["逐级晋级,不得跨级。"] * 200)
    pptx_path = write_pptx(tmp_path / "课.pptx", [("谈判", "让步要分成几小步。")] * 30)
    assert "不得跨级" in extract_document(docx_path).sections[-1].text
    assert extract_document(pptx_path).sections[0].heading == "谈判"


def test_any_file_yielding_too_much_text_is_refused(tmp_path):
    path = tmp_path / "长.txt"
    path.write_text("客户经理晋级每半年评审一次。\n" * 1000, encoding="utf-8")
    code, message = _code(path, max_text_chars=5_000)
    assert code == "too_much_text" and "5000" in message.replace(",", "")
    assert extract_document(path, max_text_chars=100_000).sections


_CHILD = """
import json, resource, sys
from pathlib import Path
from ingest.extractors import ExtractionError, extract_document
try:
    extract_document(Path(sys.argv[1]))
    outcome = "read"
except ExtractionError as exc:
    outcome = exc.code
print(json.dumps({"outcome": outcome, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _limit_memory() -> None:
    cap = 1536 * 1024 * 1024  # a runaway child fails here instead of taking the machine down
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


@pytest.mark.slow
def test_ingesting_a_bomb_keeps_memory_bounded(tmp_path):
    bomb = _write_bomb_docx(tmp_path / "炸弹.docx", expanded_mb=1024)  # 1 GB of XML, ~1 MB on disk
    baseline = _run_child(write_docx(tmp_path / "普通.docx", "普通", ["一段文字"]))
    measured = _run_child(bomb)
    assert baseline["outcome"] == "read"
    assert measured["outcome"] == "expands_too_large"
    assert measured["peak_mb"] < baseline["peak_mb"] + 64, (baseline, measured)


def _run_child(path: Path) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
