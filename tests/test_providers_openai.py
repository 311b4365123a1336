"""The ``openai`` provider against a real OpenAI-compatible HTTP server of our own (tests/llm_server.py).

Every failure mode is provoked for real on 127.0.0.1; the server counts the requests, so "bounded retries"
is checked from the server's side, and the API key is searched for in everything a user or a log could
see.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from llm_server import FAULTS, Script, refused_url, serve

from bot import tokens
from bot.clean import load_document
from bot.config import LLM_UNAVAILABLE_NOTICE, REFUSAL, OpenAIOptions, Settings
from bot.providers.openai import LLMError, pack, runnable
from bot.types import Chunk, Hit

KEY = "sk-test-7f3a9c1e5b2d4f60a8e1c3b5d7f9a2c4"
QUESTION = "北京是哪个国家的首都？"
REPLY = "北京是中华人民共和国的首都[1]。上海是中国人口最多的城市[2]。"


def hit(n: int, text: str, title: str = "城市") -> Hit:
    return Hit(Chunk(f"c{n}", f"{n:03d}.txt", title, text, 0, len(text)), score=1.0 / n, rank=n)


HITS = [hit(1, "北京是中华人民共和国的首都，也是全国的政治中心。"), hit(2, "上海是中国人口最多的城市。")]


def settings(url: str, store_dir: Path | None = None, **overrides: object) -> Settings:
    """The ``openai`` provider at ``url``; ``overrides`` are its options (``streaming=False`` …)."""
    values: dict[str, object] = dict(base_url=url, api_key=KEY, model="test-model", timeout=0.5, max_retries=1)
    return Settings(openai=OpenAIOptions(**(values | overrides)), **({"store_dir": store_dir} if store_dir else {}))


def assert_no_key(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    shown = "".join(traceback.format_exception(exc)) + repr(exc) + caplog.text
    assert KEY not in shown
    assert exc.__cause__ is None and exc.__suppress_context__  # the original (with its headers) is not kept


def test_pack_keeps_positions_and_budget() -> None:
    hits = [hit(1, "甲" * 40), hit(2, "乙" * 400), hit(3, "丙" * 40)]
    budget = tokens.count("[1] 《城市》\n" + "甲" * 40) + tokens.count("[3] 《城市》\n" + "丙" * 40) + 4
    packed = pack(hits, budget)
    assert "[1] 《城市》" in packed and "[3] 《城市》" in packed  # [3] keeps its number after [2] is left out
    assert "[2]" not in packed
    assert tokens.count(packed) <= budget


def test_pack_cuts_an_oversized_first_passage() -> None:
    packed = pack([hit(1, "很长的段落。" * 300), hit(2, "短。")], 50)
    assert packed.startswith("[1] 《城市》\n很长的段落。")
    assert tokens.count(packed) <= 50
    assert "[2]" not in packed


def test_plain_request_sends_numbered_passages_and_rules(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(Script(reply=REPLY)) as (url, script):
        answer = runnable(settings(url, streaming=False)).invoke({"question": QUESTION, "hits": HITS})
    assert answer == REPLY
    assert len(script.requests) == 1
    request = script.requests[0]
    assert request["headers"]["authorization"] == f"Bearer {KEY}"
    body = request["body"]
    assert not body.get("stream") and body["model"] == "test-model" and body["temperature"] == 0.0
    assert body["max_tokens"] == 512
    system, user = body["messages"]
    assert system["role"] == "system" and REFUSAL in system["content"]
    assert user["content"].startswith("资料：\n[1] 《城市》\n北京是中华人民共和国的首都")
    assert "[2] 《城市》\n上海是中国人口最多的城市。" in user["content"]
    assert f"问题：{QUESTION}" in user["content"]
    assert KEY not in caplog.text


def test_streaming_yields_the_answer_in_pieces() -> None:
    with serve(Script(reply=REPLY, pieces=5)) as (url, script):
        pieces = list(runnable(settings(url)).stream({"question": QUESTION, "hits": HITS}))
    assert "".join(pieces) == REPLY
    assert len([p for p in pieces if p]) == 5
    assert script.requests[0]["body"]["stream"] is True


@pytest.mark.parametrize("repeat", [True, False])
def test_instruction_is_repeated_after_the_passages_only_when_asked(repeat: bool) -> None:
    with serve(Script(reply=REPLY)) as (url, script):
        runnable(settings(url, repeat_instruction=repeat)).invoke({"question": QUESTION, "hits": HITS})
    user = script.requests[0]["body"]["messages"][1]["content"]
    after_question = user.split(f"问题：{QUESTION}", 1)[1]
    assert (REFUSAL in after_question) is repeat


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("fault", [f for f in FAULTS if f not in ("ok", "401")])
def test_each_failure_is_retried_a_bounded_number_of_times_then_raised(
    fault: str, streaming: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(Script(reply=REPLY, fault=fault, delay=1.5)) as (url, script):
        provider = runnable(settings(url, streaming=streaming, max_retries=2))
        with pytest.raises(LLMError) as caught:
            "".join(provider.stream({"question": QUESTION, "hits": HITS}))
    if fault == "cut" and streaming:
        # Part of the answer was already handed on: retrying would show it twice, so it fails at once.
        assert len(script.requests) == 1
        assert "after part of the answer" in str(caught.value)
    else:
        assert len(script.requests) == 3  # 1 + max_retries, never more
    assert_no_key(caught.value, caplog)


def test_connection_refused_is_retried_then_raised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LLMError) as caught:
        runnable(settings(refused_url(), max_retries=2)).invoke({"question": QUESTION, "hits": HITS})
    assert "Connection" in str(caught.value)
    # Nothing listens, so the server cannot count: the client's own retry log lines do.
    assert len([r for r in caplog.records if r.getMessage().startswith("Retrying request")]) == 2
    assert_no_key(caught.value, caplog)


def test_transient_faults_are_ridden_out() -> None:
    with serve(Script(reply=REPLY, faults=["500", "429", "empty"])) as (url, script):
        answer = runnable(settings(url, max_retries=2)).invoke({"question": QUESTION, "hits": HITS})
    assert answer == REPLY
    assert len(script.requests) == 4  # client retried 500 and 429; we retried the empty 200 once


def test_key_echoed_by_the_server_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(Script(fault="401")) as (url, script):
        with pytest.raises(LLMError) as caught:
            runnable(settings(url)).invoke({"question": QUESTION, "hits": HITS})
    assert len(script.requests) == 1  # a rejected key is not retried
    assert "invalid key: ***" in str(caught.value)
    assert_no_key(caught.value, caplog)


def test_missing_key_without_a_local_endpoint_says_what_to_set() -> None:
    with pytest.raises(LLMError, match="BOT_LLM_API_KEY"):
        runnable(Settings(openai=OpenAIOptions(base_url=None)))


# --- end to end: bot.chain.answer and `qabot ask` with the openai provider against the fixture server

PUB_QUESTION = "据李礼辉引用的非官方统计,美国和中国的算力加起来占全球多少?"
FACT = "60%"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Default settings with the index (of the shipped articles) in a directory of this module's own."""
    from bot.store import ensure_index

    base = Settings(store_dir=tmp_path_factory.mktemp("store"), provider="openai")
    ensure_index(base, progress=False)
    return base


