"""Load: 20 concurrent chat sessions through ``gradio_client`` against the running app, for about a minute.

Each session is its own ``Client`` (its own Gradio session) asking its own questions in a loop, with its
own growing history. The extractive provider is deterministic, so before the load every question is
asked once alone: under load each session must get exactly that answer for the question *it* asked —
never another session's, never an error. Latency p50/p95 and the error count are printed and written to
``test-output/load.json``; they are figures to read, not thresholds (performance is not asserted here).
"""
from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app_server import running_app
from bot.config import ROOT

pytestmark = pytest.mark.e2e

SESSIONS = 20
LOAD_SECONDS = 60
ARTICLES = ("000_56f6738d973ede18.txt", "001_4c16fc4f0885e345.txt")
QUESTIONS = [  # about both articles, so sessions get visibly different answers
    "2022年我国算力总规模是多少?",
    "讯飞和华为发布的大模型算力平台叫什么?",
    "据李礼辉引用的非官方统计,美国和中国的算力加起来占全球多少?",
    "星火认知大模型V3.0对标的是什么?",
    "AI大模型大致分为几层?",
]


def _session(url: str, index: int, references: dict[str, dict], deadline: float, results: list[dict]) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    history: list[list[str]] = []
    turn = 0
    while time.monotonic() < deadline:
        question = QUESTIONS[(index + turn) % len(QUESTIONS)]
        record = {"session": index, "question": question}
        started = time.perf_counter()
        try:
            got = client.predict(question, history[-4:], "", api_name="/ask")
            record["ms"] = (time.perf_counter() - started) * 1000
            want = references[question]
            record["own_answer"] = (got["question"] == question and got["answer"] == want["answer"]
                                    and [c["source"] for c in got["citations"]]
                                    == [c["source"] for c in want["citations"]])
            history.append([question, got["answer"]])
        except Exception as err:  # noqa: BLE001 - every failure is counted and shown
            record["error"] = f"{type(err).__name__}: {err}"
        results.append(record)
        turn += 1


def test_twenty_concurrent_sessions(tmp_path: Path) -> None:
    from gradio_client import Client

    articles = tmp_path / "articles"
    articles.mkdir()
    for name in ARTICLES:
        shutil.copy(ROOT / "store" / "articles" / name, articles / name)
    with running_app(tmp_path, articles) as url:
        solo = Client(url, verbose=False)
        references = {q: solo.predict(q, [], "", api_name="/ask") for q in QUESTIONS}
        assert all(not r["refused"] for r in references.values())
        assert len({r["answer"] for r in references.values()}) == len(QUESTIONS)

        results: list[dict] = []
        deadline = time.monotonic() + LOAD_SECONDS
        threads = [threading.Thread(target=_session, args=(url, i, references, deadline, results))
                   for i in range(SESSIONS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=LOAD_SECONDS + 300)
        wall = time.monotonic() - started

    errors = [r for r in results if "error" in r]
    ms = [r["ms"] for r in results if "ms" in r]
    figures = {
        "sessions": SESSIONS, "seconds": round(wall, 1), "requests": len(results), "errors": len(errors),
        "p50_ms": round(float(np.percentile(ms, 50)), 1) if ms else None,
        "p95_ms": round(float(np.percentile(ms, 95)), 1) if ms else None,
        "throughput_per_s": round(len(ms) / wall, 2),
        "sessions_served": len({r["session"] for r in results if "ms" in r}),
    }
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps({**figures, "first_errors": errors[:5]}, ensure_ascii=False, indent=1))
    print("load:", json.dumps(figures))

    assert not any(t.is_alive() for t in threads), "a session hung past the load window"
    assert not errors, errors[:5]
    assert figures["sessions_served"] == SESSIONS, "some session never got an answer"
    wrong = [r for r in results if "ms" in r and not r["own_answer"]]
    assert not wrong, f"{len(wrong)} answers were not the asking session's own: {wrong[:3]}"
