"""Every format to text, on real files made here: the words come out whole, in reading order, and the
cleaned text (what quotes are checked against) holds each paragraph verbatim."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from bot.clean import load_document
from bot.parse import CleanError, decode
from bot.config import ROOT
from documents import chromium_pdf, encrypted_pdf, reportlab_pdf, word_docx

ARTICLES = ROOT / "store" / "articles"
TITLE = "云帆科技发布年度研发报告"
CITIES = ["杭州", "成都", "武汉", "西安", "长沙", "合肥", "南京", "青岛", "厦门", "昆明", "贵阳", "沈阳"]
PARAGRAPHS = [
    "云帆科技于2024年3月在杭州发布了年度研发报告，报告显示公司全年研发投入达到12.6亿元，同比增长18.5%，占营业收入的比重首次超过两成。",
    "首席技术官林晓峰表示，下一阶段的重点是把模型部署到边缘设备上，让县级融媒体中心也能在本地完成稿件的自动校对和摘要生成。",
] + [f"在{c}举行的第{i + 2}场区域交流会上，{37 * len(c) + i}家媒体机构的技术负责人交流了稿件校对、数据核查和长视频摘要的"
     f"经验，会议还发布了《{c}融媒体技术白皮书》第{i + 1}版。" for i, c in enumerate(CITIES)]


def assert_article(path: Path) -> None:
    """Title on its own, every paragraph verbatim and in order, nothing else glued to them."""
    doc = load_document(path)
    assert doc.title == TITLE, doc.text[:200]
    positions = [doc.text.find(p) for p in PARAGRAPHS]
    assert -1 not in positions, doc.text
    assert positions == sorted(positions), "reading order lost"
    assert doc.text.split("\n\n")[0] == TITLE


@pytest.mark.parametrize("columns", [1, 2])
def test_reportlab_cid_font_pdf(tmp_path: Path, columns: int) -> None:
    assert_article(reportlab_pdf(tmp_path / "report.pdf", TITLE, PARAGRAPHS, columns=columns))


@pytest.mark.parametrize("columns", [1, 2])
def test_chromium_pdf_radicals_become_ideographs(tmp_path: Path, columns: int) -> None:
    """Chromium's PDF maps 月 to ⽉ (KANGXI RADICAL MOON) and 长 to ⻓: read back as the ideographs."""
    path = chromium_pdf(tmp_path / "printed.pdf", TITLE, PARAGRAPHS, columns=columns)
    assert_article(path)
    text = load_document(path).text
    assert not any("\u2e80" <= ch <= "\u2fdf" for ch in text)


def test_running_footer_is_dropped_from_a_pdf(tmp_path: Path) -> None:
    paragraphs = [f"{p[:-1]}（第{n}轮）。" for n in range(4) for p in PARAGRAPHS]  # three pages
    path = reportlab_pdf(tmp_path / "paged.pdf", TITLE, paragraphs, footer="云帆科技内部资料  第{page}页")
    doc = load_document(path)
    assert "内部资料" not in doc.text
    assert all(p in doc.text for p in paragraphs)


def test_encrypted_pdf_is_refused_and_an_owner_only_one_opens(tmp_path: Path) -> None:
    plain = reportlab_pdf(tmp_path / "plain.pdf", TITLE, PARAGRAPHS)
    with pytest.raises(CleanError, match="加密"):
        load_document(encrypted_pdf(plain, tmp_path / "locked.pdf"))
    assert_article(encrypted_pdf(plain, tmp_path / "restricted.pdf", user_password=""))


def test_docx_paragraphs_and_table_in_document_order(tmp_path: Path) -> None:
    path = word_docx(tmp_path / "report.docx", TITLE, PARAGRAPHS, table=[["年份", "研发投入"], ["2024", "12.6亿元"]])
    assert_article(path)
    text = load_document(path).text
    assert text.index(PARAGRAPHS[0]) < text.index("2024 | 12.6亿元") < text.index(PARAGRAPHS[1])


def test_html_page_without_navigation_ads_related_links_or_footer(tmp_path: Path) -> None:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    page = (f"<!doctype html><html><head><meta charset=gbk><title>{TITLE}_科技频道_某某网</title>"
            f"<script>var ad = '<p>广告</p>';</script></head><body>"
            f"<div class=nav><a href=/>首页</a> | <a href=/tech>科技</a> | <a href=/login>登录</a></div>"
            f"<div class=ad>热门推荐：<a href=#>点击领取优惠券</a></div>"
            f"<article><h1>{TITLE}</h1>{body}</article>"
            f"<div class=related><h3>相关阅读</h3><ul><li><a href=#>云帆科技去年营收创新高</a></li></ul></div>"
            f"<div class=footer>版权所有 &copy; 2024 某某网 All Rights Reserved</div></body></html>")
    path = tmp_path / "page.html"
    path.write_bytes(page.encode("gbk"))  # a GBK page, as many Chinese sites still are
    assert_article(path)
    text = load_document(path).text
    for junk in ("<", "首页", "优惠券", "相关阅读", "营收创新高", "版权所有", "广告"):
        assert junk not in text, junk


def test_markdown_to_the_text_a_reader_sees(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    wrapped = PARAGRAPHS[1][:30] + "\n" + PARAGRAPHS[1][30:]  # a source line break inside a paragraph
    path.write_text(f"# {TITLE}\n\n{PARAGRAPHS[0].replace('12.6亿元', '**12.6亿元**')}\n\n{wrapped}\n\n"
                    + "\n\n".join(f"- {p}" for p in PARAGRAPHS[2:]) + "\n\n[原文链接](https://example.com)\n",
                    encoding="utf-8")
    assert_article(path)
    text = load_document(path).text
    assert "**" not in text and "https://" not in text and "原文链接" in text


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("fake.pdf", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "PDF"),
    ("fake.docx", b"PK\x03\x04 not really a zip" * 10, "DOCX"),
    ("scan.pdf", None, "没有可提取的文字"),
])
def test_files_that_are_not_what_their_name_says(tmp_path: Path, name: str, data: bytes | None, reason: str) -> None:
    path = tmp_path / name
    if data is None:  # a PDF page with no text on it, like a scan without OCR
        reportlab_pdf(path, "", [])
    else:
        path.write_bytes(data)
    with pytest.raises(CleanError, match=reason):
        load_document(path)


def test_a_zip_renamed_docx_is_not_a_document(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "这不是 Word 文档。")
    with pytest.raises(CleanError, match="DOCX"):
        load_document(path)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-8-sig", "utf-16-le", "utf-16-be"])
def test_decodes_chinese_encodings(encoding: str) -> None:
    text = "算力是数字经济的底座。"
    assert decode(text.encode(encoding)) == text


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8"])
def test_real_articles_are_never_taken_for_utf16_without_bom(encoding: str) -> None:
    """Read as UTF-16, GBK and UTF-8 bytes give Hangul and private-use characters: never accepted."""
    for path in sorted(ARTICLES.glob("*.txt")):
        raw = path.read_text(encoding="utf-8").encode(encoding, errors="replace")  # GBK lacks a few characters
        assert decode(raw) == raw.decode(encoding), path.name
