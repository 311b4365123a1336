"""``python app.py [options]`` in a subprocess, exactly as a deployer starts it, for browser and API tests.

Ready when the app prints that it is serving — which also works with ``--auth``, where every page answers
401 until one logs in. The store (index and articles) lives in the given folder; the first start there
builds the index. Stopped with SIGTERM (the app shuts down within seconds even with open event streams).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.config import ROOT
from chroma_server import free_port

READY = "聊天已启动"  # what app.py prints once it serves
START_SECONDS = 600  # the first start embeds every article of the store


@contextmanager
def launched(store: Path, *args: str, **env: str) -> Iterator[tuple[str, Path]]:
    """app.py with ``args`` on ``store`` (articles in ``store/articles``); yields (base URL, console log)."""
    port = free_port()
    log = store / f"console-{port}.log"
    full_env = {**os.environ, "BOT_STORE_DIR": str(store), "BOT_ARTICLES_DIR": str(store / "articles"), **env}
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), *args],
                                env=full_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while READY not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
