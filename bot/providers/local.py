"""The ``local`` provider: a GGUF model served by llama.cpp on 127.0.0.1, spoken to as any OpenAI endpoint.

For an offline server with no API to call. The model runs in a child process (``python -m
llama_cpp.server`` from the ``[local]`` extra) rather than in-process, so a crash or a stuck generation
cannot take the chat app down with it, and the very same ``openai`` provider code (prompt, retries,
streaming, failure handling) is what talks to it. The child starts on first use on a free port, is
health-checked before use, reused by later calls with the same model, and stopped when the app exits.
"""
from __future__ import annotations

import atexit
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from langchain_core.runnables import Runnable
from pydantic import SecretStr

from bot import model
from bot.config import Settings
from bot.providers import openai

MODEL_ALIAS = "local"  # the name requests use; the server knows only one model


class LocalServerError(RuntimeError):
    """llama.cpp could not be started; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LlamaServer:
    """One ``llama_cpp.server`` child process serving ``model`` on 127.0.0.1:``port``."""

    model: Path
    port: int
    threads: int
    n_ctx: int
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.model), "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_threads", str(self.threads), "--n_ctx", str(self.n_ctx),
        ]  # fmt: skip

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float) -> None:
        """Start the child and wait until it answers ``/v1/models``; raise with its log if it does not."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise LocalServerError(f"llama.cpp server exited while loading {self.model.name}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # still loading
            time.sleep(0.25)
        self.stop()
        raise LocalServerError(f"llama.cpp server did not come up in {timeout:.0f}s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


_servers: dict[tuple[Path, int, int, int], LlamaServer] = {}
_lock = threading.Lock()


def server(settings: Settings) -> LlamaServer:
    """The running server for these settings, started (or restarted after a crash) if need be."""
    path = model.resolve(settings)
    key = (path, settings.local_port, settings.local_threads, settings.local_n_ctx)
    with _lock:
        running = _servers.get(key)
        if running is not None and running.alive():
            return running
        running = LlamaServer(
            model=path,
            port=settings.local_port or free_port(),
            threads=settings.local_threads,
            n_ctx=settings.local_n_ctx,
            log=settings.store_dir / "models" / "llama-server.log",
        )
        running.start(settings.local_start_timeout)
        _servers[key] = running
        return running


@atexit.register
def stop_all() -> None:
    """Stop every child this process started (registered with ``atexit``: they end with the app)."""
    with _lock:
        for running in _servers.values():
            running.stop()
        _servers.clear()


def runnable(settings: Settings) -> Runnable:
    """The ``openai`` provider pointed at the local llama.cpp server, with the local budgets."""
    running = server(settings)
    return openai.runnable(
        settings.model_copy(
            update={
                "llm_base_url": running.base_url,
                "llm_api_key": SecretStr(openai.NO_KEY),
                "llm_model": MODEL_ALIAS,
                "llm_timeout": settings.local_timeout,
                "llm_max_retries": settings.local_max_retries,
                "context_tokens": settings.local_context_tokens,
            }
        )
    )
