"""A real Chroma server (``chroma run``, the CLI shipped with the chromadb package) on 127.0.0.1.

Server-mode tests talk to it over HTTP exactly as app replicas in production would, so the HttpClient
path of ``bot.store`` and every Chroma round trip of retrieval are exercised for real. The process is
ours: started here, stopped here (terminate, then kill if it lingers), its data in a temp directory.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chroma_cli() -> str:
    """The ``chroma`` executable of the venv running the tests (not whatever is first on PATH)."""
    beside = Path(sys.executable).with_name("chroma")
    return str(beside) if beside.exists() else (shutil.which("chroma") or "chroma")


def wait_ready(probe: str, proc: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    """Poll ``probe`` until it answers 200; fail with the server's log if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(probe, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{probe} did not answer within {seconds}s:\n{log.read_text(errors='replace')}")


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """Run ``chroma run --path PATH`` on a free loopback port; yields its URL (``http://127.0.0.1:P``)."""
    path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = path.parent / f"chroma-{port}.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [chroma_cli(), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    try:
        wait_ready(f"{url}/api/v2/heartbeat", proc, log, STARTUP_SECONDS)
        yield url
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    """Terminate a server this test started; kill it if it has not exited after ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)
