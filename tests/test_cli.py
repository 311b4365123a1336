"""The qabot command as a user runs it, in a subprocess, on the real index."""
import json
import subprocess
import sys

from bot.config import ROOT


def qabot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_ask_json_has_the_documented_shape(settings):
    out = qabot("ask", "--json", "2022年我国算力总规模是多少?")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"question", "answer", "refused", "provider", "citations", "retrieved", "timings_ms"} <= set(data)
    assert "180E" in data["answer"] and data["refused"] is False and data["provider"] == "extractive"
    c = data["citations"][0]
    assert {"n", "source", "title", "quote", "score"} <= set(c) and c["source"] == "000_56f6738d973ede18.txt"
    assert data["retrieved"][0]["text"] and "score" in data["retrieved"][0]


def test_ask_refusal_and_k(settings):
    data = json.loads(qabot("ask", "--json", "-k", "3", "特斯拉的自动驾驶芯片叫什么?").stdout)
    assert data["refused"] is True and data["citations"] == [] and len(data["retrieved"]) == 3


def test_ask_reads_stdin_and_rejects_empty_questions_clearly(settings):
    assert "180E" in qabot("ask", "-", stdin="2022年我国算力总规模是多少?").stdout
    out = qabot("ask", "   ")
    assert out.returncode == 2 and "请输入问题" in out.stderr


def test_ingest_names_a_missing_path(settings):
    out = qabot("ingest", "/no/such/file.txt")
    assert out.returncode == 2 and "找不到文件" in out.stderr
