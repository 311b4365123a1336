"""Ingest: articles → clean → chunks → the index (:class:`bot.index.Index`, one Chroma collection).

Chunk ids are content hashes, so re-ingesting unchanged files adds nothing. A changed file's new chunks
are added *before* its old ones are deleted: an interrupted ingest leaves the previous version
answerable and the next run completes it. Ingests in one process take turns (a lock): the chat app
ingests uploads in its own process while it answers.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.chunk import chunk_document
from bot.clean import CleanError, load_document
from bot.config import Settings, get_settings
from bot.index import Index
from bot.lexical import tokenize
from bot.parse import PARSERS
from bot.types import Chunk, Document

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = set(PARSERS)  # what a folder is searched for; a file named directly may be any text
EMBED_BATCH = 16
_lock = threading.Lock()  # one writer at a time in this process (uploads from several sessions)
ChunkProgress = Callable[[int, int], None]  # (chunks stored so far, chunks to store)


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


def article_files(paths: list[Path]) -> list[Path]:
    """Files named directly, plus article files (by suffix) found below named directories, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)
        else:
            found.append(path)
    return found


def _metadata(chunk: Chunk, doc: Document, size: int, added: str) -> dict[str, str | int]:
    """What a chunk carries besides its text: offsets, BM25 tokens, and its article's facts for the
    资料库 list (the file's size, when this version was indexed)."""
    return {
        "source": chunk.source, "title": chunk.title, "start": chunk.start, "end": chunk.end,
        "doc_sha256": doc.sha256, "bytes": size, "added": added,
        "tokens": " ".join(tokenize(f"{chunk.title} {chunk.text}")),
    }


def ingest(paths: list[Path] | None = None, *, rebuild: bool = False, settings: Settings | None = None,
           progress: bool = True, on_chunks: ChunkProgress | None = None) -> IngestReport:
    """Clean, chunk, embed and store articles. Files that fail are reported by name; the rest go in.

    ``progress`` draws a terminal bar; ``on_chunks`` is told how far the embedding is (the chat's
    upload shows it as its progress bar)."""
    settings = settings or get_settings()
    with _lock:
        index = Index(settings)
        if rebuild:
            index.drop()
        report = IngestReport()
        files = article_files(paths or [settings.articles_dir])
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, disable=not progress, transient=False) as bar:
            file_task = bar.add_task("文章", total=len(files))
            chunk_task = bar.add_task("片段", total=0)
            writer = _Writer(index, report, bar, chunk_task, on_chunks)
            for path in files:
                bar.update(file_task, description=f"文章 {path.name}")
                try:
                    writer.put(_prepare(path, index, settings))
                except CleanError as err:
                    report.failed.append((path.name, str(err)))
                except Exception as err:  # noqa: BLE001 - one bad file must not stop the others
                    log.exception("ingest failed for %s", path)
                    report.failed.append((path.name, f"{type(err).__name__}: {err}"))
                bar.advance(file_task)
            writer.flush()
    return report


@dataclass
class _Update:
    """One file's change to the index: chunks to add (with metadata), ids to drop once they are in."""

    name: str
    source: str
    new: list[tuple[Chunk, dict[str, str | int]]]
    stale: set[str]
    skipped: int


def _prepare(path: Path, index: Index, settings: Settings) -> _Update:
    doc = load_document(path, settings.max_file_bytes, settings.max_article_chars)
    chunks = chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap_tokens)
    old_ids = set(index.ids(doc.source))
    added = datetime.now(UTC).isoformat(timespec="seconds")
    size = path.stat().st_size
    new = [(c, _metadata(c, doc, size, added)) for c in chunks if c.id not in old_ids]
    return _Update(path.name, doc.source, new, old_ids - {c.id for c in chunks}, len(chunks) - len(new))


class _Writer:
    """Writes files' chunks in shared batches: a directory of thousands of one-chunk files would
    otherwise pay one embedding call and one Chroma write per file (0.07 s each, ~3x the batched cost).
    A file's stale chunks are deleted only after its new ones are stored, and a failed write fails
    just the files whose chunks it carried."""

    def __init__(self, index: Index, report: IngestReport, bar: Progress, chunk_task: int,
                 on_chunks: ChunkProgress | None) -> None:
        self.index, self.report, self.bar, self.chunk_task = index, report, bar, chunk_task
        self.on_chunks = on_chunks
        self.pending: list[_Update] = []

    def _advance(self, n: int = 0, total: int = 0) -> None:
        task = self.bar.tasks[self.chunk_task]
        self.bar.update(self.chunk_task, advance=n, total=(task.total or 0) + total)
        if self.on_chunks:
            self.on_chunks(int(task.completed), int(task.total or 0))

    def put(self, update: _Update) -> None:
        self._advance(total=len(update.new))
        self.pending.append(update)
        if sum(len(u.new) for u in self.pending) >= EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        rows = [row for u in pending for row in u.new]
        try:
            for i in range(0, len(rows), EMBED_BATCH):
                batch = rows[i : i + EMBED_BATCH]
                self.index.add(texts=[c.text for c, _ in batch], metadatas=[m for _, m in batch],
                               ids=[c.id for c, _ in batch])
                self._advance(len(batch))
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
        self.index.delete(sorted(u.stale))
        self.report.documents.append(u.source)
        self.report.added += len(u.new)
        self.report.skipped += u.skipped
        self.report.removed += len(u.stale)


def remove(source: str, settings: Settings | None = None) -> int:
    """Remove one article's chunks (between ingests, never during one); how many there were."""
    with _lock:
        return Index(settings or get_settings()).remove(source)


def ensure_index(settings: Settings | None = None, progress: bool = True) -> IngestReport | None:
    """Build the index from ``articles_dir`` if the collection is empty (first start of a fresh clone)."""
    settings = settings or get_settings()
    if Index(settings).count() > 0:
        return None
    return ingest(settings=settings, progress=progress)
