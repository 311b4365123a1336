"""The real chat app (``python app.py``) in a subprocess on 127.0.0.1, for tests that use its Gradio API.

The app owns its own store directory (an embedded Chroma index must have one process writing it), builds
the index from ``articles`` on first start exactly as a user's first run does, and is stopped here.
Tests reach it only through the public named endpoint ``ask``, with ``gradio_client``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.config import ROOT
from chroma_server import free_port, stop, wait_ready

STARTUP_SECONDS = 600  # the first start embeds the articles


@contextmanager
def running_app(workdir: Path, articles: Path, **env: str) -> Iterator[str]:
    """Start ``app.py`` with its store in ``workdir``; yields the base URL once the page answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log = workdir / f"app-{port}.log"
    full_env = {**os.environ, "BOT_STORE_DIR": str(workdir / "store"), "BOT_ARTICLES_DIR": str(articles),
                "BOT_HOST": "127.0.0.1", "BOT_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", **env}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=workdir, env=full_env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"{url}config", proc, log, STARTUP_SECONDS)
        yield url
    finally:
        stop(proc, grace=20)
