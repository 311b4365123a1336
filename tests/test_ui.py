"""The chat in a real browser: Debian's Chromium, driven by Playwright, against ``python app.py``.

One app for the whole module (its first start builds the index of the five articles plus one article
full of HTML, about a minute and a half on two cores), and a real OpenAI-compatible HTTP server for the
streaming test. Screenshots of every step are saved in test-output/ui/.
"""
from __future__ import annotations

import re
import shutil
import urllib.request
from collections.abc import Iterator

import pytest
from gradio_client import Client
from playwright.sync_api import Browser, Page, expect

from app_cli import launched
from bot.config import ROOT
from llm_server import Script, serve
from ui_helpers import (  # noqa: F401 - browser is a fixture
    PENDING, Seen, ask, browser, drafts, open_sources, shot, static_site, watch_drafts,
)

pytestmark = pytest.mark.e2e

ARTICLES = ROOT / "store" / "articles"
SOURCE = "000_56f6738d973ede18.txt"
QUESTION = "2022年我国算力总规模是多少？"
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
# An article whose text carries markup: the chat must show it as text, in the answer and the sources.
HTML_ARTICLE = (
    "投稿系统代码排查\n\n"
    "编辑部在排查投稿系统时发现，一篇来稿的正文夹带了代码片段<img src=x onerror=alert('doc')>和"
    "<script>alert('doc')</script>，这类内容应当作为文字原样显示。\n\n"
    "排查结果显示，投稿系统本月共拦截可疑来稿17篇，其中夹带代码的来稿有9篇。\n"
)
HTML_QUESTION = "投稿系统排查时，来稿正文夹带了什么代码片段？"


