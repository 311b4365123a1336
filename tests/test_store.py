"""Ingest into a real embedded Chroma: idempotent, replaces changed files, reopens in a new process,
takes GBK, names the files it cannot take."""
import subprocess
import sys

from bot.config import Settings
from bot.retrieve import Retriever
from bot.index import Index
from bot.store import ingest
from tests.conftest import copy_article


def count(settings: Settings) -> int:
    return Index(settings).count()


def test_reingesting_the_same_files_adds_nothing(tmp_settings: Settings):
    copy_article("002_e3bc3ba30a8100f6.txt", tmp_settings.articles_dir)
    first = ingest(settings=tmp_settings, progress=False)
    assert first.added > 10 and not first.failed
    again = ingest(settings=tmp_settings, progress=False)
    assert (again.added, again.removed, again.skipped) == (0, 0, first.added)
    assert count(tmp_settings) == first.added


def test_a_changed_file_replaces_its_old_chunks(tmp_settings: Settings):
    path = tmp_settings.articles_dir / "note.txt"
    path.write_text("第一版。算力是数字经济的底座。", encoding="utf-8")
    ingest(settings=tmp_settings, progress=False)
    path.write_text("第二版。数据是大模型的胜负手。", encoding="utf-8")
    report = ingest(settings=tmp_settings, progress=False)
    assert report.added == 1 and report.removed == 1
    texts = [c.text for c in Index(tmp_settings).load_chunks()[0]]
    assert texts == ["第二版。数据是大模型的胜负手。"]


def test_gbk_file_ingests_and_bad_files_are_named_while_the_rest_go_in(tmp_settings: Settings):
    folder = tmp_settings.articles_dir
    (folder / "gbk.txt").write_bytes("华傲数据联合深圳数据交易所组建了算料联盟筹备小组。".encode("gbk"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    report = ingest(settings=tmp_settings, progress=False)
    assert report.documents == ["gbk.txt"]
    failed = dict(report.failed)
    assert set(failed) == {"empty.txt", "binary.txt"}
    assert "空文件" in failed["empty.txt"] and "二进制" in failed["binary.txt"]
    assert "华傲数据" in Index(tmp_settings).load_chunks()[0][0].text


def test_collection_reopens_in_a_new_process_with_its_registered_embedding(tmp_settings: Settings):
    copy_article("004_3c609e55f06ef016.txt", tmp_settings.articles_dir)
    ingest(settings=tmp_settings, progress=False)
    # A new process that only knows the path: Chroma rebuilds our embedding function from the
    # collection's stored config (by its registered name), never its default downloading one.
    code = (
        "import sys, chromadb, bot.embeddings;"
        "c = chromadb.PersistentClient(path=sys.argv[1]).get_collection('articles');"
        "print(type(c.configuration['embedding_function']).__name__);"
        "r = c.query(query_texts=['智能涌现需要多少参数'], n_results=1);"
        "print(r['documents'][0][0])"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_settings.chroma_dir)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    name, best = out.stdout.splitlines()[:2]
    assert name == "E5ChromaFunction"
    assert "600亿参数" in best


def test_a_retriever_in_the_same_process_sees_an_ingest_at_once(tmp_settings: Settings):
    """Not within bot.retrieve.REFRESH_SECONDS: the next search after ingest() already has the file."""
    (tmp_settings.articles_dir / "a.txt").write_text("算力是数字经济的底座。", encoding="utf-8")
    ingest(settings=tmp_settings, progress=False)
    retriever = Retriever(tmp_settings)
    assert [h.chunk.source for h in retriever.search("算力", 5)] == ["a.txt"]
    (tmp_settings.articles_dir / "b.txt").write_text("布莱切利宣言由28个国家和欧盟签署。", encoding="utf-8")
    ingest(settings=tmp_settings, progress=False)
    assert retriever.search("布莱切利宣言", 1)[0].chunk.source == "b.txt"
    assert len(retriever.chunks) == 2
