"""Serves the chat: the Gradio app mounted in a FastAPI app that adds what embedding it elsewhere needs.

- ``/gradio.js`` — Gradio's web-component loader, from the installed package. A site embeds the chat with
  ``<script type="module" src="<app>/gradio.js">`` + ``<gradio-app src="<app>">``; the loader imports the
  app's own ``/assets/`` bundle, so no CDN is involved (the CDN is unreachable offline, and its version
  would have to match the server's anyway).
- One origin policy for both ways of embedding, from ``Settings.allowed_origins``: CORS (the web
  component fetches the loader, config and queue cross-origin) and CSP ``frame-ancestors`` (the iframe).
  Unset, only pages on this machine may embed; Gradio's own CORS rules step aside once the parent app
  configures ``CORSMiddleware``.
"""
from __future__ import annotations

import socket
from importlib.resources import files

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse

from bot.config import Settings
from bot.deploy import parse_auth, parse_origins
from bot.ui import CSS, build_ui, theme

LOCAL_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*"]  # CSP source syntax (no IPv6 literals)
LOCAL_ORIGIN_REGEX = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?"
ANY_ORIGIN_REGEX = r"https?://.+"
GRACEFUL_SECONDS = 3
GRADIO_LOADER = files("gradio") / "templates" / "frontend" / "gradio.js"


def _add_origin_policy(app: FastAPI, origins: list[str] | None) -> None:
    """CORS for the web component and ``frame-ancestors`` for the iframe, from the same list."""
    # Credentialed requests (the login cookie) need the origin echoed back, never a literal "*".
    cors = {"allow_credentials": True, "allow_methods": ["*"], "allow_headers": ["*"]}
    if origins is None:
        app.add_middleware(CORSMiddleware, allow_origin_regex=LOCAL_ORIGIN_REGEX, **cors)
        ancestors = " ".join(["'self'", *LOCAL_ORIGINS])
    elif "*" in origins:
        app.add_middleware(CORSMiddleware, allow_origin_regex=ANY_ORIGIN_REGEX, **cors)
        return
    else:
        app.add_middleware(CORSMiddleware, allow_origins=origins, **cors)
        ancestors = " ".join(["'self'", *origins])

    @app.middleware("http")
    async def frame_ancestors(request: Request, call_next) -> Response:  # noqa: ANN001 - Starlette's type
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
        return response


def build_app(settings: Settings) -> FastAPI:
    """The ASGI app ``python app.py`` serves: chat UI at ``/`` (or under ``root_path`` behind a proxy)."""
    demo = build_ui(settings).queue(default_concurrency_limit=settings.concurrency)
    app = FastAPI(title="qabot")
    _add_origin_policy(app, parse_origins(settings.allowed_origins))

    @app.get("/gradio.js", include_in_schema=False)
    def gradio_loader() -> FileResponse:
        return FileResponse(str(GRADIO_LOADER), media_type="text/javascript")

    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        auth=parse_auth(settings.auth) if settings.auth else None,
        auth_message="请输入用户名和密码",
        root_path=settings.root_path,
        server_name=settings.host,
        server_port=settings.port,
        footer_links=["api"],
        run_history=False,
        show_error=True,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        theme=theme(),
        css=CSS,
    )


def serve(settings: Settings, sock: socket.socket) -> None:
    """Run the app on the socket from :func:`bind` until interrupted."""
    app = build_app(settings)
    shown = "localhost" if settings.host in ("0.0.0.0", "::") else settings.host
    proxied = f"，经反向代理对外路径为 {settings.root_path}" if settings.root_path else ""
    # listen before saying so: a client that connects between the message and uvicorn's own listen()
    # would be refused (seen under load in tests/test_app.py); this way it waits in the backlog
    sock.listen(2048)
    print(f"聊天已启动: http://{shown}:{settings.port}/{proxied}  (Ctrl+C 退出)", flush=True)
    # Open browser tabs and API clients hold event streams: do not let them stall Ctrl+C / SIGTERM.
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=GRACEFUL_SECONDS)
    uvicorn.Server(config).run(sockets=[sock])
