"""Managing the knowledge base in-process, against a real embedded Chroma and the real model: uploads
in every format are answered from at once, deletes are refused at once, and every bad upload says why
in Chinese while the index (article count and chunk ids) and the articles folder stay as they were."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import library
from bot.chain import answer
from bot.clean import load_document
from bot.config import Settings
from bot.index import Index
from bot.library import access, stored_name
from bot.parse import CleanError
from documents import encrypted_pdf, reportlab_pdf, word_docx

BASE = "青岚数据港\n\n青岚数据港位于贵州，机柜总数为八千个，2023年投入使用。"
DOCX_FACT = "星河融媒体中心于2024年5月上线了方言语音转写系统，首批支持粤语、闽南语和客家话三种方言。"
PDF_FACT = "云帆科技2024年全年研发投入达到12.6亿元，同比增长18.5%，研发人员共计1460人。"
DOCX_QUESTION = "星河融媒体中心的方言语音转写系统首批支持哪几种方言？"
PDF_QUESTION = "云帆科技2024年全年研发投入是多少？"


@dataclass
class KB:
    settings: Settings
    inbox: Path  # where uploads come from (Gradio's cache, in the app)

    def state(self) -> tuple[list[str], list[str], list[str]]:
        """What must not change on a bad upload: the articles, every chunk id, the stored files."""
        index = Index(self.settings)
        files = sorted(p.name for p in self.settings.articles_dir.iterdir())
        return [a.source for a in index.articles()], sorted(index.ids()), files


@pytest.fixture
def kb(tmp_path: Path) -> KB:
    settings = Settings(store_dir=tmp_path / "store", articles_dir=tmp_path / "articles", max_file_mb=0.5,
                        max_upload_files=3)
    settings.articles_dir.mkdir()
    (settings.articles_dir / "base.txt").write_text(BASE, encoding="utf-8")
    from bot.store import ingest

    assert ingest(settings=settings, progress=False).documents == ["base.txt"]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    return KB(settings, inbox)


def _cited(settings: Settings, question: str) -> tuple[str, str]:
    result = answer(question, settings=settings, provider="extractive")
    assert not result.refused, result.text
    cited = result.citations[0]
    return cited.source, cited.quote


def test_upload_answer_delete_refuse(kb: KB) -> None:
    docx = word_docx(kb.inbox / "星河融媒体.docx", "星河融媒体中心上线方言转写", [DOCX_FACT])
    pdf = reportlab_pdf(kb.inbox / "云帆年报.pdf", "云帆科技年度研发报告", [PDF_FACT])
    shares: list[float] = []
    outcomes = library.upload([(docx.name, docx), (pdf.name, pdf)], kb.settings, lambda s, _: shares.append(s))
    assert [o.ok for o in outcomes] == [True, True], outcomes
    assert shares[-1] == 1.0 and shares == sorted(shares)
    assert {a.source for a in library.articles(kb.settings)} == {"base.txt", docx.name, pdf.name}

    for question, name in ((DOCX_QUESTION, docx.name), (PDF_QUESTION, pdf.name)):
        source, quote = _cited(kb.settings, question)  # the same process: no restart, no wait
        assert source == name
        assert quote in load_document(kb.settings.articles_dir / name).text  # verbatim from that file

    removed = library.remove(pdf.name, kb.settings)
    assert removed.ok and removed.chunks >= 1
    assert not (kb.settings.articles_dir / pdf.name).exists()
    assert answer(PDF_QUESTION, settings=kb.settings, provider="extractive").refused
    assert _cited(kb.settings, DOCX_QUESTION)[0] == docx.name  # the other one still answers


def test_list_reindex_and_replace(kb: KB) -> None:
    [listed] = library.articles(kb.settings)
    assert (listed.source, listed.title, listed.chunks, listed.size) == ("base.txt", "青岚数据港", 1, len(BASE.encode()))
    assert library.rows([listed])[0][:3] == ["青岚数据港", "base.txt", 1]
    again = library.reindex("base.txt", kb.settings)
    assert again.ok and "未变 1" in again.message
    new = kb.inbox / "base.txt"
    new.write_text(BASE.replace("八千", "一万两千"), encoding="utf-8")
    [replaced] = library.upload([("base.txt", new)], kb.settings)
    assert replaced.ok and "替换" in replaced.message
    assert "一万两千" in _cited(kb.settings, "青岚数据港的机柜总数是多少？")[1]
    assert not library.remove("nothing.txt", kb.settings).ok
    assert not library.reindex("nothing.txt", kb.settings).ok


def _bad_files(inbox: Path) -> list[tuple[str, Path, str]]:
    """(name as uploaded, file, what the message must say)."""
    empty = inbox / "empty.pdf"
    empty.write_bytes(b"")
    binary = inbox / "photo.pdf"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    locked = encrypted_pdf(reportlab_pdf(inbox / "plain.pdf", "内部报告", [PDF_FACT]), inbox / "locked.pdf")
    big = inbox / "big.txt"
    big.write_text("大" * 200_000, encoding="utf-8")  # 600 KB > the fixture's 0.5 MB
    archive = inbox / "articles.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", PDF_FACT)
    escape = inbox / "escape.txt"
    escape.write_text(PDF_FACT, encoding="utf-8")
    return [
        ("empty.pdf", empty, "空文件"),
        ("photo.pdf", binary, "不是可读取的 PDF"),
        ("locked.pdf", locked, "加密"),
        ("big.txt", big, "太大"),
        ("articles.zip", archive, "不支持的文件类型 .zip"),
        ("../../escape.txt", escape, "不能包含路径"),
        ("..\\escape.txt", escape, "不能包含路径"),
    ]


@pytest.mark.parametrize("case", range(7), ids=["empty", "binary-as-pdf", "encrypted-pdf", "over-size",
                                                "zip", "dot-dot-slash", "dot-dot-backslash"])
def test_a_bad_upload_says_why_and_changes_nothing(kb: KB, case: int) -> None:
    before = kb.state()
    name, path, reason = _bad_files(kb.inbox)[case]
    [outcome] = library.upload([(name, path)], kb.settings)
    assert not outcome.ok and reason in outcome.message, outcome
    assert kb.state() == before
    assert not (kb.settings.articles_dir.parent / "escape.txt").exists()


def test_too_many_files_at_once_are_all_refused(kb: KB) -> None:
    before = kb.state()
    files = []
    for i in range(4):  # the fixture allows 3
        path = kb.inbox / f"note{i}.txt"
        path.write_text(f"第{i}条备忘。", encoding="utf-8")
        files.append((path.name, path))
    outcomes = library.upload(files, kb.settings)
    assert all(not o.ok and "一次最多上传 3 个文件" in o.message for o in outcomes)
    assert kb.state() == before


def test_good_and_bad_files_in_one_upload(kb: KB) -> None:
    good = word_docx(kb.inbox / "good.docx", "星河融媒体中心上线方言转写", [DOCX_FACT])
    bad = kb.inbox / "bad.pdf"
    bad.write_bytes(b"%PDF-1.7 truncated")
    outcomes = library.upload([("good.docx", good), ("bad.pdf", bad)], kb.settings)
    assert [o.ok for o in outcomes] == [True, False]
    assert sorted(p.name for p in kb.settings.articles_dir.iterdir()) == ["base.txt", "good.docx"]


@pytest.mark.parametrize(("name", "stored"), [
    ("云帆科技 年度报告(2024).PDF", "云帆科技 年度报告(2024).PDF"),
    ("a<b>:c?\u200b.docx", "abc.docx"),
    (".hidden.md", "hidden.md"),
    ("长" * 100 + ".txt", "长" * 65 + ".txt"),  # 200 bytes at most, the suffix kept
])
def test_stored_names(name: str, stored: str) -> None:
    assert stored_name(name, Settings()) == stored


@pytest.mark.parametrize("name", ["../a.txt", "a/b.txt", "..", "report", ".pdf", "x.exe", "x.txt.zip"])
def test_names_that_cannot_be_stored(name: str) -> None:
    with pytest.raises(CleanError):
        stored_name(name, Settings())


@pytest.mark.parametrize(("options", "mode"), [
    ({}, "open"),
    ({"host": "::1"}, "open"),
    ({"host": "localhost"}, "open"),
    ({"host": "0.0.0.0"}, "read-only"),
    ({"host": "192.168.1.20"}, "read-only"),
    ({"root_path": "/qa"}, "read-only"),  # behind a proxy, a loopback listener is public
    ({"host": "0.0.0.0", "admin": "editor:pw"}, "admin"),
    ({"admin": "editor:pw"}, "admin"),  # asked for: required even on loopback
])
def test_who_may_change_the_knowledge_base(options: dict, mode: str) -> None:
    assert access(Settings(**options)) == mode


def test_admin_login_checks_both_user_and_password() -> None:
    settings = Settings(admin="editor:s3cret:with:colons")
    assert library.is_admin("editor", "s3cret:with:colons", settings)
    assert not library.is_admin("editor", "wrong", settings)
    assert not library.is_admin("someone", "s3cret:with:colons", settings)
    assert not library.is_admin("", "", Settings())
