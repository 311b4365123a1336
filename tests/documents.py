"""Real files in each format, made inside the tests with the tools that make them in a newsroom: PDFs by
reportlab (the STSong-Light CID font Chinese PDF producers use, one or two columns) and by Chromium's
print-to-PDF (Noto Sans CJK embedded), DOCX by python-docx. Nothing is checked in as a binary fixture."""
from __future__ import annotations

import io
from pathlib import Path

import docx
import pypdf
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer

from ui_helpers import CHROMIUM, CHROMIUM_ARGS

CID_FONT = "STSong-Light"


def reportlab_pdf(path: Path, title: str, paragraphs: list[str], *, columns: int = 1,
                  footer: str | None = None) -> Path:
    """A CJK PDF in reportlab's CID font, wrapped the CJK way, in one or more columns per page;
    ``footer`` (with ``{page}``) is drawn on every page as running page furniture."""
    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    body = ParagraphStyle("body", fontName=CID_FONT, fontSize=10.5, leading=17, wordWrap="CJK",
                          firstLineIndent=21 if columns == 1 else 0)
    head = ParagraphStyle("head", fontName=CID_FONT, fontSize=17, leading=24)
    width, height = A4
    gap, margin = 20, 56
    col = (width - 2 * margin - gap * (columns - 1)) / columns
    frames = [Frame(margin + i * (col + gap), margin, col, height - 2 * margin, id=f"c{i}") for i in range(columns)]

    def draw_footer(canvas, doc) -> None:  # noqa: ANN001 - reportlab's callback
        if footer:
            canvas.setFont(CID_FONT, 9)
            canvas.drawString(margin, 30, footer.format(page=doc.page))

    doc = BaseDocTemplate(str(path), pagesize=A4,
                          pageTemplates=[PageTemplate(frames=frames, onPage=draw_footer)])
    story = [Paragraph(title, head), Spacer(1, 10)]
    for text in paragraphs:
        story += [Paragraph(text, body), Spacer(1, 5)]
    doc.build(story)
    return path


def chromium_pdf(path: Path, title: str, paragraphs: list[str], *, columns: int = 1) -> Path:
    """The article as an HTML page printed to PDF by Debian's Chromium (Noto Sans CJK embedded)."""
    from playwright.sync_api import sync_playwright

    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (f"<!doctype html><html lang=zh-CN><head><meta charset=utf-8><style>"
            f"body{{font-family:'Noto Sans CJK SC';font-size:15px;line-height:1.7;margin:40px}}"
            f".cols{{column-count:{columns};column-gap:32px}} p{{text-indent:2em;margin:0 0 .6em}}"
            f"</style></head><body><h1>{title}</h1><div class=cols>{body}</div></body></html>")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_content(html)
        page.pdf(path=str(path), format="A4")
        browser.close()
    return path


def encrypted_pdf(source: Path, path: Path, *, user_password: str = "secret") -> Path:
    """``source`` encrypted with AES-256: a user password locks it, an empty one only restricts it."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="AES-256")
    with path.open("wb") as out:
        writer.write(out)
    return path


def word_docx(path: Path, title: str, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    """A Word document: a heading, the paragraphs, and a table after the first paragraph."""
    document = docx.Document()
    document.add_heading(title, level=1)
    for i, text in enumerate(paragraphs):
        document.add_paragraph(text)
        if i == 0 and table:
            grid = document.add_table(rows=len(table), cols=len(table[0]))
            for r, row in enumerate(table):
                for c, cell in enumerate(row):
                    grid.cell(r, c).text = cell
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path
