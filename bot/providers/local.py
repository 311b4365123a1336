"""The ``local`` provider: a GGUF model served by llama.cpp on 127.0.0.1, writing a short answer from the
sentences the extractive answer would quote.

- **What it reads.** The relevance gate has already judged the question answerable, and the extractive
  selection has picked the sentences that answer it; a 1.5B model reads and judges whole passages poorly
  (and slowly: ~1,500 prompt tokens on 2 cores). So it gets only those sentences, numbered as their
  passages (``[n]`` = position in ``hits``), and is asked to say the answer briefly in simplified Chinese
  with ``[n]`` — a prompt of ~300 tokens (``prompts/local_*.txt``). ``bot.citations`` verifies what it
  writes like any model's answer, and the chain quotes the sentences instead when the answer left out a
  figure or name they state (``bot.citations.lost_facts``).
- **What it writes.** Answers that are a figure, a date, a name or a work (the question's answer type):
  a short sentence can say those without losing them. A question that asks why, what or how is answered
  by the quoted sentences themselves, without the model: its paraphrases of an explanation kept the
  sense but not the source's words (key-fact recall on cmrc-ci 0.52 where the quotes give 0.66, with
  the figures and names already kept), and cost 1–5 s each.
- **Where it runs.** A child process (``python -m bot.llamacpp serve``, which loads the CPU backend of
  the runtime-dispatch build, then runs ``llama_cpp.server``), so a crash cannot take the app with it;
  spoken to through the ``openai`` provider's client and failure handling. It starts on first use on a
  free port, is health-checked, reused, and stopped when the app exits — and killed by the kernel when
  the app dies any other way (SIGTERM, SIGKILL, a crash: ``bot.llamacpp.die_with_parent``), so no
  orphaned server keeps the model's memory and its port.
- **Supervision.** When the child dies, the cause is recorded (the signal's name; for SIGILL the
  CPU-feature problem and the rebuild command) and it is restarted once — after a SIGILL on the portable
  AVX2 library of a runtime-dispatch build, in case the CPU's best one is what crashed. If it dies
  again, the provider is unavailable for the rest of the process: questions go straight to the
  extractive answer with a notice naming the cause, without starting (or waiting for) a child again.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableConfig, RunnableGenerator, RunnableLambda
from pydantic import SecretStr

from bot import llamacpp, model, tokens
from bot.config import Endpoint, LocalOptions, Settings
from bot.evidence import Sentence
from bot.providers import extractive, openai
from bot.textnorm import to_simplified
from bot.types import Hit

log = logging.getLogger(__name__)

MODEL_ALIAS = "local"  # the name requests use; the server knows only one model
MAX_RESTARTS = 1  # after the first death; the second one makes the provider unavailable
PORTABLE_VARIANT = "haswell"  # the dispatch build's AVX2/FMA/F16C/BMI2 library: runs on any x86-64 with AVX2


class LocalServerError(RuntimeError):
    """llama.cpp could not be started; the message carries the end of its log. ``notice`` is for users."""

    def __init__(self, message: str, notice: str) -> None:
        super().__init__(message)
        self.notice = notice


class LocalUnavailable(RuntimeError):
    """The child died (again): ``notice`` names the cause for the user (``bot.chain`` shows it)."""

    def __init__(self, notice: str) -> None:
        super().__init__(notice)
        self.notice = notice


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_spawns: queue.SimpleQueue[tuple[list[str], dict[str, Any], Future[subprocess.Popen[bytes]]]] = queue.SimpleQueue()
_spawner: threading.Thread | None = None
_spawner_lock = threading.Lock()


def _spawn_forever() -> None:
    while True:
        command, options, done = _spawns.get()
        if done.set_running_or_notify_cancel():
            try:
                done.set_result(subprocess.Popen(command, **options))
            except BaseException as err:  # noqa: BLE001 - handed to the caller, which raises it
                done.set_exception(err)


def spawn(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(command, **options)``, forked from one daemon thread that lives as long as the
    process. The child dies with the thread that forked it (``PR_SET_PDEATHSIG``), and the thread that
    asks for a child may be short-lived: Gradio answers in worker threads that end after 10 s idle,
    which would kill the server between two questions."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = threading.Thread(target=_spawn_forever, name="llama-spawner", daemon=True)
            _spawner.start()
    done: Future[subprocess.Popen[bytes]] = Future()
    _spawns.put((command, options, done))
    return done.result()


def death_cause(returncode: int, log_tail: str = "") -> str:
    """Why the child ended, as a sentence for the user: the signal's name, and for SIGILL the CPU-feature
    problem and the fix."""
    if returncode == llamacpp.MISSING_FEATURES_EXIT:  # the child's own check said why, in its log
        said = [ln.removeprefix("qabot: ") for ln in log_tail.splitlines() if "需要本机 CPU 不支持" in ln]
        return said[-1] if said else llamacpp.lacking_sentence(["?"])
    if returncode >= 0:
        return f"llama.cpp 进程退出，返回码 {returncode}"
    name = signal.Signals(-returncode).name
    if -returncode == signal.SIGILL:
        return (f"llama.cpp 进程因 SIGILL（非法指令）退出：这份 llama.cpp 构建使用了本机 CPU（{llamacpp.cpu_model()}）"
                f"不支持的指令（如 AVX-512、AMX）。请用可移植参数重新编译：{llamacpp.REBUILD_AVX2}")
    if -returncode == signal.SIGKILL:
        return "llama.cpp 进程被 SIGKILL 强制结束（常见原因：内存不足被系统结束）"
    return f"llama.cpp 进程被信号 {name} 结束"


@dataclass
class LlamaServer:
    """One llama.cpp server child process serving ``model`` on 127.0.0.1:``port``."""

    model: Path
    port: int
    threads: int
    n_ctx: int
    log: Path
    cpu_variant: str | None = None  # a runtime-dispatch build's CPU library; None = the best for this CPU
    spin: int = 0  # GOMP_SPINCOUNT of its threads
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        variant = ["--cpu-variant", self.cpu_variant] if self.cpu_variant else []
        return [
            sys.executable, "-m", "bot.llamacpp", "--parent-pid", str(os.getpid()), "serve", *variant,
            "--model", str(self.model), "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_threads", str(self.threads), "--n_ctx", str(self.n_ctx),
        ]  # fmt: skip

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self, grace: float = 1.0) -> int | None:
        """The child's exit code, or None while it runs. A request that failed because the child died
        can fail a moment before the kernel reports the exit: wait up to ``grace`` seconds for it."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            return None

    def start(self, timeout: float) -> None:
        """Start the child and wait until it answers ``/v1/models``; raise with its log if it does not."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = spawn(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                env={**os.environ, "GOMP_SPINCOUNT": str(self.spin)},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                cause = death_cause(self.process.returncode, self.tail())
                raise LocalServerError(
                    f"llama.cpp server exited while loading {self.model.name} ({cause}):\n{self.tail()}", cause
                )
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # still loading
            time.sleep(0.25)
        self.stop()
        cause = f"llama.cpp 在 {timeout:.0f} 秒内没有启动"
        raise LocalServerError(f"llama.cpp server did not come up in {timeout:.0f}s:\n{self.tail()}", cause)

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


@dataclass
class Supervisor:
    """The child for one configuration: started on demand, restarted once after a death, then given up."""

    model: Path
    options: LocalOptions
    log: Path
    server: LlamaServer | None = None
    deaths: list[str] = field(default_factory=list)  # causes, oldest first
    unavailable: str | None = None  # the notice once given up
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def running(self) -> LlamaServer:
        """The live child, started or restarted if need be; ``LocalUnavailable`` once given up."""
        with self.lock:
            if self.unavailable:
                raise LocalUnavailable(self.unavailable)
            if self.server is not None and self.server.alive():
                return self.server
            if self.server is not None:  # died while nobody was asking
                dead, self.server = self.server, None
                self._record(death_cause(dead.process.returncode, dead.tail()))
            self.server = LlamaServer(
                model=self.model,
                port=self.options.port or free_port(),
                threads=self.options.threads,
                n_ctx=self.options.n_ctx,
                log=self.log,
                cpu_variant=self._variant(),
                spin=self.options.spin,
            )
            try:
                self.server.start(self.options.start_timeout)
            except LocalServerError as err:
                self.server = None
                self._record(err.notice)
                raise LocalServerError(str(err), self.notice()) from None
            return self.server

    def died(self, server: LlamaServer) -> bool:
        """Whether ``server`` (the one a failed request used) has died; if so the cause is recorded."""
        code = server.exit_code()
        if code is None:
            return False
        with self.lock:
            if self.server is server:
                self.server = None
                self._record(death_cause(code, server.tail()))
        return True

    def _record(self, cause: str) -> None:
        self.deaths.append(cause)
        if len(self.deaths) > MAX_RESTARTS:
            self.unavailable = f"本地大模型已停用：{cause}。以下为原文摘录。"
            log.error("llama.cpp child died %d times, local provider off for this process: %s", len(self.deaths), cause)
            raise LocalUnavailable(self.unavailable)
        log.warning("llama.cpp child died (%s); restarting it once", cause)

    def notice(self) -> str:
        """What the user is told when a question could not be answered by the child."""
        return self.unavailable or f"本地大模型进程异常（{self.deaths[-1]}），已重启。以下为原文摘录。"

    def _variant(self) -> str | None:
        """The configured CPU library; after a SIGILL the portable one of a runtime-dispatch build, since
        the library chosen for this CPU may be what crashed."""
        if self.deaths and "SIGILL" in self.deaths[-1] and PORTABLE_VARIANT in llamacpp.variants():
            return PORTABLE_VARIANT
        return self.options.cpu_variant


_supervisors: dict[tuple[Path, LocalOptions], Supervisor] = {}
_lock = threading.Lock()


def supervisor(settings: Settings) -> Supervisor:
    """The one supervisor for these local options in this process."""
    path = model.resolve(settings)
    key = (path, settings.local)
    with _lock:
        if key not in _supervisors:
            _supervisors[key] = Supervisor(path, settings.local, settings.store_dir / "models" / "llama-server.log")
        return _supervisors[key]


def server(settings: Settings) -> LlamaServer:
    """The running server for these settings, started (or restarted after a crash) if need be."""
    return supervisor(settings).running()


@atexit.register
def stop_all() -> None:
    """Stop every child this process started (registered with ``atexit``: they end with the app)."""
    with _lock:
        for one in _supervisors.values():
            if one.server is not None:
                one.server.stop()
        _supervisors.clear()


def evidence(inputs: dict[str, Any], settings: Settings) -> list[Sentence]:
    """The sentences the extractive answer would quote: what the model reads, and what the chain holds
    its answer to (``bot.providers.evidence``)."""
    return extractive.select(inputs["analysis"], inputs["hits"], inputs["ranked"], settings.answer_sentences)


def numbered(chosen: list[Sentence], hits: list[Hit], budget: int) -> str:
    """The evidence as the model reads it: one line per passage, ``[n]`` its position in ``hits``, its
    chosen sentences in the selection's order, in simplified script. Within ``budget`` tokens the
    best-scoring sentences are kept first (the selection lists an article's sentences in document order,
    so the answer may come last); the first line is cut to fit if need be. No sentence chosen: the top
    passage, cut to fit."""
    if not chosen:
        return openai.pack(hits[:1], budget)
    kept: set[int] = set()
    used = 0
    for i in sorted(range(len(chosen)), key=lambda i: -chosen[i].score):
        size = tokens.count(chosen[i].text) + 4  # its share of "[n] " and the blank line
        if kept and used + size > budget:
            continue
        kept.add(i)
        used += size
    lines: dict[int, str] = {}
    for i, s in enumerate(chosen):
        if i in kept:
            lines[s.hit] = lines.get(s.hit, "") + to_simplified(s.text).strip()
    return openai.pack_blocks([f"[{n + 1}] {text}" for n, text in lines.items()], budget)


def prompt(settings: Settings) -> ChatPromptTemplate:
    """The fixed instructions first (llama.cpp reuses their cache across questions), then evidence and question."""
    return ChatPromptTemplate.from_messages(
        [("system", openai.read_prompt(settings, "local_system.txt")),
         ("human", openai.read_prompt(settings, "local_user.txt"))]
    )


def endpoint(options: LocalOptions, running: LlamaServer) -> Endpoint:
    """The child as an OpenAI-compatible endpoint, with the local budgets."""
    return Endpoint(
        base_url=running.base_url, api_key=SecretStr(openai.NO_KEY), model=MODEL_ALIAS, timeout=options.timeout,
        max_retries=options.max_retries, temperature=options.temperature, streaming=options.streaming,
        max_tokens=options.max_tokens,
    )  # fmt: skip


def runnable(settings: Settings) -> Runnable:
    """``{"question", "hits"}`` → a short answer with ``[n]`` markers, from the supervised child."""
    options = settings.local
    values = RunnableLambda(
        lambda x: {
            "question": x["question"],
            "evidence": numbered(evidence(x, settings), x["hits"], options.context_tokens),
        },
        name="evidence_sentences",
    )
    template = prompt(settings)
    supervised = supervisor(settings)

    def answer(inputs: Iterator[dict[str, Any]], config: RunnableConfig) -> Iterator[str]:
        request: dict[str, Any] = {}
        for part in inputs:
            request.update(part)
        if request["analysis"].answer_type == "other":  # see the module doc: the quotes say it exactly
            yield from extractive.compose(request["analysis"], request["hits"], request["ranked"],
                                          settings.answer_sentences)
            return
        while True:  # until an answer, or the supervisor gives up (a death past MAX_RESTARTS raises)
            running = supervised.running()
            to_model = endpoint(options, running)
            core = openai.guarded(values | template | openai.chat_model(to_model) | StrOutputParser(), to_model)
            started = False
            try:
                for piece in core.stream(request, config):
                    started = started or bool(piece)
                    yield piece
                return
            except openai.LLMError:
                if not supervised.died(running):
                    raise  # the child lives: an ordinary failed request
                if started:  # part of the answer is out: it cannot be asked again
                    raise LocalUnavailable(supervised.notice()) from None

    return RunnableGenerator(answer, name="local_answer")
