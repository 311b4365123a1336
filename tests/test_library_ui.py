"""The 「资料库」 tab in Debian's Chromium and its API through ``gradio_client``, against ``python app.py``.

A DOCX and a PDF with Chinese text, made here, are uploaded in the browser; a question about each gets a
cited answer quoting that file verbatim; after a delete the same question is refused — all in the
running app, no restart. Bad uploads through the API are refused with a reason and leave the list as it
was; an app listening on another address keeps uploads behind ``--admin``. Screenshots: test-output/ui/.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from playwright.sync_api import Browser, Page, expect

from app_cli import launched
from bot.clean import load_document
from bot.config import REFUSAL
from documents import encrypted_pdf, reportlab_pdf, word_docx
from ui_helpers import ask, browser, open_sources, shot  # noqa: F401 - browser is a fixture

pytestmark = pytest.mark.e2e

BASE = "青岚数据港\n\n青岚数据港位于贵州，机柜总数为八千个，2023年投入使用。"
DOCX_NAME, PDF_NAME = "星河融媒体.docx", "云帆年报.pdf"
DOCX_FACT = "星河融媒体中心于2024年5月上线了方言语音转写系统，首批支持粤语、闽南语和客家话三种方言。"
PDF_FACT = "云帆科技2024年全年研发投入达到12.6亿元，同比增长18.5%，研发人员共计1460人。"
DOCX_QUESTION = "星河融媒体中心的方言语音转写系统首批支持哪几种方言？"
PDF_QUESTION = "云帆科技2024年全年研发投入是多少？"
ADMIN = ("editor", "s3cret-pw")
# Records every text the upload's result area shows while the upload runs (the progress bar's too).
WATCH_RESULTS = """() => {
  window.__kb = [];
  new MutationObserver(() => {
    const text = [...document.querySelectorAll('.kb-added')].map(e => e.parentElement.innerText).join(' ');
    if (window.__kb[window.__kb.length - 1] !== text) window.__kb.push(text);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def _store(base: Path) -> Path:
    (base / "articles").mkdir()
    (base / "articles" / "base.txt").write_text(BASE, encoding="utf-8")
    return base


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("uploads")
    word_docx(folder / DOCX_NAME, "星河融媒体中心上线方言转写", [DOCX_FACT, "该系统由中心技术部与两所高校联合研发。"])
    reportlab_pdf(folder / PDF_NAME, "云帆科技年度研发报告", [PDF_FACT, "报告同时披露，公司新设了三个区域研发中心。"])
    return folder


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app on loopback, where anyone using the page may change the knowledge base (limit: 1 MB)."""
    store = _store(tmp_path_factory.mktemp("kb-open"))
    with launched(store, BOT_MAX_FILE_MB="1") as (url, _):
        yield url, store / "articles"


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app listening on every address, with an admin account: reached here through 127.0.0.1."""
    store = _store(tmp_path_factory.mktemp("kb-exposed"))
    with launched(store, "--host", "0.0.0.0", "--admin", ":".join(ADMIN)) as (url, _):
        yield url, store / "articles"


def _page(browser: Browser, locale: str = "zh-CN") -> Page:
    return browser.new_context(locale=locale, viewport={"width": 1280, "height": 900}).new_page()


def _tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def _listing(url: str) -> list[tuple[str, int, str]]:
    """What the index holds, as the API lists it: (file, chunks, when added)."""
    return [(a["source"], a["chunks"], a["added"]) for a in Client(url, verbose=False).predict(api_name="/articles")]


def _cited_quote(page: Page, question: str, name: str, articles: Path) -> None:
    row = ask(page, question)
    expect(row.locator("sup.cite").first).to_be_visible()
    panel = open_sources(row)
    expect(panel).to_contain_text(name)
    quote = panel.locator("mark.quote").first.inner_text()
    assert quote and quote in load_document(articles / name).text  # verbatim from that very file


def test_upload_ask_delete_in_the_browser(browser: Browser, app: tuple[str, Path], files: Path) -> None:
    url, articles = app
    page = _page(browser)
    page.goto(url)
    _tab(page, "资料库")
    expect(page.locator(".kb-table")).to_contain_text("base.txt")
    shot(page, "kb-01-tab")

    page.evaluate(WATCH_RESULTS)
    page.locator("input[type=file]").first.set_input_files([files / DOCX_NAME, files / PDF_NAME])
    expect(page.get_by_role("cell", name=PDF_NAME)).to_be_visible()  # both uploaded to the page
    page.get_by_role("button", name="导入资料库").click()
    results = page.locator(".kb-added").first
    expect(results).to_contain_text(f"✓ {PDF_NAME}：已导入", timeout=180_000)
    expect(results).to_contain_text(f"✓ {DOCX_NAME}：已导入")
    seen = page.evaluate("window.__kb")
    assert any("正在导入" in text for text in seen), seen  # the progress bar, file by file
    table = page.locator(".kb-table")
    for name in (DOCX_NAME, PDF_NAME):
        expect(table).to_contain_text(name)
    shot(page, "kb-02-uploaded", full_page=True)

    _tab(page, "对话")
    _cited_quote(page, DOCX_QUESTION, DOCX_NAME, articles)
    _cited_quote(page, PDF_QUESTION, PDF_NAME, articles)
    shot(page, "kb-03-answers", full_page=True)

    _tab(page, "资料库")
    page.get_by_label("选择文章").click()
    page.get_by_role("option", name=PDF_NAME).click()
    page.get_by_role("button", name="删除").click()
    expect(page.locator(".kb-changed").first).to_contain_text(f"✓ {PDF_NAME}：已删除")
    expect(table).not_to_contain_text(PDF_NAME)
    assert not (articles / PDF_NAME).exists()
    shot(page, "kb-04-deleted")

    _tab(page, "对话")
    expect(ask(page, PDF_QUESTION)).to_contain_text(REFUSAL)
    _cited_quote(page, DOCX_QUESTION, DOCX_NAME, articles)  # the other upload still answers
    shot(page, "kb-05-refused-after-delete", full_page=True)


def test_footer_api_link_follows_the_browser_language(browser: Browser, app: tuple[str, Path]) -> None:
    """Gradio's own footer text: 「通过 API 使用」 in a Chinese browser, "Use via API" in an English one."""
    for locale, text in (("zh-CN", "通过 API 使用"), ("en-US", "Use via API")):
        page = _page(browser, locale)
        page.goto(app[0])
        expect(page.locator("footer")).to_contain_text(text)


def _bad_uploads(folder: Path, files: Path) -> list[tuple[Path, str]]:
    """(file, what the refusal must say), each a file a newsroom might really try to upload."""
    empty = folder / "空白.pdf"
    empty.write_bytes(b"")
    photo = folder / "照片.pdf"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    locked = encrypted_pdf(files / PDF_NAME, folder / "加密.pdf")
    big = folder / "超大.txt"
    big.write_text("大" * 400_000, encoding="utf-8")  # 1.2 MB over the app's 1 MB
    archive = folder / "文章合集.zip"
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip archive
    return [(empty, "空文件"), (photo, "不是可读取的 PDF"), (locked, "加密"), (big, "文件太大"),
            (archive, "不支持的文件类型 .zip")]


def test_bad_uploads_through_the_api_say_why_and_change_nothing(app: tuple[str, Path], files: Path,
                                                                tmp_path: Path) -> None:
    url, articles = app
    client = Client(url, verbose=False)
    before, stored = _listing(url), sorted(p.name for p in articles.iterdir())
    for path, reason in _bad_uploads(tmp_path, files):
        [outcome] = client.predict([handle_file(path)], api_name="/upload")
        assert outcome["name"] == path.name and not outcome["ok"] and reason in outcome["message"], outcome
        assert _listing(url) == before, path.name
    assert sorted(p.name for p in articles.iterdir()) == stored
    assert not client.predict("../base.txt", api_name="/remove")["ok"]
    assert _listing(url) == before


def test_exposed_app_keeps_changes_behind_the_admin_login(browser: Browser, exposed: tuple[str, Path],
                                                          files: Path) -> None:
    url, articles = exposed
    page = _page(browser)
    page.goto(url)
    _tab(page, "资料库")
    expect(page.get_by_text("需要先用管理员账号")).to_be_visible()
    expect(page.get_by_role("button", name="导入资料库")).to_be_hidden()
    expect(page.get_by_role("button", name="删除")).to_be_hidden()
    expect(page.locator(".kb-table")).to_contain_text("base.txt")
    shot(page, "kb-06-exposed-login")

    client = Client(url, verbose=False)
    before = _listing(url)
    [outcome] = client.predict([handle_file(files / PDF_NAME)], api_name="/upload")
    assert not outcome["ok"] and "需要管理员登录" in outcome["message"]
    assert not client.predict("base.txt", api_name="/remove")["ok"]
    assert not client.predict(ADMIN[0], "wrong", api_name="/admin_login")["ok"]
    assert _listing(url) == before and not (articles / PDF_NAME).exists()

    assert client.predict(*ADMIN, api_name="/admin_login")["ok"]  # this client's session only
    [outcome] = client.predict([handle_file(files / PDF_NAME)], api_name="/upload")
    assert outcome["ok"], outcome
    cited = client.predict(PDF_QUESTION, api_name="/ask")["citations"]
    assert cited and cited[0]["source"] == PDF_NAME
    [refused] = Client(url, verbose=False).predict([handle_file(files / DOCX_NAME)], api_name="/upload")
    assert not refused["ok"]  # another session is not logged in

    page.get_by_label("管理员用户名").fill(ADMIN[0])
    page.get_by_label("密码").fill(ADMIN[1])
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("button", name="导入资料库")).to_be_visible()
    shot(page, "kb-07-exposed-admin")
