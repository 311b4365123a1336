"""What a deployer's options mean, checked before anything heavy is imported or indexed.

``python app.py --auth editor`` or a busy port should fail in a second with a clear message, not after
gradio has loaded (seconds) or the first index build has run (a minute or more).
"""
from __future__ import annotations

import socket

from bot.config import Settings


def parse_auth(value: str) -> tuple[str, str]:
    """``"user:pass"`` → ``("user", "pass")``; the password may contain ``:``."""
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("认证信息格式应为 user:pass（用户名和密码都不能为空）")
    return user, password


def parse_root_path(value: str) -> str:
    """``"/qa/"`` → ``"/qa"``: the sub-path a reverse proxy publishes the app under (or a full URL)."""
    if not value.startswith(("/", "http://", "https://")):
        raise ValueError(f"子路径应以 / 开头（例如 /qa），或是完整网址；收到 {value!r}")
    return value.rstrip("/")


def parse_origins(value: str | None) -> list[str] | None:
    """``"https://a.example, https://b.example"`` → list; ``None`` when unset (local pages only)."""
    if value is None or not value.strip():
        return None
    return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]


def bind(settings: Settings) -> socket.socket:
    """Claim the port before the (possibly long) first index build, so a busy port fails at once."""
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as err:
        sock.close()
        raise SystemExit(
            f"无法监听 {settings.host}:{settings.port}（{err.strerror}）。端口可能已被占用，请用 --port 换一个。"
        ) from None
    return sock
