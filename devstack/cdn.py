"""A local stand-in for the CDN (CloudFront in front of the player bucket).

Serves the bucket's objects from the emulated S3 over HTTP, the way the CDN
does for real screens: GET and HEAD, the object's ``ETag`` with
``If-None-Match`` → 304, ``Cache-Control`` and ``Content-Type`` from the
object's own metadata (set by ``tools/upload_player.py`` and the manifest
builder), byte ranges for video, and ``Access-Control-Allow-Origin: *`` like
the distribution's CORS policy.  ``/player/`` maps to ``player/index.html``
and ``/console/`` to ``console/index.html``.  Given ``api_base``, it also
forwards ``/api/*`` (every method, headers and body, cookies both ways) to the
local API, as the distribution's ``/api/*`` behaviour does, so the console is
same-origin with the API.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError

from chalicelib.aws import client

_PASS_HEADERS = (
    ("ContentType", "Content-Type"),
    ("CacheControl", "Cache-Control"),
    ("ETag", "ETag"),
    ("ContentRange", "Content-Range"),
)


class CdnServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], bucket: str, api_base: str | None = None) -> None:
        super().__init__(address, _Handler)
        self.bucket = bucket
        self.api = urlsplit(api_base) if api_base else None
        self.requests = 0
        self.bytes_sent = 0
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def count(self, sent: int) -> None:
        with self._lock:
            self.requests += 1
            self.bytes_sent += sent

    def stop(self) -> None:
        """Stop like a dead server: refuse new connections and cut kept-alive ones."""
        self.shutdown()
        self.server_close()
        close_connections(self)

    def process_request(self, request: Any, client_address: Any) -> None:
        remember_connection(self, request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        forget_connection(self, request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    server: CdnServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet, like the other local servers
        pass

    def do_GET(self) -> None:
        if not self._proxied():
            self._serve(head=False)

    def do_HEAD(self) -> None:
        if not self._proxied():
            self._serve(head=True)

    def do_POST(self) -> None:
        if not self._proxied():
            self._error(HTTPStatus.METHOD_NOT_ALLOWED)

    do_PUT = do_PATCH = do_DELETE = do_POST

    def _proxied(self) -> bool:
        """Forward ``/api/*`` to the API (hop-by-hop headers dropped); False for anything else."""
        api = self.server.api
        if api is None or not (self.path == "/api" or self.path.startswith("/api/")):
            return False
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        hop = {"connection", "keep-alive", "transfer-encoding", "upgrade", "host", "proxy-connection", "te"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        conn = http.client.HTTPConnection(api.hostname, api.port or 80, timeout=60)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            upstream = conn.getresponse()
            payload = upstream.read()
        except OSError:
            self._error(HTTPStatus.BAD_GATEWAY)
            return True
        finally:
            conn.close()
        self.send_response(upstream.status)
        for key, value in upstream.getheaders():
            if key.lower() not in hop | {"content-length", "date", "server"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.server.count(len(payload))
        return True

    def do_OPTIONS(self) -> None:
        if self._proxied():
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors()
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "If-None-Match, Range")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "ETag")

    def _key(self) -> str | None:
        path = unquote(urlsplit(self.path).path)
        if "\x00" in path or "/../" in path + "/" or "\\" in path:
            return None
        key = path.lstrip("/")
        if key in ("player", "console") or key.endswith("/") or not key:
            key = key.rstrip("/") + "/index.html" if key else "player/index.html"
        return key

    def _serve(self, head: bool) -> None:
        key = self._key()
        if key is None:
            return self._error(HTTPStatus.BAD_REQUEST)
        s3 = client("s3")
        kwargs: dict[str, Any] = {"Bucket": self.server.bucket, "Key": key}
        try:
            meta = s3.head_object(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            return self._error(
                HTTPStatus.NOT_FOUND if code in ("404", "NoSuchKey", "NotFound") else HTTPStatus.BAD_GATEWAY
            )
        etag = meta["ETag"]
        match = self.headers.get("If-None-Match")
        if match and etag in {m.strip() for m in match.split(",")} | ({etag} if match.strip() == "*" else set()):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._cors()
            self.send_header("ETag", etag)
            if meta.get("CacheControl"):
                self.send_header("Cache-Control", meta["CacheControl"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return self.server.count(0)
        byte_range = self.headers.get("Range")
        if byte_range and byte_range.startswith("bytes="):
            kwargs["Range"] = byte_range
        obj = s3.head_object(**kwargs) if head else s3.get_object(**kwargs)
        body = b"" if head else obj["Body"].read()
        status = HTTPStatus.PARTIAL_CONTENT if obj.get("ContentRange") else HTTPStatus.OK
        self.send_response(status)
        self._cors()
        for field, header in _PASS_HEADERS:
            if obj.get(field):
                self.send_header(header, obj[field])
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(obj["ContentLength"]))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        self.server.count(len(body))

    def _error(self, status: HTTPStatus) -> None:
        body = status.phrase.encode()
        self.send_response(status)
        self._cors()
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.count(len(body))


def remember_connection(server: Any, request: socket.socket) -> None:
    """Track a server's open connections so a simulated outage can cut them (HTTP/1.1 keeps them alive)."""
    server.__dict__.setdefault("_open_connections", set()).add(request)


def forget_connection(server: Any, request: socket.socket) -> None:
    server.__dict__.get("_open_connections", set()).discard(request)


def close_connections(server: Any) -> None:
    for conn in list(server.__dict__.get("_open_connections", ())):
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
    server.__dict__.get("_open_connections", set()).clear()


def track_connections(server: ThreadingHTTPServer) -> None:
    """Make any socketserver (e.g. Chalice's local server) remember its connections for ``close_connections``."""
    original = server.process_request

    def process_request(request: Any, client_address: Any) -> None:
        remember_connection(server, request)
        original(request, client_address)

    original_shutdown = server.shutdown_request

    def shutdown_request(request: Any) -> None:
        forget_connection(server, request)
        original_shutdown(request)

    server.process_request = process_request  # type: ignore[method-assign]
    server.shutdown_request = shutdown_request  # type: ignore[method-assign]


def start_cdn(bucket: str, host: str = "127.0.0.1", port: int = 0, api_base: str | None = None) -> CdnServer:
    """Serve ``bucket`` over HTTP in a daemon thread; ``server.shutdown()`` (or ``stop()``) ends it."""
    server = CdnServer((host, port), bucket, api_base)
    threading.Thread(target=server.serve_forever, name="local-cdn", daemon=True).start()
    return server
