"""A file's bytes → its text, by format: TXT (UTF-8, GBK/GB18030, UTF-16), PDF, DOCX, HTML and Markdown.

Each format goes through a maintained parser (pypdf, python-docx, trafilatura, markdown-it-py) and comes
out as plain text with one paragraph per line or blank-line block; :func:`bot.clean.clean_text` then
removes page furniture. What these functions return is not yet what quotes are checked against — the
cleaned text is (``bot.clean.load_document``), so every format reaches the index and eval the same way.

Why pypdf and not pdfminer.six (measured on CJK PDFs made by reportlab with the STSong-Light CID font
and by Chromium's print-to-PDF with Noto Sans CJK, one and two columns): both decode every character
alike, but pdfminer's layout analysis reorders text — it put the right column of a two-column page
before the left, and interleaved the two columns of Chromium's page line by line — while pypdf keeps the
order the producer wrote, which is the reading order. pypdf was also 3-9x faster on the reportlab files.
"""
from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path


class CleanError(ValueError):
    """A file that cannot become an article (binary, undecodable, empty, encrypted…). The message names
    the reason, in Chinese, for the person who uploaded it."""


# --- plain text -----------------------------------------------------------------------------------------

def decode(raw: bytes) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 (with BOM, or without one when it reads cleanly), or
    GBK/GB18030; refuse binary data."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text[:4096]:
        return _not_binary(text)
    if (text := _utf16_without_bom(raw)) is not None:
        return text
    if b"\x00" in raw[:4096]:
        raise CleanError("看起来是二进制文件（含 NUL 字节），不是文本文章")
    try:
        return _not_binary(raw.decode("gb18030"))
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few damaged bytes (common in scraped pages): keep it, mark the damage.
    text = raw.decode("utf-8", errors="replace")
    if text.count("\ufffd") > max(10, len(text) // 50):
        raise CleanError("无法按 UTF-8、UTF-16 或 GB18030 解码")
    return text


def _not_binary(text: str) -> str:
    if _control_share(text) > 0.05:
        raise CleanError("看起来是二进制文件（控制字符过多），不是文本文章")
    return text


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 saved without a byte-order mark (some Windows tools do): taken when one byte order reads
    as at least 90% Chinese, ASCII and CJK punctuation with no control characters. GBK and UTF-8 bytes
    read that way give Hangul, Yi and private-use characters instead, so they are never mistaken."""
    if len(raw) < 2 or len(raw) % 2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        sample = text[:5000]
        plain = sum(1 for ch in sample if "\u3400" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                    or "\uff00" <= ch <= "\uffef" or ch in "\n\r\t“”‘’…—·" or " " <= ch <= "~")
        if plain >= 0.9 * len(sample) and _control_share(text) == 0:
            return text
    return None


def _control_share(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return bad / len(sample)


# --- PDF ------------------------------------------------------------------------------------------------

# PDF fonts map glyphs back to characters through their ToUnicode table, and CJK fonts share one glyph
# between an ideograph and its radical: Chromium's PDFs of Noto Sans CJK text say ⽉ (U+2F49, KANGXI
# RADICAL MOON) for 月 and ⻓ (U+2EE7) for 长. Kangxi radicals fold by NFKC; the CJK Radicals Supplement
# has no decomposition, so it is mapped by Unicode's EquivalentUnifiedIdeograph.txt (Unicode 15), made with
#   perl -CS -MUnicode::UCD=prop_invmap -e '…prop_invmap("Equivalent_Unified_Ideograph")…' over U+2E80–U+2EFF
_RADICALS = ("⺁⺂⺃⺄⺅⺆⺇⺈⺉⺊⺋⺌⺍⺎⺏⺐⺑⺒⺓⺔⺕⺖⺗⺘⺙⺛⺜⺝⺞⺟⺠⺡⺢⺣⺤⺥⺦⺧⺨⺩⺪⺫⺬⺭⺮⺯⺰⺱⺲⺳⺴⺵⺶⺷⺸⺹⺺⺻⺼⺽⺾⺿"
             "⻀⻁⻂⻃⻄⻅⻆⻇⻈⻉⻊⻋⻌⻍⻎⻏⻐⻑⻒⻓⻔⻕⻖⻗⻘⻙⻚⻛⻜⻝⻞⻟⻠⻡⻢⻣⻤⻥⻦⻧⻨⻩⻪⻫⻬⻭⻮⻯⻰⻱⻲⻳")
_IDEOGRAPHS = ("厂乛乚乙亻冂𠘨刀刂卜㔾小小兀尣尢𡯂巳幺彑彐忄心扌攵旡日月歺母民氵氺灬爫爫丬牛犭王𤴔目示礻𥫗糹纟罓罒㓁冗𦉫羊𦍌𦍋耂肀"
               "聿肉𦥑艹艹艹虎衤覀西见角𧢲讠贝𧾷车辶辶辶邑钅長镸长门𨸏阝雨青韦页风飞食𩙿飠饣𩠐马骨鬼鱼鸟卤麦黄黾斉齐歯齿竜龙龜亀龟")
_UNIFY = str.maketrans(dict(zip(_RADICALS, _IDEOGRAPHS, strict=True))
                       | {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in range(0x2F00, 0x2FD6)})
_LINE_END = "。！？!?；;…”’」』)）:："  # a line ending so ends its paragraph (bot.clean's sentence ends)
FULL_LINE = 0.85  # a line at least this share of the page's long lines is full: its paragraph goes on


def _width(line: str) -> int:
    """Display width: a CJK character takes two columns, a Latin one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _paragraphs(lines: list[str]) -> list[str]:
    """A page's lines → its paragraphs. PDF text is laid out in lines; a line that runs (nearly) the full
    width of the page's text and does not end a sentence continues in the next line. Measured on the
    page itself, so narrow columns join as well as full-width ones."""
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        return []
    widths = sorted(_width(line) for line in lines)
    full = FULL_LINE * widths[int(0.9 * (len(widths) - 1))]
    out, current = [], ""
    for line in lines:
        if current and re.match(r"[A-Za-z0-9]", line) and re.search(r"[A-Za-z0-9,.]$", current):
            current += " "  # a wrapped English phrase keeps its space
        current += line
        if line[-1] in _LINE_END or _width(line) < full:
            out.append(current)
            current = ""
    return out + ([current] if current else [])


def _running_lines(pages: list[list[str]]) -> set[str]:
    """Headers and footers: a first or last line that recurs, digits aside, on at least half the pages."""
    if len(pages) < 2:
        return set()
    counts: dict[str, int] = {}
    for lines in pages:
        ends = {re.sub(r"\d+", "#", line.strip()) for line in (lines[:1] + lines[-1:]) if line.strip()}
        for key in ends:
            counts[key] = counts.get(key, 0) + 1
    return {key for key, n in counts.items() if n >= max(2, len(pages) / 2)}


def pdf_text(raw: bytes) -> str:
    import pypdf

    try:
        reader = pypdf.PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):  # an owner password alone still opens
            raise CleanError("PDF 已加密（需要密码才能打开），请上传未加密的版本")
        pages = [(page.extract_text() or "").translate(_UNIFY).split("\n") for page in reader.pages]
    except CleanError:
        raise
    except Exception as err:  # noqa: BLE001 - a malformed file can fail anywhere inside the parser
        raise CleanError(f"不是可读取的 PDF 文件（{type(err).__name__}）") from err
    running = _running_lines(pages)
    kept = [[line for line in lines if re.sub(r"\d+", "#", line.strip()) not in running] for lines in pages]
    text = "\n\n".join(p for lines in kept for p in _paragraphs(lines))
    if not text.strip():
        raise CleanError("PDF 中没有可提取的文字（可能是扫描图片，需要先做文字识别）")
    return text


