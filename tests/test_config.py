"""Settings: each provider's options are their own nested model, set by nested variables
(``BOT_LOCAL__THREADS``) and by the flat names README documents (``BOT_LOCAL_THREADS``,
``BOT_LLM_BASE_URL``, ``OPENAI_API_KEY``), from the environment and from a ``.env`` file."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DOCUMENTED_NAMES, Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No BOT_* or OPENAI_API_KEY from the caller's environment, and no .env but the test's own."""
    import os

    for name in list(os.environ):
        if name.startswith("BOT_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_nested_and_documented_flat_names_reach_the_provider_options(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("BOT_LOCAL__N_CTX", "1024")
    clean_env.setenv("BOT_LOCAL_THREADS", "3")
    clean_env.setenv("BOT_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    clean_env.setenv("OPENAI_API_KEY", "sk-from-openai-name")
    clean_env.setenv("BOT_CONTEXT_TOKENS", "777")
    clean_env.setenv("BOT_JUDGE_MODEL", "judge-x")
    s = Settings()
    assert (s.local.n_ctx, s.local.threads) == (1024, 3)
    assert s.openai.base_url == "http://127.0.0.1:9/v1" and s.openai.context_tokens == 777
    assert s.openai.api_key is not None and s.openai.api_key.get_secret_value() == "sk-from-openai-name"
    assert s.judge.model == "judge-x" and s.judge.base_url is None


def test_nested_beats_flat_and_bot_key_beats_openai_key(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("BOT_LOCAL__THREADS", "4")
    clean_env.setenv("BOT_LOCAL_THREADS", "3")
    clean_env.setenv("BOT_LLM_API_KEY", "sk-bot")
    clean_env.setenv("OPENAI_API_KEY", "sk-openai")
    s = Settings()
    assert s.local.threads == 4 and s.openai.api_key.get_secret_value() == "sk-bot"


def test_flat_names_in_a_dotenv_file_and_the_environment_over_it(clean_env: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("BOT_LOCAL_MODEL_PATH=/models/x.gguf\nBOT_LLM_MODEL=from-file\nBOT_LOCAL__PORT=8123\n")
    clean_env.setenv("BOT_LLM_MODEL", "from-env")
    s = Settings()
    assert s.local.model_path == Path("/models/x.gguf") and s.local.port == 8123
    assert s.openai.model == "from-env"


def test_every_flat_name_readme_documents_is_read() -> None:
    import re

    names = re.findall(r"`((?:BOT_(?:LLM|LOCAL|JUDGE)_[A-Z_]+)|OPENAI_API_KEY)`", README)
    documented = {n.lower() for n in names if "__" not in n}  # nested ones are pydantic-settings' own
    documented |= {"bot_context_tokens"} if "`BOT_CONTEXT_TOKENS`" in README else set()
    assert documented and documented <= set(DOCUMENTED_NAMES)


def test_settings_stay_hashable_for_the_per_settings_caches() -> None:
    assert hash(Settings()) == hash(Settings())


def test_an_empty_embed_cache_turns_the_cache_off(monkeypatch) -> None:
    monkeypatch.setenv("BOT_EMBED_CACHE", "")
    assert Settings().embed_cache is None
