"""Turn a raw article file into clean text fit for quoting (its format is read by :mod:`bot.parse` first).

Real web text arrives with site navigation, login boxes, "相关栏目" lists, copyright footers, repeated title
lines, stock-ticker widgets, HTML residue, pinyin glosses after every character (``這個(gè)``) and paragraphs
broken across lines. Everything removed here is page furniture: the words of the article itself are kept
verbatim, because citations quote this cleaned text and are checked against it character for character.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bot.config import get_settings
from bot.parse import CleanError, decode, extract_text
from bot.types import Document

__all__ = ["CleanError", "check_size", "clean_text", "decode", "derive_title", "load_document", "strip_glosses"]

# --- line-level junk ------------------------------------------------------------------------------------

_INVISIBLE = re.compile("[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_HTML_RESIDUE = re.compile(r"\??</?(?:p|br|div|span|strong|em|b|i)\s*/?>|\?/p>|&nbsp;|&#160;", re.I)
_TICKER = re.compile(r"[(（]\d{6}[,，]诊股[)）]")
# A pinyin gloss: a parenthesised lowercase syllable right after a CJK character, like 個(gè) or 這(zhè).
_PINYIN = re.compile(r"(?<=[\u3400-\u9fff])[(（]\s*[a-zāáǎàēéěèīíǐìōóǒòūúǔùüǖǘǚǜńňǹḿ]{1,6}\s*[)）]")
_FOOTER = re.compile(
    r"版权所有|All Rights Reserved|Copyright ©|未经(?:书面)?授权|谢绝拷贝|打印本文章|您的名字[:：]|电子邮件[:：]"
    r"|留言内容|未 ?审 ?核|^\s*注意[:：].*留言|更多.{0,8}>>|^更多最新图文|设为主页|加入收藏|后台管理"
)
_LOGIN = re.compile(r"用户名[:：].*密码|^关键字\s+范围|^栏目导航")
_META = re.compile(r"(?:浏览|人气|评论|点击)[:：]\s*\d*")
_NAV_WORDS = ("首页", "联系我们", "关于我们", "申请加入", "最新消息", "活动公告", "登录", "注册")
_RELATED = re.compile(r"^(?:相关栏目|相关文章|相关阅读|推荐阅读|延伸阅读|相关新闻|最新图文)")
_STRAY_MARK = re.compile(r"(?<=[。！？”])\?+$", re.M)  # a mis-decoded closing tag after a full stop
_SENTENCE_END = "。！？!?；;…”’」』)）:："


def _is_nav(line: str) -> bool:
    """A run of menu entries: several navigation words and no sentence punctuation."""
    if re.search(r"[。，,！？!?；;]", line):
        return False
    return sum(word in line for word in _NAV_WORDS) >= 2


def _is_junk(line: str) -> bool:
    return bool(_FOOTER.search(line) or _LOGIN.search(line) or _is_nav(line)) or (
        bool(_META.search(line)) and len(line) < 120 and ("|" in line or "作者" in line)
    )


def _drop_related_tail(lines: list[str]) -> list[str]:
    """Cut a "相关栏目 / 推荐阅读" block and everything after it, when it sits in the last part of the page."""
    for i, line in enumerate(lines):
        if _RELATED.match(line) and i >= len(lines) * 0.5:
            return lines[:i]
    return lines


def _join_broken(lines: list[str], titles: set[str]) -> list[str]:
    """Re-join paragraphs that the page broke across lines.

    A long line that stops mid-sentence continues on the next line (joined without a gap, as Chinese
    has none). Runs of short unpunctuated fragments (infographic captions like 其中 / 人工智能算力占比达 /
    25.4%) are joined with a space, so that a figure stays with its label; a short line followed by a normal
    paragraph is a heading and stays on its own, as does a title line.
    """
    out: list[str] = []
    for line in lines:
        if out and line not in titles and out[-1] not in titles:
            prev = out[-1]
            if prev[-1] not in _SENTENCE_END:
                if _last_fragment_len(prev) >= 24 and len(line) >= 8:  # a paragraph broken mid-sentence
                    out[-1] = prev + line
                    continue
                if _last_fragment_len(prev) < 24 and len(line) < 30 and line[-1] not in _SENTENCE_END:
                    out[-1] = prev + " " + line
                    continue
        out.append(line)
    return out


def _last_fragment_len(text: str) -> int:
    return len(text.rsplit(" ", 1)[-1])


def strip_glosses(text: str) -> str:
    """Remove pinyin glosses (``這個(gè)`` → ``這個``). Also for strings quoted from a raw file, such as
    eval evidence, so that they compare with the cleaned text."""
    return _PINYIN.sub("", text)


# --- the whole article ----------------------------------------------------------------------------------

def clean_text(text: str) -> str:
    """Clean one article's text. Paragraphs are separated by one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _HTML_RESIDUE.sub("", text)
    text = _TICKER.sub("", text)
    if len(_PINYIN.findall(text)) >= 20:  # only a glossed article has them densely; keep "(ai)"-style asides
        text = strip_glosses(text)
    lines = [re.sub(r"[ \t\u3000\xa0]+", " ", line).strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    lines = _drop_related_tail(lines)
    lines = [line for line in lines if not _is_junk(line)]
    titles = {line for line in lines if len(line) <= 100 and lines.count(line) > 1}
    seen: set[str] = set()
    kept = []
    for line in lines:  # a title repeated as a line later on is page furniture
        if line in titles and line in seen:
            continue
        seen.add(line)
        kept.append(line)
    text = "\n\n".join(_join_broken(kept, titles))
    return _STRAY_MARK.sub("", text)


def derive_title(text: str, fallback: str) -> str:
    """A headline: the first paragraph if it is short, else the first short paragraph without sentence
    punctuation (a heading), else the file name. Long joined captions are cut at their first gap."""
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    candidates = paragraphs[:1] if paragraphs and len(paragraphs[0]) <= 40 else []
    candidates += [p for p in paragraphs if len(p) <= 60 and not re.search(r"[,，。；;:：]", p)]
    for line in candidates:
        if re.match(r"^(?:时间|作者|来源|文\s*\||编者按|本报记者|\d{4}[-/年])", line) or line[0] in "“\"「(（":
            continue
        line = re.sub(r"^\d{1,2}[.、]\s*", "", line)  # "01. 章节名" → "章节名"
        return line.split(" ")[0] if len(line) > 20 else line
    return fallback


def check_size(path: Path, max_bytes: int) -> None:
    """Refuse an empty or too large file by its size alone, before anything reads it."""
    try:
        size = path.stat().st_size
    except OSError as err:
        raise CleanError(f"无法读取：{err.strerror}") from err
    if size == 0:
        raise CleanError("空文件")
    if size > max_bytes:
        raise CleanError(f"文件太大（{size / 2**20:.1f} MiB，上限 {max_bytes / 2**20:g} MiB）")


def load_document(path: Path, max_bytes: int | None = None, max_chars: int | None = None) -> Document:
    """Read one file of any supported format (:mod:`bot.parse`), then clean it: the text quotes are cut
    from and checked against. Raises :class:`CleanError` with a reason a person can act on.

    The limits default to ``BOT_MAX_FILE_MB`` / ``BOT_MAX_ARTICLE_CHARS``. A file is refused by its size
    before it is read, so a 200 MB file costs nothing.
    """
    settings = get_settings()
    check_size(path, settings.max_file_bytes if max_bytes is None else max_bytes)
    max_chars = settings.max_article_chars if max_chars is None else max_chars
    raw = path.read_bytes()
    text = clean_text(extract_text(path, raw))
    if len(text.strip()) < 2:
        raise CleanError("清理后没有剩下文字")
    if len(text) > max_chars:
        raise CleanError(f"文字太多（{len(text)} 字，上限 {max_chars} 字）")
    return Document(
        source=path.name,
        title=derive_title(text, fallback=path.stem),
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
