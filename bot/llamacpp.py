"""The installed llama.cpp build against this CPU, and the entry point of the llama.cpp child process.

A llama.cpp compiled for one CPU dies with SIGILL on another that lacks an instruction it uses (a native
build from a machine with AVX-512 or AMX, run where there is none). ``scripts/setup.sh`` therefore builds
GGML's runtime CPU dispatch: the CPU code is compiled once per CPU generation into separate libraries
(``libggml-cpu-haswell.so`` … ``-sapphirerapids.so``), each scoring itself against this CPU's CPUID,
and the best one that runs here is loaded at start (AMX only when asked for, see :func:`best`).
llama-cpp-python does not load those libraries itself, so the child process starts here: ``python -m bot.llamacpp serve ARGS`` loads the CPU backend, refuses with the reason a build that
needs a feature this CPU lacks, then runs ``llama_cpp.server`` with ARGS. With ``--parent-pid PID``
it first binds its life to that process's (:func:`die_with_parent`).

``python -m bot.llamacpp info`` prints the build's features as JSON, in a process of its own so that a
build this CPU cannot run never takes the caller down (``qabot model check``).
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import runpy
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REBUILD_AVX2 = "QABOT_LLAMA_BUILD=avx2 QABOT_LOCAL=1 bash scripts/setup.sh"
MISSING_FEATURES_EXIT = 3  # the child's exit code when this CPU lacks what the build needs
AMX_VARIANTS = ("sapphirerapids",)  # the dispatch build's CPU libraries that use AMX
PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when the thread that started it ends
PARENT_GONE_EXIT = 4  # the child's exit code when its parent was gone before it could bind itself to it

# llama.cpp's names for the x86 features it was compiled with → the /proc/cpuinfo flag each one needs
CPU_FLAGS = {
    "SSE3": "pni", "SSSE3": "ssse3", "AVX": "avx", "AVX_VNNI": "avx_vnni", "AVX2": "avx2", "F16C": "f16c",
    "FMA": "fma", "BMI2": "bmi2", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16", "AMX_INT8": "amx_int8",
}  # fmt: skip
# flags worth showing beside them: what the variants and the AMX Xeons' crash depend on
RELEVANT_FLAGS = (*CPU_FLAGS.values(), "avx512bw", "avx512dq", "avx512vl", "avx512_fp16", "amx_tile", "amx_bf16")
_FEATURE = re.compile(r"(\w+) = 1")


def library_dir() -> Path:
    from importlib.util import find_spec

    spec = find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        raise RuntimeError("llama.cpp is not installed: QABOT_LOCAL=1 bash scripts/setup.sh")
    return Path(spec.origin).parent / "lib"


def variants() -> list[str]:
    """The CPU libraries of a runtime-dispatch build (``haswell``, ``zen4`` …); empty for a single-CPU build."""
    return sorted(p.name.removeprefix("libggml-cpu-").removesuffix(".so") for p in library_dir().glob("libggml-cpu-*.so"))


def scores() -> dict[str, int]:
    """Each CPU library's score for this CPU, as ggml ranks them (0: it uses an instruction this CPU
    lacks). Read from the library's own ``ggml_backend_score``, which checks CPUID."""
    result = {}
    for name in variants():
        library = ctypes.CDLL(str(library_dir() / f"libggml-cpu-{name}.so"))
        result[name] = int(library.ggml_backend_score())
    return result


def best(ranked: dict[str, int]) -> str:
    """The library to run: the best-scoring one for this CPU, leaving out those that use AMX. ggml's own
    choice would take AMX wherever CPUID lists it, and AMX Xeons are where native builds died with SIGILL
    (issue 11); their AVX-512 VNNI/BF16 library is safe there. An AMX library runs only when named."""
    return max((v for v in ranked if v not in AMX_VARIANTS), key=ranked.__getitem__)