def scripted_reply(settings: Settings) -> tuple[str, str]:
    """A reply that quotes the real passage stating the figure, plus one invented sentence; and the quote."""
    from bot.chain import retriever
    from bot.chunk import sentences

    hits = retriever(settings).search(PUB_QUESTION, settings.k)
    n, text = next((n, h.chunk.text) for n, h in enumerate(hits, 1) if FACT in h.chunk.text)
    quote = next(text[s.start : s.end] for s in sentences(text) if FACT in text[s.start : s.end])
    invented = "美国一国的算力就占全球的95%"  # a figure no passage states
    return f"{quote.rstrip('。')}[{n}]。{invented}[{n}]。", quote


@pytest.mark.e2e
def test_chain_keeps_the_supported_sentence_and_drops_the_invented_one(indexed: Settings) -> None:
    from bot.chain import answer

    reply, quote = scripted_reply(indexed)
    with serve(Script(reply=reply)) as (url, script):
        result = answer(PUB_QUESTION, settings=settings(url, store_dir=indexed.store_dir), provider="openai")
    assert len(script.requests) == 1
    assert result.provider == "openai" and result.notice is None and not result.refused
    assert FACT in result.text and "95%" not in result.text
    assert [c.quote for c in result.citations] == [quote]
    cited = result.citations[0]
    assert cited.quote in load_document(indexed.articles_dir / cited.source).text


