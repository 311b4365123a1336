"""Drives the chat UI in Debian's Chromium through Playwright, the way a reader uses it.

One set of helpers serves the three places the chat lives — the app's own page, the ``<gradio-app>`` web
component inside a host page, and an iframe — since all three expose ``.locator()``. Screenshots go to
``test-output/ui/`` (git-ignored) so a failing run can be looked at.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

from bot.config import ROOT

CHROMIUM = "/usr/bin/chromium"
# No network side channels: the browser must work with nothing but the servers under test.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--lang=zh-CN",
]
SHOTS = ROOT / "test-output" / "ui"
ANSWER_SECONDS = 120  # first question of a fresh app loads the embedding model and BM25 index
PENDING = "正在检索资料…"
CURSOR = "▍"


class Scope(Protocol):
    """A page, a frame or an element: anything the chat can be found in."""

    def locator(self, selector: str) -> Locator: ...


@dataclass
class Seen:
    """What a page did besides rendering: dialogs it opened (dismissed at once), hosts it requested."""

    dialogs: list[str] = field(default_factory=list)
    hosts: set[str] = field(default_factory=set)

    @classmethod
    def on(cls, page: Page) -> Seen:
        seen = cls()
        page.on("dialog", lambda d: (seen.dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: seen.hosts.add(r.url.split("/")[2]))
        return seen


def launch(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium per test module (import this fixture by name)."""
    with sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()


def shot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot under test-output/ui/ and return its path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def bot_rows(scope: Scope) -> Locator:
    """One element per answer bubble (the answer and its 「来源」 panel are grouped in it)."""
    return scope.locator(".message-row.bot-row")


def ask(scope: Scope, question: str) -> Locator:
    """Type ``question``, send it with Enter, wait until the answer is final; returns its bubble."""
    rows = bot_rows(scope)
    before = rows.count()
    box = scope.locator("textarea").first
    box.fill(question)
    box.press("Enter")
    expect(rows).to_have_count(before + 1, timeout=ANSWER_SECONDS * 1000)
    row = rows.nth(before)
    expect(row).not_to_contain_text(PENDING, timeout=ANSWER_SECONDS * 1000)
    expect(row).not_to_contain_text(CURSOR, timeout=ANSWER_SECONDS * 1000)
    expect(box).to_be_editable(timeout=ANSWER_SECONDS * 1000)
    return row


def open_sources(row: Locator) -> Locator:
    """Expand the 「来源」 panel of an answer bubble; returns the panel's content."""
    row.get_by_text("来源", exact=False).first.click()
    content = row.locator(".thought-group .content").first
    expect(content).to_be_visible()
    return content


# Records every distinct text of the newest answer bubble while it changes (the streamed drafts).
WATCH_DRAFTS = """() => {
  window.__drafts = [];
  new MutationObserver(() => {
    const rows = document.querySelectorAll('.message-row.bot-row');
    const text = rows.length ? rows[rows.length - 1].innerText : '';
    if (window.__drafts[window.__drafts.length - 1] !== text) window.__drafts.push(text);
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def watch_drafts(page: Page) -> None:
    page.evaluate(WATCH_DRAFTS)


def drafts(page: Page) -> list[str]:
    """The streamed states seen since :func:`watch_drafts`: texts that still end with the cursor."""
    seen: list[Any] = page.evaluate("window.__drafts")
    return [t.strip().removesuffix(CURSOR) for t in seen if t.strip().endswith(CURSOR)]


@contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on a free port of 127.0.0.1 (a different origin than the app)."""
    handler = partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass
