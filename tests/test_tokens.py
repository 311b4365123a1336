import hashlib
import os
import subprocess
import sys

from bot.tokens import VOCABS, seed_cache


def test_seeded_cache_matches_tiktokens_pinned_hashes(tmp_path):
    seed_cache(tmp_path)
    for cache_name, sha256 in VOCABS.values():
        assert hashlib.sha256((tmp_path / cache_name).read_bytes()).hexdigest() == sha256


def test_get_encoding_works_without_network(tmp_path):
    """A fresh process with an empty cache dir and every proxy pointing nowhere still encodes."""
    code = (
        "from bot.tokens import seed_cache; from pathlib import Path; import tiktoken, sys;"
        "seed_cache(Path(sys.argv[1])); e = tiktoken.get_encoding('cl100k_base');"
        "print(len(e.encode('2022年我国算力总规模达到每秒180E')))"
    )
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 5