@pytest.mark.e2e
def test_chain_drops_a_paraphrase_that_moves_a_fact_to_another_company(indexed: Settings) -> None:
    """The passage says OpenAI made Sora; 百度 appears elsewhere in the articles. Most of the sentence's
    words are in the passage and its number too, so only the name check can catch it."""
    from bot.chain import answer, retriever

    question = "Sora是谁推出的?时长能到多少秒?"
    hits = retriever(indexed).search(question, indexed.k)
    n = next(n for n, h in enumerate(hits, 1) if "Sora" in h.chunk.text and "60秒" in h.chunk.text)
    reply = f"Sora是百度推出的视频生成工具,时长可以达到60秒[{n}]。Sora是OpenAI推出的视频生成工具,时长可以达到60秒[{n}]。"
    with serve(Script(reply=reply)) as (url, _):
        result = answer(question, settings=settings(url, store_dir=indexed.store_dir), provider="openai")
    assert result.notice is None and not result.refused
    assert "百度" not in result.text and "OpenAI" in result.text and len(result.citations) == 1


@pytest.mark.e2e
@pytest.mark.parametrize("fault", [f for f in FAULTS if f != "ok"] + ["refused"])
def test_chain_answers_extractively_with_the_notice_when_the_llm_fails(
    indexed: Settings, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.chain import answer

    caplog.set_level(logging.DEBUG)
    if fault == "refused":
        result = answer(PUB_QUESTION, settings=settings(refused_url(), store_dir=indexed.store_dir), provider="openai")
    else:
        with serve(Script(fault=fault, delay=1.5)) as (url, script):
            result = answer(PUB_QUESTION, settings=settings(url, store_dir=indexed.store_dir), provider="openai")
        # max_retries=1; a rejected key is not retried, nor a stream cut after its first pieces
        assert len(script.requests) == (1 if fault in ("401", "cut") else 2)
    assert result.notice == LLM_UNAVAILABLE_NOTICE
    assert not result.refused and FACT in result.text and result.citations  # the extractive answer stands in
    assert KEY not in json.dumps(result.to_dict(), ensure_ascii=False) + caplog.text


@pytest.mark.e2e
@pytest.mark.parametrize("provider,fault", [("openai", "ok"), ("openai", "500"), ("extractive", "ok")])
def test_qabot_ask_with_a_provider(indexed: Settings, provider: str, fault: str) -> None:
    reply, _ = scripted_reply(indexed)
    with serve(Script(reply=reply, fault=fault)) as (url, script):
        env = {**os.environ, "BOT_STORE_DIR": str(indexed.store_dir), "BOT_LLM_BASE_URL": url,
               "BOT_LLM_API_KEY": KEY, "BOT_LLM_MAX_RETRIES": "1"}
        run = subprocess.run([sys.executable, "-m", "bot", "ask", "--provider", provider, "--json", PUB_QUESTION],
                             env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["provider"] == provider and FACT in result["answer"]
    assert len(script.requests) == {"ok": 1, "500": 2}[fault] * (provider == "openai")
    assert result["notice"] == (LLM_UNAVAILABLE_NOTICE if fault == "500" else None)
    assert KEY not in run.stdout + run.stderr
