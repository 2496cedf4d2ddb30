"""Tests for ingest.extractors, using real files generated with the real libraries."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pptx
import pytest
from pptx.util import Inches
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from ingest.extractors import (
    SUPPORTED_EXTENSIONS,
    CorruptFile,
    EmptyFile,
    EncryptedFile,
    ExtractedDocument,
    ExtractionError,
    FileTooLarge,
    UnsupportedFormat,
    extract_document,
)

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _all_text(doc: ExtractedDocument) -> str:
    """Headings and texts of every section, one per line."""
    return "\n".join(f"{s.heading or ''}\n{s.text}" for s in doc.sections)


def _make_pptx(path: Path) -> Path:
    """Three slides with titles and bodies; speaker notes on the second."""
    prs = pptx.Presentation()
    layout = prs.slide_layouts[1]  # Title and Content
    contents = [
        ("客户经理晋级流程", "第一步：提交申请"),
        ("考核标准", "业绩达标\n客户满意度不低于90%"),
        ("常见问题", "晋级失败可在三个月后重新申请"),
    ]
    for number, (title, body) in enumerate(contents, start=1):
        slide = prs.slides.add_slide(layout)
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if number == 2:
            slide.notes_slide.notes_text_frame.text = "讲解时强调满意度口径"
        if number == 3:
            box = slide.shapes.add_textbox(Inches(1), Inches(6), Inches(4), Inches(1))
            box.text_frame.text = "联系人：培训部"
    prs.save(str(path))
    return path


def _make_pdf(path: Path, pages: list[str], *, title: str | None = None, encrypt: str | None = None) -> Path:
    """A PDF with one line of STSong-Light text per page."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path), encrypt=encrypt)
    if title:
        pdf.setTitle(title)
    for line in pages:
        pdf.setFont("STSong-Light", 14)
        pdf.drawString(72, 720, line)
        pdf.showPage()
    pdf.save()
    return path


def test_supported_extensions() -> None:
    assert {".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf", ".pptx"} == SUPPORTED_EXTENSIONS


