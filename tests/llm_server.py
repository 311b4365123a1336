"""A small OpenAI-compatible chat server on 127.0.0.1 that can misbehave on purpose.

Tests of the LLM providers talk to this over real HTTP (the team rule: no mocked client objects), so the
``openai`` client's own retry, timeout and parsing code runs exactly as it would against a real endpoint.
Each request takes the next fault from ``faults`` (then ``fault`` for all later ones); every request is
recorded so a test can count the retries from the server's side and read the prompt that was sent.

Faults: ``ok`` (a normal answer, streamed as SSE when the request asks for ``stream``), ``slow`` (waits
``delay`` seconds before answering, to trip the client's timeout), ``429`` (rate limit, with a short
``retry-after-ms``), ``500``, ``401`` (echoes the bearer token back in its error message, as a careless
proxy might), ``cut`` (sends part of the answer, then drops the connection), ``empty`` (200
with an empty body), ``nonjson`` (200 with an HTML page). "Connection refused" needs no server at all:
:func:`refused_url` gives an address where nothing listens.
"""
from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("ok", "slow", "429", "500", "401", "cut", "empty", "nonjson")


@dataclass
class Script:
    """What the server answers: ``reply`` text, split into ``pieces`` SSE chunks when streaming."""

    reply: str = "你好。"
    fault: str = "ok"
    faults: list[str] = field(default_factory=list)  # consumed first, one per request
    delay: float = 2.0  # seconds, for "slow"
    pieces: int = 4
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self, record: dict[str, Any]) -> str:
        with self.lock:
            self.requests.append(record)
            return self.faults.pop(0) if self.faults else self.fault


def _completion(reply: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(reply), "total_tokens": 10 + len(reply)},
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> bytes:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


def split(text: str, pieces: int) -> list[str]:
    """``text`` cut into ``pieces`` nearly equal consecutive parts (fewer if it is shorter)."""
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i : i + size] for i in range(0, len(text), size)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silent: the test output stays readable."""

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.rstrip("/").endswith("/models"):
            self._send(200, "application/json", json.dumps({"object": "list", "data": [{"id": "test"}]}))
        else:
            self._send(404, "application/json", '{"error": {"message": "not found"}}')

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        script = self.server.script
        headers = {k.lower(): v for k, v in self.headers.items()}
        fault = script.next_fault({"path": self.path, "headers": headers, "body": body})
        model = body.get("model", "test")
        stream = bool(body.get("stream"))
        try:
            self._answer(fault, script, model, stream)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): nothing left to answer

    def _answer(self, fault: str, script: Script, model: str, stream: bool) -> None:
        if fault == "slow":
            time.sleep(script.delay)
            fault = "ok"
        if fault == "429":
            self._send(429, "application/json", '{"error": {"message": "rate limited"}}', {"retry-after-ms": "50"})
        elif fault == "500":
            self._send(500, "application/json", '{"error": {"message": "internal error"}}')
        elif fault == "401":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            self._send(401, "application/json", json.dumps({"error": {"message": f"invalid key: {token}"}}))
        elif fault == "empty":
            self._send(200, "text/event-stream" if stream else "application/json", "")
        elif fault == "nonjson":
            self._send(200, "text/html", "<html><body>502 Bad Gateway</body></html>")
        elif stream:
            self._stream(script, model, cut=fault == "cut")
        elif fault == "cut":
            payload = json.dumps(_completion(script.reply, model), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self._drop()
        else:
            self._send(200, "application/json", json.dumps(_completion(script.reply, model), ensure_ascii=False))

    def _stream(self, script: Script, model: str, *, cut: bool) -> None:
        """SSE in chunked transfer encoding; ``cut`` drops the connection after half of the pieces."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = split(script.reply, script.pieces)
        events = [_chunk(model, {"role": "assistant", "content": ""}, None)]
        events += [_chunk(model, {"content": p}, None) for p in pieces]
        events += [_chunk(model, {}, "stop"), b"data: [DONE]\n\n"]
        if cut:
            events = events[: 1 + max(1, len(pieces) // 2)]
        for event in events:
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()
        if cut:
            self._drop()
        else:
            self.wfile.write(b"0\r\n\r\n")

    def _send(self, status: int, ctype: str, text: str, headers: dict[str, str] | None = None) -> None:
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _drop(self) -> None:
        """Close the socket mid-message, as a crashed proxy or upstream would."""
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a "slow" handler still sleeping must not hold up shutdown

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet about a client that timed out and hung up (part of the script); loud about the rest."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(script: Script | None = None) -> Iterator[tuple[str, Script]]:
    """Run the server on a free port; yields (``base_url`` ending in ``/v1``, the live ``Script``)."""
    script = script or Script()
    server = _Server(script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    finally:
        server.shutdown()
        server.server_close()


def refused_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
