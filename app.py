"""``python app.py``: build the index on first start (with a progress bar), then serve the chat.

Options override the ``BOT_*`` environment / ``.env`` settings (see bot/config.py):

    python app.py --host 0.0.0.0 --port 8080 --auth reader:secret --admin editor:secret2 --root-path /qa
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable

# Before gradio is imported anywhere: no usage reporting from an offline newsroom server.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from bot.config import Settings  # noqa: E402
from bot.deploy import bind, parse_auth, parse_root_path  # noqa: E402


def _checked(parse: Callable[[str], object]) -> Callable[[str], str]:
    """An argparse type: ``parse`` must accept the value; its message becomes argparse's error."""

    def check(value: str) -> str:
        try:
            parse(value)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return value

    return check


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"应为正整数，收到 {value!r}")
    return int(value)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="qabot 聊天网页（Gradio）。未给出的选项取自 BOT_* 环境变量。")
    parser.add_argument("--host", help="监听地址（默认 127.0.0.1；局域网访问用 0.0.0.0）")
    parser.add_argument("--port", type=_positive, help="端口（默认 7860）")
    parser.add_argument("--auth", type=_checked(parse_auth), help="登录用户名和密码，格式 user:pass")
    parser.add_argument("--admin", type=_checked(parse_auth),
                        help="资料库管理员 user:pass：对外开放时，上传和删除文章须先用它登录（与 --auth 分开）")
    parser.add_argument("--root-path", type=_checked(parse_root_path), help="反向代理下的子路径，例如 /qa")
    parser.add_argument("--concurrency", type=_positive, help="同时处理的提问数（Gradio 队列并发上限）")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = Settings(**{k: v for k, v in vars(args).items() if v is not None})
    try:  # the same checks for values that came from BOT_* variables
        for credentials in (settings.auth, settings.admin):
            if credentials:
                parse_auth(credentials)
        if settings.root_path:
            settings = settings.model_copy(update={"root_path": parse_root_path(settings.root_path)})
    except ValueError as err:
        sys.exit(f"配置错误: {err}")
    sock = bind(settings)
    # Imported only now: options are checked and the port is ours before gradio and Chroma load.
    from bot.server import serve
    from bot.store import ensure_index

    ensure_index(settings)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it; with the default handler that kills the
    # process before atexit runs, leaving children (the local llama.cpp server) behind. Exit normally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(settings, sock)


if __name__ == "__main__":
    main()
