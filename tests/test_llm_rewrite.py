"""The LLM condense step against a real OpenAI-compatible HTTP server of our own (tests/llm_server.py):
the model's rewrite is used, and the deterministic one stands whenever the model fails or answers with
something that is not one question."""
from __future__ import annotations

from llm_server import Script, serve

from bot.config import OpenAIOptions, Settings
from bot.llm_rewrite import rewriter
from bot.rewrite import standalone

HISTORY = [("ChatGPT推出后多久月活就破了一亿？", "ChatGPT……2个月内突破月活跃用户1亿大关[1]")]
FOLLOW_UP = "那文心一言呢？"
LLM_REWRITE = "文心一言推出后多久月活就破了一亿？"


def llm_settings(url: str) -> Settings:
    return Settings(openai=OpenAIOptions(api_key="sk-test", base_url=url, model="test-model", timeout=2.0))


def sent(script: Script) -> str:
    return script.requests[0]["body"]["messages"][-1]["content"]


def test_the_models_rewrite_is_used_and_sees_the_conversation():
    with serve(Script(reply=LLM_REWRITE)) as (url, script):
        made = standalone(FOLLOW_UP, HISTORY, rewriter(llm_settings(url)))
    assert made.text == LLM_REWRITE
    prompt = sent(script)
    assert HISTORY[0][0] in prompt and FOLLOW_UP in prompt and "改写" in prompt  # prompts/condense.txt
    # the rules alone only read it after the previous question
    assert standalone(FOLLOW_UP, HISTORY).text == f"{HISTORY[0][0]} {FOLLOW_UP}"


def test_a_failing_model_leaves_the_deterministic_rewrite():
    with serve(Script(fault="500")) as (url, script):
        made = standalone("那美国呢？", [("2022年我国算力总规模是多少？", "…")], rewriter(llm_settings(url)))
    assert made.text == "2022年美国算力总规模是多少？" and made.swap == ("我国", "美国")
    assert len(script.requests) == 1  # no retries: the fallback is at hand


def test_an_answer_instead_of_a_question_is_not_taken():
    essay = "2022年我国算力总规模达到每秒180E。\n美国排名第一。"
    with serve(Script(reply=essay)) as (url, _):
        made = standalone("那美国呢？", [("2022年我国算力总规模是多少？", "…")], rewriter(llm_settings(url)))
    assert made.text == "2022年美国算力总规模是多少？"


def test_a_question_that_stands_alone_never_reaches_the_model():
    with serve(Script(reply=LLM_REWRITE)) as (url, script):
        made = standalone("薛澜是在什么场合说中国大模型是套壳的？", HISTORY, rewriter(llm_settings(url)))
    assert made.text == "薛澜是在什么场合说中国大模型是套壳的？" and not script.requests


def test_the_chain_refuses_the_models_rewrite_naming_the_missing_subject(settings):
    from bot.chain import answer

    with serve(Script(reply="2022年美国的算力总规模是多少？")) as (url, script):
        endpoint = settings.openai.model_copy(update={"base_url": url, "model": "test-model", "timeout": 2.0})
        over = settings.model_copy(update={"openai": endpoint})
        result = answer("那美国呢？", [("2022年我国算力总规模是多少？", "…180E…[1]")], provider="openai", settings=over)
    assert result.rewritten == "2022年美国的算力总规模是多少？"
    assert result.refused and result.text == "资料中没有提到美国的算力总规模。"
    assert len(script.requests) == 1  # the condense request; the refusal needs no answer from the model
