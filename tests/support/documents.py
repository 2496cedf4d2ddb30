"""Real files of every format we claim to read, written with the real libraries (for integration tests)."""

from __future__ import annotations

from pathlib import Path

import docx
from pptx import Presentation
from pptx.util import Inches
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas


def write_docx(path: Path, title: str, paragraphs: list[str]) -> Path:
    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


def write_pptx(path: Path, slides: list[tuple[str, str]]) -> Path:
    presentation = Presentation()
    for title, body in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    presentation.slide_width = Inches(10)
    presentation.save(str(path))
    return path


def write_pdf(path: Path, pages: list[str], *, password: str | None = None) -> Path:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path), pagesize=A4, encrypt=password)
    for text in pages:
        pdf.setFont("STSong-Light", 12)
        y = 800
        for line in [text[i : i + 30] for i in range(0, len(text), 30)]:
            pdf.drawString(40, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return path