def source_sentence(marker: str) -> str:
    """The sentence of the source article that contains ``marker`` (what the answer must quote)."""
    text = (ARTICLES / SOURCE).read_text(encoding="utf-8")
    at = text.index(marker)
    start = max(text.rfind(end, 0, at) for end in "。！？\n") + 1
    return text[start : text.index("。", at) + 1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python app.py`` on a fresh store; ``openai`` answers come from a streaming test LLM server."""
    work = tmp_path_factory.mktemp("ui")
    articles = work / "articles"
    shutil.copytree(ARTICLES, articles)
    (articles / "900_html_sample.txt").write_text(HTML_ARTICLE, encoding="utf-8")
    llm = Script(reply=source_sentence("180E") + "[1]", pieces=12)
    with serve(llm) as (llm_url, _), \
            launched(work, BOT_LLM_BASE_URL=llm_url, BOT_LLM_API_KEY="sk-test") as (url, _):
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def seen(page: Page) -> Seen:
    """Dialogs the page opens (none may) and hosts it contacts (only ours: the browser is offline)."""
    return Seen.on(page)


def test_answer_with_sources_panel(page: Page, seen: Seen, app_url: str) -> None:
    page.goto(app_url)
    expect(page.get_by_text("薛澜认为中国大模型存在哪些问题？")).to_be_visible()  # the example questions
    shot(page, "01-start")
    row = ask(page, QUESTION)
    expect(row).to_contain_text("180E")
    expect(row.locator("sup.cite")).to_have_count(1)
    panel = open_sources(row)
    expect(panel).to_contain_text(SOURCE)
    expect(panel.locator("mark.quote")).to_have_text(source_sentence("180E"))
    shot(page, "02-answer-sources")
    assert seen.hosts == {app_url.split("/")[2]}, f"requests left the app: {seen.hosts}"


def test_answer_streams_as_it_is_written(page: Page, app_url: str) -> None:
    """With an LLM provider the draft grows piece by piece before the verified answer replaces it."""
    page.goto(app_url)
    page.get_by_text("设置").click()
    page.get_by_label("OpenAI 兼容接口").check()
    watch_drafts(page)
    row = ask(page, QUESTION)
    growing = [d for d in drafts(page) if d]  # 12 pieces sent; the browser may paint some together
    assert len(growing) >= 2, growing
    assert all(len(a) < len(b) and b.startswith(a) for a, b in zip(growing, growing[1:])), growing
    expect(row).to_contain_text("180E")
    expect(open_sources(row)).to_contain_text(SOURCE)
    shot(page, "03-streamed-llm")


def test_follow_up_is_rewritten_and_stays_on_topic(page: Page, app_url: str) -> None:
    page.goto(app_url)
    ask(page, QUESTION)
    row = ask(page, "那美国呢？")  # the articles give China's total only: refused, naming what is missing
    expect(row).to_contain_text("资料中没有提到美国的算力总规模。")
    expect(open_sources(row).locator(".rewritten")).to_contain_text("检索问题：2022年美国算力总规模是多少？")
    ask(page, "李礼辉认为算力会往哪里集中？")
    row = ask(page, "他还说了什么？")
    panel = open_sources(row)
    expect(panel.locator(".rewritten")).to_contain_text("李礼辉还说了什么")
    expect(panel).to_contain_text(SOURCE)
    shot(page, "04-follow-up", full_page=True)


def test_markup_in_a_question_is_shown_as_text(page: Page, seen: Seen, app_url: str) -> None:
    page.goto(app_url)
    first = ask(page, f"{QUESTION}{XSS}").inner_text()
    user = page.locator(".message-row.user-row").last
    expect(user).to_contain_text(XSS)
    # 重试 sends the chat back through the server and out again: still the same literal text, once
    watch_drafts(page)
    page.get_by_role("button", name="重试").click()
    page.wait_for_function(f"window.__drafts.some(t => t.includes({PENDING!r}))", timeout=60_000)
    # the same answer again, word for word (the sources panel shows no timing that could differ)
    same_answer = r"\s*".join(re.escape(word) for word in first.split())
    expect(page.locator(".message-row.bot-row").last).to_have_text(re.compile(same_answer), timeout=60_000)
    expect(page.locator(".message-row.user-row")).to_have_count(1)
    expect(user).to_have_text(f"{QUESTION}{XSS}")
    page.wait_for_timeout(500)  # an onerror handler would fire right after the image fails to load
    assert seen.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator(".message-row script").count() == 0
    shot(page, "05-xss-question")


def test_markup_in_a_document_is_shown_as_text(page: Page, seen: Seen, app_url: str) -> None:
    page.goto(app_url)
    row = ask(page, HTML_QUESTION)
    code = "<img src=x onerror=alert('doc')>和<script>alert('doc')</script>"
    expect(row).to_contain_text(code)
    panel = open_sources(row)
    expect(panel).to_contain_text("900_html_sample.txt")
    expect(panel.locator("mark.quote")).to_contain_text(code)
    page.wait_for_timeout(500)
    assert seen.dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.locator(".message-row script").count() == 0
    shot(page, "06-xss-document")


def test_embedded_as_web_component_and_iframe(page: Page, seen: Seen, app_url: str) -> None:
    """The example host page, on another origin, with a news site's stylesheet around both widgets."""
    with static_site(ROOT / "embed") as site:
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.goto(f"{site}/index.html?app={app_url}")
        widget = page.locator("gradio-app")
        row = ask(widget, QUESTION)
        expect(row).to_contain_text("180E")
        expect(open_sources(row)).to_contain_text(SOURCE)
        # The host's `p { text-indent: 2em; letter-spacing: .06em }` must not reach the chat's text.
        style = row.locator("p").first.evaluate(
            "p => [getComputedStyle(p).textIndent, getComputedStyle(p).letterSpacing]"
        )
        assert style == ["0px", "normal"], style
        widget.scroll_into_view_if_needed()
        shot(page, "07-embed-web-component")

        frame = page.frame_locator("iframe.qa-chat")
        row = ask(frame, QUESTION)
        expect(row).to_contain_text("180E")
        page.locator("iframe.qa-chat").scroll_into_view_if_needed()
        shot(page, "08-embed-iframe")
        shot(page, "09-embed-page", full_page=True)
        assert seen.dialogs == []


def test_embedding_origin_policy(app_url: str) -> None:
    """Unset BOT_ALLOWED_ORIGINS: pages on this machine may embed; other sites get no CORS grant."""
    for origin, allowed in (("http://127.0.0.1:8000", True), ("https://evil.example", False)):
        req = urllib.request.Request(f"{app_url}gradio.js", headers={"Origin": origin})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.headers.get("Content-Type", "").startswith("text/javascript")
            assert (resp.headers.get("Access-Control-Allow-Origin") == origin) is allowed
            assert "frame-ancestors 'self' http://localhost:* http://127.0.0.1:*" in resp.headers[
                "Content-Security-Policy"
            ]
            assert re.search(r'import\("\./assets/index-[\w-]+\.js"\)', resp.read().decode())


def test_ask_endpoint_from_gradio_client(app_url: str) -> None:
    client = Client(app_url, verbose=False)
    result = client.predict(QUESTION, api_name="/ask")
    assert "180E" in result["answer"] and result["refused"] is False
    assert [c["source"] for c in result["citations"]] == [SOURCE]
    assert result["citations"][0]["quote"] == source_sentence("180E")

    follow = client.predict("那美国呢？", [[QUESTION, result["answer"]]], "", api_name="/ask")
    assert follow["rewritten"] == "2022年美国算力总规模是多少？"
    assert follow["refused"] and follow["answer"] == "资料中没有提到美国的算力总规模。"

    who = client.predict("李礼辉认为算力会往哪里集中？", api_name="/ask")
    more = client.predict("他还说了什么？", [["李礼辉认为算力会往哪里集中？", who["answer"]]], api_name="/ask")
    assert "李礼辉" in more["rewritten"] and more["refused"] is False
    assert {c["source"] for c in more["citations"]} == {SOURCE}

    with pytest.raises(Exception, match="请输入问题"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(Exception, match="未知的回答方式"):
        client.predict(QUESTION, None, "gpt-5", api_name="/ask")
    with pytest.raises(Exception, match="对的列表"):
        client.predict("那美国呢？", [[QUESTION]], "", api_name="/ask")


def test_a_rejected_question_says_why_and_stays_in_the_chat(page: Page, app_url: str) -> None:
    page.goto(app_url)
    too_long = "算力" * 1001
    row = ask(page, too_long)
    expect(row).to_contain_text("问题太长")
    expect(page.locator(".message-row.user-row").last).to_contain_text(too_long[:50])
    row = ask(page, QUESTION)  # the chat goes on normally
    expect(row).to_contain_text("180E")
    shot(page, "11-rejected-question")
