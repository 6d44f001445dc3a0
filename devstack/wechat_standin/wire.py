"""What a request and an answer look like inside the stand-in, and how answers are shaped.

Why apart from the HTTP server: the API areas build answers (JSON in WeChat's
shape, the OAuth consent page, redirects, a PNG) without knowing about
sockets, and the server writes whatever :class:`Response` they return.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from devstack.wechat_standin.errors import error_payload

if TYPE_CHECKING:
    from devstack.wechat_standin.core import Core

JSON_CONTENT_TYPE = "application/json; encoding=utf-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


@dataclass
class Request:
    """One HTTP request as the stand-in sees it (body parsed lazily, see :func:`parse_body`)."""

    method: str
    path: str
    query: dict[str, str]
    raw: bytes
    too_large: bool = False
    body: Any = None
    body_error: bool = False
    appid: str | None = None  # set once the caller is identified, for quota counting


@dataclass
class Response:
    """One answer; ``errcode`` is what the calls log records for it."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    errcode: int | None = None
    dropped: bool = False  # processed, then the connection closed without an answer


Handler = Callable[["Core", Request], "dict[str, Any] | Response"]


class Route(NamedTuple):
    """One WeChat API path: the HTTP method WeChat requires and the function answering it."""

    method: str
    handler: Handler


def parse_body(request: Request) -> None:
    """Decode a JSON body once; a body that is not JSON is remembered, not raised."""
    if not request.raw:
        return
    try:
        request.body = json.loads(request.raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        request.body_error = True


def json_response(payload: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return Response(status=status, body=body, errcode=payload.get("errcode", 0))


def error_response(errcode: int, errmsg: str | None = None, status: int = 200) -> Response:
    """WeChat answers failures with HTTP 200 and ``{"errcode","errmsg"}``."""
    return json_response(error_payload(errcode, errmsg), status=status)


def ok(**extra: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **extra}


def is_http_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def html_page(title: str, body_html: str) -> Response:
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>{body_html}</body></html>"
    )
    return Response(body=page.encode("utf-8"), content_type=HTML_CONTENT_TYPE, errcode=0)


def redirect(url: str) -> Response:
    return Response(status=302, headers={"Location": url}, content_type="text/plain", errcode=0)


def append_query(url: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urllib.parse.urlencode(params)
    return urllib.parse.urlunsplit(parts._replace(query=query))
