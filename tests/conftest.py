"""Shared fixtures. The real index of the five articles is built once per test session (about a minute
on two cores) in the project's own store, exactly as ``python app.py`` builds it on a fresh clone."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import ROOT, Settings, get_settings
from bot.store import ensure_index

ARTICLES = ROOT / "store" / "articles"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The default settings, with the index of store/articles built (once) if missing."""
    s = get_settings()
    ensure_index(s, progress=False)
    return s


@pytest.fixture
def tmp_settings(tmp_path: Path) -> Settings:
    """An empty store and article folder of its own, for tests that ingest."""
    (tmp_path / "articles").mkdir()
    return Settings(store_dir=tmp_path / "store", articles_dir=tmp_path / "articles")


def copy_article(name: str, folder: Path) -> Path:
    return Path(shutil.copy(ARTICLES / name, folder / name))
