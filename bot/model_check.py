"""``qabot model check``: can this machine run the bundled local model, and how fast?

Said before any question is asked: the model file; what the installed llama.cpp build was compiled for
(llama.cpp's own system info, and for a runtime-dispatch build each CPU library's score) against this
CPU's flags — a build that needs an instruction this CPU lacks is named, with the rebuild command, and
not started —; then a one-token completion through the same supervised child the provider uses, and
the prompt and generation speed in tokens/s.
"""
from __future__ import annotations

import time

import httpx
import typer

from bot import llamacpp
from bot.config import Settings, get_settings

COUNT_TO = 90  # the speed prompt counts 1…90: ~260 prompt tokens (Qwen splits numbers into digits)
GENERATED = 32  # tokens generated for the generation speed: it just keeps counting


def _post(url: str, body: dict) -> tuple[dict, float]:
    """The reply to ``body`` (greedy decoding) and the seconds it took."""
    start = time.perf_counter()
    reply = httpx.post(url, json={**body, "temperature": 0.0}, timeout=300.0)
    reply.raise_for_status()
    return reply.json(), time.perf_counter() - start


def speed(base_url: str) -> tuple[int, float, int, float]:
    """(prompt tokens, prompt tokens/s, generated tokens, generated tokens/s). The second request repeats
    the prompt, which llama.cpp still holds in its cache, so it times generation alone."""
    prompt = "从1数到1000：" + "，".join(str(i) for i in range(1, COUNT_TO + 1)) + "，"
    first, read = _post(f"{base_url}/completions", {"prompt": prompt, "max_tokens": 1})
    second, written = _post(f"{base_url}/completions", {"prompt": prompt, "max_tokens": GENERATED})
    n_prompt, n_out = first["usage"]["prompt_tokens"], second["usage"]["completion_tokens"]
    return n_prompt, n_prompt / read, n_out, n_out / written


def check(settings: Settings) -> int:
    """Print the check; 0 when the model answered, 1 when it cannot run here (and why)."""
    from bot import model
    from bot.providers import local

    path = model.resolve(settings)
    typer.echo(f"model:       {path.name} ({path.stat().st_size / 2**20:.0f} MiB, {path.parent})")
    flags = llamacpp.cpu_flags()
    typer.echo(f"CPU:         {llamacpp.cpu_model()}; flags: "
               f"{' '.join(f for f in llamacpp.RELEVANT_FLAGS if f in flags) or 'none of AVX2/AVX-512/AMX'}")
    lacks = [f for f in llamacpp.RELEVANT_FLAGS if f not in flags]
    typer.echo(f"             lacks: {' '.join(lacks) or 'nothing listed'}")
    try:
        build = llamacpp.build_info()
    except RuntimeError as err:
        typer.echo(f"llama.cpp:   {err}")
        return 1
    typer.echo(f"llama.cpp:   {build.system_info}")
    if build.scores:
        runs = [f"{name}{'' if score else ' (no)'}" for name, score in build.scores.items()]
        typer.echo(f"build:       runtime CPU dispatch; libraries: {', '.join(runs)}; chosen here: {build.loaded}")
    else:
        typer.echo("build:       one CPU library, compiled for the features above")
    missing = llamacpp.missing(build.system_info, flags)
    if missing:
        typer.echo(f"problem:     {llamacpp.lacking_sentence(missing)}")
        return 1
    typer.echo("             this CPU has every instruction the build uses")
    start = time.perf_counter()
    try:
        running = local.server(settings)
    except (local.LocalServerError, local.LocalUnavailable) as err:
        typer.echo(f"problem:     {err.notice}")
        return 1
    typer.echo(f"server:      started in {time.perf_counter() - start:.1f} s, {settings.local.threads} threads, "
               f"log {running.log}")
    body = {"model": local.MODEL_ALIAS, "messages": [{"role": "user", "content": "你好"}], "max_tokens": 1}
    reply, took = _post(f"{running.base_url}/chat/completions", body)
    typer.echo(f"completion:  1 token in {took:.2f} s: {reply['choices'][0]['message']['content']!r}")
    n_prompt, prompt_rate, n_out, out_rate = speed(running.base_url)
    typer.echo(f"speed:       prompt {prompt_rate:.1f} tokens/s ({n_prompt} tokens), "
               f"generation {out_rate:.1f} tokens/s ({n_out} tokens)")
    return 0


def check_command() -> None:
    """Check that the bundled local model runs on this CPU, and how fast (before any question)."""
    from bot.model import ModelError

    try:
        code = check(get_settings())
    except ModelError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)
