"""report.html: the metric table with deltas, one chart per type, failed items side by side, all escaped."""
from __future__ import annotations

import base64
import re

from bot.eval.dataset import Item
from bot.eval.metrics import aggregate, by_type, failed, score_item
from bot.eval.report import render
from bot.types import Answer, Chunk, Citation, Hit

TEXT = {"a.txt": "美、中两国的算力占全球算力的60%左右。"}


def make_run():
    items = [
        Item("ok-1", "占比?", "60%", (("60%",),), ("a.txt",), ("占全球算力的60%左右",), "number"),
        Item("bad<1>", "<script>alert(1)</script>占比?", "60%", (("60%",),), ("a.txt",), ("60%左右",), "fact"),
    ]
    good = Citation(1, "a.txt", "t", "占全球算力的60%左右", 1.0, 6, 16)
    fake = Citation(1, "a.txt", "t", "<b>编造</b>", 1.0, 0, 0)
    hit = Hit(Chunk("c1", "a.txt", "t", TEXT["a.txt"], 0, len(TEXT["a.txt"])), 1.0, 1)
    answers = [Answer("q", "约60%[1]。", False, "extractive", citations=[good], retrieved=[hit]),
               Answer("q", "<img src=x onerror=alert(1)>三成[1]", False, "extractive", citations=[fake])]
    scores = [score_item(i, a, TEXT.get) for i, a in zip(items, answers)]
    records = [
        {"id": i.id, "type": i.type, "question": i.question, "reference": i.answer,
         "key_facts": [list(f) for f in i.key_facts], "sources": list(i.sources), "answer": a.text,
         "refused": a.refused, "error": None, "metrics": s.to_dict(), "failed": failed(i, s),
         "citations": [{**c.__dict__, "verbatim": c.quote in TEXT[c.source]} for c in a.citations]}
        for i, a, s in zip(items, answers, scores)
    ]
    overall = aggregate(scores)
    gate_rows = [{"metric": "key_fact_recall", "value": overall["key_fact_recall"], "baseline": 0.9,
                  "tolerance": 0.03, "delta": overall["key_fact_recall"] - 0.9, "regressed": True}]
    summary = {
        **overall, "by_type": by_type(items, scores), "n_items": 2, "n_by_type": {"number": 1, "fact": 1},
        "provider": "extractive", "dataset": "x.jsonl", "git_commit": "abc123", "started_at": "now",
        "latency_ms": {"p50": 10.0, "p95": 20.0},
        "answer_chars": {"p50": 9.0, "p95": 20.0}, "reference_chars": {"p50": 3.0, "p95": 3.0}, "n_errors": 0,
        "judge": {"skipped": "no judge configured"},
        "gate": {"compared": True, "passed": False, "note": "baseline from abc",
                 "failures": ["key_fact_recall: 0.500 vs baseline 0.900 - tolerance 0.030"], "rows": gate_rows},
    }
    return summary, records


def test_report_has_table_chart_and_failed_items_escaped():
    html = render(*make_run())
    assert "<script>" not in html and "<img src=x" not in html and "<b>编造</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;编造&lt;/b&gt;" in html
    assert "−0.400" in html or "-0.400" in html  # the delta against the baseline
    assert "Gate FAILED" in html and "regressed" in html
    assert "Skipped: no judge configured" in html
    assert "✗ quote not verbatim" in html
    assert "Failed items (1 of 2)" in html and "bad&lt;1&gt;" in html and "ok-1" not in html.split("Failed items")[1]
    png = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html).group(1)
    assert base64.b64decode(png).startswith(b"\x89PNG")
