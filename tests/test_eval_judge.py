"""The optional LLM judge against a real local OpenAI-compatible HTTP server (tests/llm_server.py)."""
from __future__ import annotations

import json

import pytest

from bot.config import JudgeOptions, Settings
from bot.eval.dataset import Item
from bot.eval.judge import correctness, faithfulness, judge_run
from bot.types import Answer, Chunk, Hit
from llm_server import Script, serve

ITEM = Item("j1", "美中算力占全球多少?", "约60%。", (("60%",),), ("a.txt",), ("60%左右",), "number")
PASSAGE = "据非官方统计,美、中两国的算力占全球算力的60%左右"
ANSWER = Answer("q", "两国算力约占全球的60%[1],且在增长[1]。", False, "extractive",
                retrieved=[Hit(Chunk("c", "a.txt", "t", PASSAGE, 0, len(PASSAGE)), 1.0, 1)])
# One reply that carries both verdicts' keys, since the server answers every request alike.
VERDICT = {"claims": [{"claim": "约占60%", "supported": True}, {"claim": "在增长", "supported": False}],
           "tp": ["约60%"], "fp": ["在增长"], "fn": []}


def test_scores_follow_ragas_definitions():
    assert faithfulness(VERDICT) == 0.5
    assert correctness(VERDICT) == pytest.approx(1 / 1.5)
    assert faithfulness({"claims": []}) is None
    with pytest.raises(ValueError):
        correctness({"tp": "x", "fp": [], "fn": []})


def test_skipped_with_a_note_when_no_judge_is_configured():
    summary, verdicts = judge_run([ITEM], [ANSWER], Settings(judge=JudgeOptions(base_url=None)))
    assert "no judge configured" in summary["skipped"] and verdicts == [None]


def test_judge_over_real_http_and_prompt_carries_context():
    with serve(Script(reply=json.dumps(VERDICT, ensure_ascii=False))) as (url, script):
        summary, verdicts = judge_run([ITEM], [ANSWER], Settings(judge=JudgeOptions(base_url=url, model="judge-x")))
    assert summary["faithfulness"] == 0.5 and summary["answer_correctness"] == pytest.approx(2 / 3)
    assert (summary["n_judged"], summary["n_errors"], summary["model"]) == (1, 0, "judge-x")
    prompts = [r["body"]["messages"][0]["content"] for r in script.requests]
    assert len(prompts) == 2 and PASSAGE in prompts[0] and "约60%。" in prompts[1]


def test_refusal_is_not_faithfulness_judged_and_bad_replies_are_errors():
    refused = Answer("q", "抱歉，资料中没有找到与该问题相关的信息。", True, "extractive")
    with serve(Script(reply="I think it is fine.")) as (url, script):
        settings = Settings(judge=JudgeOptions(base_url=url, max_retries=0))
        summary, verdicts = judge_run([ITEM, ITEM], [refused, ANSWER], settings)
    assert len(script.requests) == 3  # refusal: correctness only
    assert summary["n_errors"] == 2 and summary["faithfulness"] is None
    assert "answer_correctness" in verdicts[0]["error"] and "faithfulness" in verdicts[1]["error"]