def test_docx_headings_paragraphs_and_table(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("本手册适用于全体客户经理。")
    document.add_heading("客户经理晋级流程", level=1)
    document.add_paragraph("晋级每年评审两次。")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "级别"
    table.cell(0, 1).text = "要求"
    table.cell(1, 0).text = "高级客户经理"
    table.cell(1, 1).text = "年度业绩前20%"
    document.add_heading("考核标准", level=2)
    document.add_paragraph("满意度不低于90%。")
    path = tmp_path / "手册.docx"
    document.save(str(path))

    doc = extract_document(path)

    assert doc.path == path
    assert doc.title == "客户经理晋级流程"  # no core title set → first heading
    assert [s.heading for s in doc.sections] == [None, "客户经理晋级流程", "考核标准"]
    intro, promotion, criteria = doc.sections
    assert intro.text == "本手册适用于全体客户经理。"
    expected = ["晋级每年评审两次。", "| 级别 | 要求 |", "|---|---|", "| 高级客户经理 | 年度业绩前20% |"]
    assert promotion.text.splitlines() == expected
    assert criteria.text == "满意度不低于90%。"
    assert all(s.page is None for s in doc.sections)


def test_docx_core_title_wins(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "晋级管理办法"
    document.add_paragraph("正文内容")
    path = tmp_path / "a.docx"
    document.save(str(path))
    doc = extract_document(path)
    assert doc.title == "晋级管理办法"
    assert doc.sections[0].heading is None


def test_pptx_slides_titles_pages_and_notes(tmp_path: Path) -> None:
    doc = extract_document(_make_pptx(tmp_path / "培训.pptx"))

    assert doc.title == "客户经理晋级流程"
    assert [s.heading for s in doc.sections] == ["客户经理晋级流程", "考核标准", "常见问题"]
    assert [s.page for s in doc.sections] == [1, 2, 3]
    assert doc.sections[0].text == "第一步：提交申请"
    expected = ["业绩达标", "客户满意度不低于90%", "备注:", "讲解时强调满意度口径"]
    assert doc.sections[1].text.splitlines() == expected
    assert "备注" not in doc.sections[0].text
    assert "联系人：培训部" in doc.sections[2].text
    assert "常见问题" not in doc.sections[2].text  # the title is the heading, not repeated in the text


def test_pdf_chinese_pages_and_metadata_title(tmp_path: Path) -> None:
    # Observed: pypdf 7.1 extracts reportlab's STSong-Light (UniGB-UCS2-H) text as proper Unicode.
    path = _make_pdf(
        tmp_path / "规则.pdf", ["客户经理晋级流程 Step 1", "第二页：考核标准与积分规则"], title="客户经理手册"
    )
    doc = extract_document(path)

    assert doc.title == "客户经理手册"
    assert [s.page for s in doc.sections] == [1, 2]
    assert doc.sections[0].text == "客户经理晋级流程 Step 1"
    assert doc.sections[1].text == "第二页：考核标准与积分规则"
    assert all(s.heading is None for s in doc.sections)


def test_pdf_skips_blank_pages_and_ignores_default_title(tmp_path: Path) -> None:
    path = _make_pdf(tmp_path / "blank.pdf", ["第一页内容", "", "第三页内容"])
    doc = extract_document(path)
    assert doc.title == "blank"  # reportlab's default "untitled" is not a real title
    assert [s.page for s in doc.sections] == [1, 3]


def test_pdf_with_password_is_encrypted(tmp_path: Path) -> None:
    path = _make_pdf(tmp_path / "secret.pdf", ["机密内容"], encrypt="secret")
    with pytest.raises(EncryptedFile) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "encrypted")


def test_html_gbk_drops_chrome_and_splits_at_headings(tmp_path: Path) -> None:
    html = """<!DOCTYPE html>
<html><head><meta charset="gbk"><title>晋级指南</title>
<style>.x { color: red }</style><script>var secret = "脚本内容";</script></head>
<body>
<nav>首页 | 导航菜单</nav>
<header>页眉文字</header>
<p>前言：本页面介绍<b>晋级</b>规则。</p>
<h1>客户经理晋级流程</h1>
<p>第一步：提交申请。</p>
<ul><li>材料一</li><li>材料二</li></ul>
<h2>考核标准</h2>
<div>满意度不低于90%。<!-- 注释不应出现 --></div>
<footer>版权所有</footer>
</body></html>"""
    path = tmp_path / "guide.html"
    path.write_bytes(html.encode("gbk"))

    doc = extract_document(path)

    assert doc.title == "晋级指南"
    assert [s.heading for s in doc.sections] == [None, "客户经理晋级流程", "考核标准"]
    assert doc.sections[0].text == "前言：本页面介绍晋级规则。"
    assert doc.sections[1].text.splitlines() == [
        "第一步：提交申请。",
        "- 材料一",
        "- 材料二",
    ]  # list items keep a marker
    assert doc.sections[2].text == "满意度不低于90%。"
    text = _all_text(doc)
    for unwanted in ("脚本内容", "color", "导航菜单", "页眉文字", "版权所有", "注释不应出现"):
        assert unwanted not in text


def test_html_title_falls_back_to_first_h1(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text("<html><body><h1>积分规则</h1><p>每月结算。</p></body></html>", encoding="utf-8")
    doc = extract_document(path)
    assert doc.title == "积分规则"
    assert doc.sections[0].text == "每月结算。"


def test_html_declared_gb2312_with_gbk_only_characters(tmp_path: Path) -> None:
    # "镕" exists in GBK but not in GB2312; pages labelled gb2312 routinely contain such characters.
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
    html += "<body><p>朱镕基 讲话</p></body></html>"
    path = tmp_path / "old.html"
    path.write_bytes(html.encode("gbk"))
    assert extract_document(path).sections[0].text == "朱镕基 讲话"


def test_markdown_sections(tmp_path: Path) -> None:
    text = (
        "导言段落\n\n# 客户经理晋级流程\n第一步\n\n## 考核标准\n满意度\n#### 细则\n不拆分\n"
        "```\n# 代码里的井号不是标题\n```\n### 常见问题 ###\n答疑\n"
    )
    path = tmp_path / "notes.md"
    path.write_text(text, encoding="utf-8")

    doc = extract_document(path)

    assert doc.title == "客户经理晋级流程"
    assert [s.heading for s in doc.sections] == [None, "客户经理晋级流程", "考核标准", "常见问题"]
    assert doc.sections[1].text == "第一步"
    assert "#### 细则" in doc.sections[2].text
    assert "# 代码里的井号不是标题" in doc.sections[2].text
    assert doc.sections[3].text == "答疑"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_txt_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "说明.txt"
    path.write_bytes("客户经理晋级流程\r\n每年两次评审。".encode(encoding))
    doc = extract_document(path)
    assert doc.title == "说明"
    assert doc.sections == (doc.sections[0],)
    assert doc.sections[0].heading is None
    assert doc.sections[0].text == "客户经理晋级流程\n每年两次评审。"


def _assert_chinese_error(error: ExtractionError, code: str) -> None:
    """The error carries the expected code and a non-empty Chinese message."""
    assert error.code == code
    assert error.message
    assert CHINESE.search(error.message)
    assert str(error) == error.message


def test_corrupt_docx(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(CorruptFile) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "corrupt")
    assert info.value.__cause__ is not None


def test_truncated_pptx(tmp_path: Path) -> None:
    real = _make_pptx(tmp_path / "real.pptx")
    path = tmp_path / "truncated.pptx"
    path.write_bytes(real.read_bytes()[:200])
    with pytest.raises(CorruptFile) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "corrupt")


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 4)
    with pytest.raises(CorruptFile) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "corrupt")


def test_undecodable_txt_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "binary.txt"
    path.write_bytes(b"\xff\xff\xff\x80\x81\xff")
    with pytest.raises(CorruptFile) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "corrupt")


@pytest.mark.parametrize("name", ["locked.docx", "locked.pptx"])
def test_ole_office_file_is_encrypted(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(EncryptedFile) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "encrypted")


def test_empty_txt(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(EmptyFile) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "empty")


def test_whitespace_only_markdown(tmp_path: Path) -> None:
    path = tmp_path / "blank.md"
    path.write_text("  \n\n\t\u3000\n", encoding="utf-8")  # includes a full-width space
    with pytest.raises(EmptyFile) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "empty")


def test_docx_without_text_is_empty(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("   ")
    path = tmp_path / "blank.docx"
    document.save(str(path))
    with pytest.raises(EmptyFile):
        extract_document(path)


def test_oversize_file(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("客户经理晋级流程", encoding="utf-8")
    with pytest.raises(FileTooLarge) as info:
        extract_document(path, max_bytes=10)
    _assert_chinese_error(info.value, "too_large")
    assert "MB" in info.value.message


def test_unsupported_extension(tmp_path: Path) -> None:
    path = tmp_path / "data.xyz"
    path.write_text("内容", encoding="utf-8")
    with pytest.raises(UnsupportedFormat) as info:
        extract_document(path)
    _assert_chinese_error(info.value, "unsupported_format")


def test_extension_is_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "README.TXT"
    path.write_text("客户经理", encoding="utf-8")
    assert extract_document(path).sections[0].text == "客户经理"


def test_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(CorruptFile) as info:
        extract_document(tmp_path / "nope.pdf")
    _assert_chinese_error(info.value, "corrupt")
