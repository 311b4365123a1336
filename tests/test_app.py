"""``python app.py`` as a deployer runs it: first start on an empty store, bad options, a busy port, and
the options for production — login, a reverse proxy sub-path, allowed embedding origins, concurrency.

The store holds one article (000_…, about 20 s to index on two cores) so the first start stays short;
the second app reuses that index.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.client import Job
from gradio_client.utils import Status
from playwright.sync_api import expect, sync_playwright

from app_cli import READY, launched
from bot.config import LLM_UNAVAILABLE_NOTICE, ROOT
from llm_server import Script, refused_url, serve
from reverse_proxy import reverse_proxy
from ui_helpers import ask, launch, shot

SOURCE = "000_56f6738d973ede18.txt"
QUESTION = "2022年我国算力总规模是多少？"
LLM_DELAY = 8  # seconds the slow test LLM takes: the first question holds the only slot that long


def _run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """app.py expected to exit by itself (bad options)."""
    return subprocess.run([sys.executable, str(ROOT / "app.py"), *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("app-store")
    (folder / "articles").mkdir()
    shutil.copy(ROOT / "store" / "articles" / SOURCE, folder / "articles" / SOURCE)
    return folder


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--auth", "editor"], {}, "user:pass"),
        (["--port", "0"], {}, "正整数"),
        ([], {"BOT_AUTH": "editor:"}, "user:pass"),
        (["--root-path", "qa"], {}, "子路径"),
        ([], {"BOT_ROOT_PATH": "qa"}, "子路径"),
    ],
)
def test_bad_options_are_refused_with_a_message(args: list[str], env: dict[str, str], message: str,
                                               tmp_path: Path) -> None:
    done = _run(args, {"BOT_STORE_DIR": str(tmp_path / "store"), **env})
    assert done.returncode != 0
    assert message in done.stderr
    assert not (tmp_path / "store" / "chroma").exists()  # refused before any index work


def test_busy_port_fails_at_once_before_indexing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        done = _run(["--port", str(busy.getsockname()[1])], {"BOT_STORE_DIR": str(tmp_path / "store")})
    assert done.returncode != 0
    assert "端口可能已被占用" in done.stderr
    assert not (tmp_path / "store" / "chroma").exists()


@pytest.mark.e2e
def test_first_start_builds_the_index_then_serves(store: Path) -> None:
    with launched(store) as (url, log):
        console = log.read_text()
        assert "片段" in console and "1/1" in console, console  # the rich progress bar of the build
        assert console.index("片段") < console.index(READY)
        result = Client(url, verbose=False).predict(QUESTION, api_name="/ask")
    assert "180E" in result["answer"]
    assert result["citations"][0]["source"] == SOURCE
    assert (store / "chroma").is_dir()


@pytest.mark.e2e
def test_deployer_options_login_proxy_origins(store: Path) -> None:
    """--auth, --root-path behind a real proxy, BOT_ALLOWED_ORIGINS; in the browser and from Python.
    Its LLM endpoint refuses connections, so choosing the LLM shows the fallback notice."""
    with launched(store, "--auth", "editor:s3cret", "--root-path", "/qa",
                  BOT_ALLOWED_ORIGINS="https://news.example.com", BOT_LLM_BASE_URL=refused_url(),
                  BOT_LLM_API_KEY="sk-test") as (url, _):
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"{url}config", timeout=30)
        assert denied.value.code == 401
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, auth=("editor", "wrong"), verbose=False)
        assert "180E" in Client(url, auth=("editor", "s3cret"), verbose=False).predict(
            QUESTION, api_name="/ask")["answer"]

        for origin, granted in (("https://news.example.com", True), ("http://127.0.0.1:8000", False)):
            req = urllib.request.Request(f"{url}gradio.js", headers={"Origin": origin})
            with urllib.request.urlopen(req, timeout=10) as resp:
                assert (resp.headers.get("Access-Control-Allow-Origin") == origin) is granted
                csp = resp.headers["Content-Security-Policy"]
                assert csp == "frame-ancestors 'self' https://news.example.com"

        with reverse_proxy(url, "/qa") as public, sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(locale="zh-CN")
            page.goto(public)
            page.locator("input[type=password]").wait_for()
            page.locator("input").first.fill("editor")
            page.locator("input[type=password]").fill("s3cret")
            page.keyboard.press("Enter")
            row = ask(page, QUESTION)
            expect(row).to_contain_text("180E")
            assert page.url.startswith(public)
            page.get_by_text("设置").click()
            page.get_by_label("OpenAI 兼容接口").check()
            row = ask(page, QUESTION)
            expect(row.locator("em.notice")).to_have_text(LLM_UNAVAILABLE_NOTICE)
            expect(row).to_contain_text("180E")
            shot(page, "10-behind-proxy-with-login")
            browser.close()


@pytest.mark.e2e
def test_concurrency_limit_queues_the_extra_question(store: Path) -> None:
    """--concurrency 1 with a slow LLM: while one question is answered, the next one waits in the queue.
    (The same app also shows BOT_ALLOWED_ORIGINS="*".)"""
    slow_llm = Script(reply="2022年我国算力总规模达到每秒180E。[1]", fault="slow", delay=LLM_DELAY)
    with serve(slow_llm) as (llm, _), \
            launched(store, "--concurrency", "1", BOT_LLM_BASE_URL=llm, BOT_LLM_API_KEY="sk-test",
                BOT_ALLOWED_ORIGINS="*") as (url, _):
        req = urllib.request.Request(f"{url}gradio.js", headers={"Origin": "https://any.example"})
        with urllib.request.urlopen(req, timeout=30) as resp:  # "*": any site, echoed for credentials
            assert resp.headers["Access-Control-Allow-Origin"] == "https://any.example"
            assert "Content-Security-Policy" not in resp.headers
        client = Client(url, verbose=False)
        first = client.submit(QUESTION, None, "openai", api_name="/ask")
        _wait_until_past(first, {Status.STARTING, Status.JOINING_QUEUE, Status.IN_QUEUE})
        second = client.submit(QUESTION, None, "openai", api_name="/ask")
        _wait_until_past(second, {Status.STARTING, Status.JOINING_QUEUE})
        assert second.status().code == Status.IN_QUEUE  # placed, and waiting for the one slot
        assert first.status().code == Status.PROCESSING  # the LLM takes LLM_DELAY seconds to answer
        assert "180E" in first.result(timeout=60)["answer"]
        assert "180E" in second.result(timeout=60)["answer"]


def _wait_until_past(job: Job, states: set[Status]) -> None:
    deadline = time.monotonic() + 60
    while job.status().code in states:
        assert time.monotonic() < deadline, job.status()
        time.sleep(0.1)