# --- DOCX -----------------------------------------------------------------------------------------------

def docx_text(raw: bytes) -> str:
    """Paragraphs and tables in document order (a table row's cells joined by " | ")."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as err:  # noqa: BLE001 - not a zip, a zip without Word parts, broken XML, …
        raise CleanError(f"不是可读取的 DOCX 文件（{type(err).__name__}）") from err
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks += [" | ".join(dict.fromkeys(c.text.strip() for c in row.cells)) for row in item.rows]
        else:
            blocks.append(item.text)
    return "\n\n".join(b for b in blocks if b.strip())


# --- HTML -----------------------------------------------------------------------------------------------

def html_text(raw: bytes) -> str:
    """The article of a web page, without navigation, ads, related links or footer (trafilatura), headed
    by the page's title when the extracted text does not start with it."""
    import trafilatura
    from trafilatura.settings import use_config

    page = decode(raw)
    config = use_config()
    # Below this many characters trafilatura swaps its result for a crude baseline that glues every
    # paragraph into one line; a short news item is still an article.
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", "10")
    config.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    text = trafilatura.extract(page, include_tables=True, include_comments=False, config=config)
    if not text:
        raise CleanError("网页中没有找到正文")
    meta = trafilatura.extract_metadata(page)
    title = (meta.title or "").strip() if meta else ""
    if title and not text.lstrip().startswith(title):
        text = f"{title}\n\n{text}"
    return re.sub(r"(?m)^\|(?:\s*:?-+:?\s*\|)+\s*$\n?", "", text)  # a Markdown table's |---| rule


# --- Markdown -------------------------------------------------------------------------------------------

_CJK_END = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]$")


def markdown_text(raw: bytes) -> str:
    """The text a reader sees: markup gone, links and images by their text, code kept, one block per
    paragraph, heading, list item or table row."""
    from markdown_it import MarkdownIt

    blocks: list[str] = []
    row: list[str] | None = None
    for token in MarkdownIt("commonmark").enable("table").parse(decode(raw)):
        if token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            blocks.append(" | ".join(row))
            row = None
        elif token.type == "inline":
            text = _inline(token.children or [])
            if row is not None:
                row.append(text)
            else:
                blocks.append(text)
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content)
    return "\n\n".join(b for b in blocks if b.strip())


def _inline(children: list) -> str:
    out = ""
    for child in children:
        if child.type in ("text", "code_inline"):
            out += child.content
        elif child.type == "image":
            out += _inline(child.children or [])
        elif child.type == "softbreak":  # a source line break inside a paragraph: none between CJK
            out += "" if _CJK_END.search(out) else " "
        elif child.type == "hardbreak":
            out += "\n"
    return out


# --- by file type ---------------------------------------------------------------------------------------

PARSERS: dict[str, Callable[[bytes], str]] = {
    ".txt": decode, ".text": decode,
    ".md": markdown_text, ".markdown": markdown_text,
    ".html": html_text, ".htm": html_text,
    ".pdf": pdf_text,
    ".docx": docx_text,
}


def extract_text(path: Path, raw: bytes) -> str:
    """The text of a file by its suffix; an unknown suffix is read as text, as before formats existed."""
    return PARSERS.get(path.suffix.lower(), decode)(raw)