def load_cpu_backend(variant: str | None = None) -> str | None:
    """Register the CPU backend of a runtime-dispatch build: ``variant``'s library, or (None) the
    :func:`best` one for this CPU. Returns its name; None for a single-CPU build, whose backend is
    linked in."""
    libggml = ctypes.CDLL(str(library_dir() / "libggml.so"))
    libggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    libggml.ggml_backend_load.restype = ctypes.c_void_p
    if libggml.ggml_backend_reg_count() > 0 or not variants():
        return None
    ranked = scores()
    chosen = variant or best(ranked)
    if chosen not in ranked or ranked[chosen] == 0:
        raise RuntimeError(f"CPU backend {chosen!r} cannot run here; this CPU runs: "
                           f"{', '.join(v for v, s in ranked.items() if s) or 'none'}")
    if not libggml.ggml_backend_load(str(library_dir() / f"libggml-cpu-{chosen}.so").encode()):
        raise RuntimeError(f"ggml could not load its CPU backend {chosen!r}")
    return chosen


def cpu_flags() -> set[str]:
    """This CPU's feature flags as the kernel reports them (the first processor's)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown CPU"
    line = next((ln for ln in text.splitlines() if ln.startswith("model name")), "")
    return line.partition(":")[2].strip() or "unknown CPU"


def missing(system_info: str, flags: set[str]) -> list[str]:
    """The x86 features the build uses that this CPU lacks (from llama.cpp's system info line)."""
    return [f for f in _FEATURE.findall(system_info) if f in CPU_FLAGS and CPU_FLAGS[f] not in flags]


def lacking_sentence(features: list[str]) -> str:
    return (f"这份 llama.cpp 构建需要本机 CPU 不支持的指令 {', '.join(features)}，运行会因非法指令（SIGILL）退出。"
            f"请用可移植参数重新编译：{REBUILD_AVX2}")


@dataclass(frozen=True)
class BuildInfo:
    system_info: str  # llama.cpp's own line: "CPU : SSE3 = 1 | … | AVX512 = 1 | …"
    loaded: str | None  # which CPU library a runtime-dispatch build chose (None: a single-CPU build)
    scores: dict[str, int]  # every CPU library of a runtime-dispatch build, scored for this CPU


def build_info(python: str = sys.executable, timeout: float = 60.0) -> BuildInfo:
    """The build's features, read in a child process (see the module doc)."""
    done = subprocess.run([python, "-m", "bot.llamacpp", "info"], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"llama.cpp could not be loaded (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return BuildInfo(data["system_info"], data["loaded"], data["scores"])


def _info() -> None:
    loaded = load_cpu_backend()
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode().strip()
    print(json.dumps({"system_info": info, "loaded": loaded, "scores": scores()}))


def die_with_parent(parent: int) -> None:
    """Be killed by the kernel the moment the process that started us ends, however it ends.

    The app's ``atexit`` stops the child on a normal exit, but a SIGTERM with the default handler, a
    SIGKILL or a crash runs no Python at all, and the server would be left holding its 1 GB model and
    its port. ``PR_SET_PDEATHSIG`` fires when the *thread* that forked us ends, so the parent starts us
    from a thread that lives as long as it does (``bot.providers.local.spawn``). SIGKILL, not SIGTERM:
    nobody is left to wait for a graceful shutdown, and uvicorn's would wait for the generation in
    progress. Set here rather than in a ``preexec_fn``, which is unsafe in a threaded parent; the parent
    may have died before this line, hence the check of who our parent is now."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        print(f"qabot: the parent process {parent} ended before llama.cpp started; exiting", flush=True)
        sys.exit(PARENT_GONE_EXIT)


def _serve(args: list[str], variant: str | None) -> None:
    loaded = load_cpu_backend(variant)
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode().strip()
    print(f"qabot: llama.cpp CPU backend: {loaded or 'linked in'}; {info}", flush=True)
    lacking = missing(info, cpu_flags())
    if lacking:
        print(f"qabot: {lacking_sentence(lacking)}", flush=True)
        sys.exit(MISSING_FEATURES_EXIT)
    sys.argv = ["llama_cpp.server", *args]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.llamacpp")
    parser.add_argument("command", choices=["info", "serve"])
    parser.add_argument("--cpu-variant", help="serve: this CPU library of a runtime-dispatch build (e.g. haswell)")
    parser.add_argument("--parent-pid", type=int, help="serve: die with this process (see die_with_parent)")
    known, server_args = parser.parse_known_args(argv)
    if known.parent_pid is not None:
        die_with_parent(known.parent_pid)
    if known.command == "info":
        _info()
    else:
        _serve(server_args, known.cpu_variant)


if __name__ == "__main__":
    main(sys.argv[1:])
