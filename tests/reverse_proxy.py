"""A small reverse proxy that publishes an app under a sub-path, the way a site's nginx would:

    location /qa/ { proxy_pass http://127.0.0.1:7860/; proxy_set_header Host $host;
                    proxy_buffering off; }

The prefix is stripped before forwarding, the browser's Host header is kept (Gradio builds its URLs from
it plus ``--root-path``), and responses are streamed through unbuffered so answers still stream.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


def proxy_app(backend: str, prefix: str) -> Starlette:
    """ASGI app forwarding ``prefix/...`` to ``backend/...``; anything outside the prefix is a 404."""
    client = httpx.AsyncClient(base_url=backend, timeout=None)

    async def forward(request: Request) -> Response:
        path = request.url.path
        if path != prefix and not path.startswith(prefix + "/"):
            return Response("not under the proxied prefix", status_code=404)
        headers = [(k, v) for k, v in request.headers.raw if k.decode().lower() not in HOP_BY_HOP]
        upstream = client.build_request(request.method, path[len(prefix) :] or "/",
                                        params=request.query_params, headers=headers,
                                        content=await request.body())
        reply = await client.send(upstream, stream=True)
        out = {k: v for k, v in reply.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(reply.aiter_raw(), status_code=reply.status_code, headers=out,
                                 background=BackgroundTask(reply.aclose))

    return Starlette(routes=[Route("/{path:path}", forward, methods=METHODS)])


@contextmanager
def reverse_proxy(backend: str, prefix: str) -> Iterator[str]:
    """Run the proxy on a free port of 127.0.0.1; yields the public URL of the prefix (ending in /)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(proxy_app(backend.rstrip("/"), prefix), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("reverse proxy did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{prefix}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
