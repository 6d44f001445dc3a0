"""HTTP glue only: read the request off the socket, let the stand-in answer, write the reply.

Why stdlib ``http.server``: the stand-in must start in-process in every test
in milliseconds and need nothing installed; a threading server is plenty for
the load tests and benches put on it.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from devstack.wechat_standin.wire import Request, Response

MAX_BODY_BYTES = 1024 * 1024
MAX_DRAIN_BYTES = 64 * 1024 * 1024

Dispatcher = Callable[[Request], Response]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatch: Dispatcher) -> None:
        self.dispatch = dispatch
        super().__init__(address, RequestHandler)


class RequestHandler(BaseHTTPRequestHandler):
    """Turns one HTTP exchange into a :class:`Request` and writes back the :class:`Response`."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; without this each reply
    # waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    server_version = "WeChatStandIn/1.0"
    server: Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request stderr logging; ``calls()`` is the record."""

    def _discard_body(self, length: int) -> None:
        """Read (and drop) an oversized body so the client can still read our answer.

        Closing with unread data would make the kernel reset the connection
        before the client sees the 44002 reply.  Past the cap we give up.
        """
        remaining = min(length, MAX_DRAIN_BYTES)
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                break
            remaining -= len(chunk)

    def _read_request(self) -> Request:
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        too_large = length > MAX_BODY_BYTES
        raw = b"" if too_large else self.rfile.read(length)
        if too_large:
            self._discard_body(length)
            self.close_connection = True
        return Request(self.command, parts.path, query, raw, too_large=too_large)

    def _serve(self) -> None:
        request = self._read_request()
        response = self.server.dispatch(request)
        if response.dropped:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if request.too_large:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)
