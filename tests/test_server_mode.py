"""Chroma server mode: a real ``chroma run`` process, app "replicas" that share it and nothing else.

Each replica is its own ``Settings`` with its own ``store_dir`` (so no local file is shared) and the
same ``chroma_url``. The BM25 side lives in each replica's memory, rebuilt from the tokens stored in the
collection, so the tests check the keyword side explicitly: a replica must find, by BM25, a document that
*another* replica ingested, and must stop finding one that another replica changed.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import chromadb
import pytest

from bot import retrieve
from bot.config import ROOT, Settings
from bot.retrieve import Retriever
from bot.store import ingest
from chroma_server import chroma_server

pytestmark = pytest.mark.e2e

ARTICLE = "000_56f6738d973ede18.txt"  # holds the 180E answer
QUESTION = "2022年我国算力总规模是多少?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> str:
    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "data") as url:
        yield url


@pytest.fixture(scope="module")
def articles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("articles")
    shutil.copy(ROOT / "store" / "articles" / ARTICLE, folder / ARTICLE)
    return folder


def replica(base: Path, name: str, url: str, articles: Path) -> Settings:
    """One app instance: its own local store dir, the shared server."""
    return Settings(store_dir=base / name, chroma_url=url, articles_dir=articles, collection="server_mode")


@pytest.fixture(scope="module")
def ingested(server: str, articles: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, int]:
    settings = replica(tmp_path_factory.mktemp("replica-a"), "a", server, articles)
    report = ingest(settings=settings, progress=False)
    assert not report.failed, report.failed
    return settings, report.added


def _server_collection(url: str, name: str) -> chromadb.Collection:
    host, port = url.removeprefix("http://").split(":")
    return chromadb.HttpClient(host=host, port=int(port)).get_collection(name)


def test_ingest_goes_to_the_server_not_to_a_local_index(ingested: tuple[Settings, int], server: str) -> None:
    settings, added = ingested
    assert added > 10
    assert not settings.chroma_dir.exists(), "server mode must not create an embedded index"
    assert _server_collection(server, settings.collection).count() == added


def test_reingest_through_the_server_adds_nothing(ingested: tuple[Settings, int]) -> None:
    settings, added = ingested
    again = ingest(settings=settings, progress=False)
    assert (again.added, again.skipped, again.removed) == (0, added, 0)


def test_dense_and_bm25_both_work_against_the_server(ingested: tuple[Settings, int]) -> None:
    settings, _ = ingested
    hits = Retriever(settings).search(QUESTION)
    assert hits[0].chunk.source == ARTICLE
    assert "180E" in " ".join(h.chunk.text for h in hits[:3])
    assert any(h.dense is not None for h in hits) and any(h.lexical for h in hits)


def test_answer_with_citation_via_the_server(ingested: tuple[Settings, int]) -> None:
    from bot.chain import answer

    settings, _ = ingested
    result = answer(QUESTION, settings=settings, provider="extractive")
    assert not result.refused
    assert "180" in result.text
    assert result.citations and result.citations[0].source == ARTICLE


def test_cli_in_a_new_process_reads_the_server_via_env(ingested: tuple[Settings, int], server: str,
                                                       tmp_path: Path) -> None:
    """BOT_CHROMA_URL is the whole switch: a fresh process with an empty store dir answers from the server."""
    settings, _ = ingested
    env = {**os.environ, "BOT_CHROMA_URL": server, "BOT_STORE_DIR": str(tmp_path / "fresh"),
           "BOT_COLLECTION": settings.collection, "BOT_ARTICLES_DIR": str(settings.articles_dir)}
    run = subprocess.run([sys.executable, "-m", "bot", "ask", "--json", QUESTION], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout)
    assert not out["refused"] and "180" in out["answer"]
    assert out["citations"][0]["source"] == ARTICLE
    assert not (tmp_path / "fresh" / "chroma").exists()


def _wait_past_refresh() -> None:
    time.sleep(retrieve.REFRESH_SECONDS + 0.5)


def test_a_replica_finds_by_bm25_what_another_replica_ingested(ingested: tuple[Settings, int], server: str,
                                                               tmp_path: Path) -> None:
    settings_a, _ = ingested
    reader = Retriever(replica(tmp_path, "b", server, settings_a.articles_dir))  # started before the new file
    new = tmp_path / "extra" / "replica_note.txt"
    new.parent.mkdir()
    new.write_text("星河算力联盟\n\n星河算力联盟于去年秋天在贵阳成立，首批成员共有十七家单位。", encoding="utf-8")
    assert not ingest([new], settings=settings_a, progress=False).failed
    _wait_past_refresh()
    hits = reader.search("星河算力联盟有多少家首批成员？")
    assert hits[0].chunk.source == new.name
    assert hits[0].lexical, "the keyword side of the other replica must know the new document"


def test_a_replica_sees_another_replicas_edit_of_a_document(ingested: tuple[Settings, int], server: str,
                                                            tmp_path: Path) -> None:
    """An edit that keeps the chunk count (one chunk replaced by one) must reach the other replica too."""
    settings_a, _ = ingested
    doc = tmp_path / "edit" / "replica_edit.txt"
    doc.parent.mkdir()
    doc.write_text("青岚数据港\n\n青岚数据港的机柜总数为八千个。", encoding="utf-8")
    assert ingest([doc], settings=settings_a, progress=False).added == 1
    reader = Retriever(replica(tmp_path, "c", server, settings_a.articles_dir))
    assert reader.search("青岚数据港的机柜总数")[0].chunk.text.endswith("八千个。")

    doc.write_text("青岚数据港\n\n青岚数据港的机柜总数为一万两千个。", encoding="utf-8")
    report = ingest([doc], settings=settings_a, progress=False)
    assert (report.added, report.removed) == (1, 1)
    _wait_past_refresh()
    top = reader.search("青岚数据港的机柜总数")[0]
    assert top.chunk.text.endswith("一万两千个。"), f"replica still serves the old version: {top.chunk.text!r}"
    assert top.lexical, "BM25 of the other replica must index the edited text"


def test_a_rebuild_by_one_replica_does_not_break_another(server: str, tmp_path: Path) -> None:
    """``qabot ingest --rebuild`` drops and re-creates the collection; a running replica must follow."""
    first, second = tmp_path / "v1" / "a.txt", tmp_path / "v2" / "b.txt"
    for path, text in ((first, "甲方案\n\n甲方案的预算为三百万元。"), (second, "乙方案\n\n乙方案的预算为五百万元。")):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    writer = Settings(store_dir=tmp_path / "w", chroma_url=server, articles_dir=first.parent, collection="rebuilt")
    ingest(settings=writer, progress=False)
    reader = Retriever(Settings(store_dir=tmp_path / "r", chroma_url=server, collection="rebuilt"))
    assert reader.search("甲方案的预算")[0].chunk.source == "a.txt"

    ingest([second], rebuild=True, settings=writer, progress=False)
    _wait_past_refresh()
    hits = reader.search("乙方案的预算")
    assert [h.chunk.source for h in hits] == ["b.txt"] and hits[0].lexical
