"""The LangChain-tutorial baseline: real MiniLM (from its wheel, offline), real Chroma, raw files."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ROOT
from bot.naive import CHUNK_OVERLAP, CHUNK_SIZE, TOP_K, NaivePipeline, available, raw_documents, split

pytestmark = pytest.mark.skipif(not available(), reason='needs the optional extra: pip install -e ".[compare]"')

ARTICLES = [ROOT / "store" / "articles" / n for n in ("000_56f6738d973ede18.txt", "002_e3bc3ba30a8100f6.txt")]


def test_split_is_the_tutorials_character_splitter() -> None:
    docs = raw_documents(ARTICLES)
    pieces = list(split(docs))
    assert {source for source, _ in pieces} == {p.name for p in ARTICLES}
    assert max(len(text) for _, text in pieces) <= CHUNK_SIZE
    first, second = (text for source, text in pieces[:2])
    assert first[-20:] in second[:CHUNK_OVERLAP]  # consecutive chunks overlap
    assert docs[0].text == ARTICLES[0].read_text(encoding="utf-8")  # raw text, no cleaning


def test_build_search_and_reopen(tmp_path: Path) -> None:
    pipeline = NaivePipeline(tmp_path / "naive")
    n = pipeline.build(raw_documents(ARTICLES))
    assert n == len(list(split(raw_documents(ARTICLES))))
    hits = pipeline.search("2022年我国算力总规模达到每秒180E")
    assert len(hits) == TOP_K
    scores = [score for _, _, score in hits]
    assert scores == sorted(scores, reverse=True) and all(-1.0 <= s <= 1.0 for s in scores)
    assert all(source in {p.name for p in ARTICLES} and text for source, text, _ in hits)
    assert NaivePipeline(tmp_path / "naive").count() == n  # persisted, reopens without rebuilding
    assert pipeline.build(raw_documents(ARTICLES[:1])) < n  # build starts from a fresh collection


def test_install_hint_names_the_extra() -> None:
    from bot.naive import install_hint

    assert ".[compare]" in install_hint()
