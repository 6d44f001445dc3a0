"""A local stand-in for the WeChat official-account API (api.weixin.qq.com).

Why it exists: kepuscreen talks to WeChat only through a configurable base URL
(``WECHAT_API_BASE``).  Pointing that URL at this server lets the whole product
run on one machine and in tests with no WeChat account, while still meeting
WeChat's real rules and error codes (token expiry, 48-hour customer-service
windows, template field limits, quotas, duplicate mass sends...).  Tests and the
local runner can also break it on purpose (latency, injected ``-1`` / 5xx,
expired tokens) to prove the retry and dead-letter paths work.

The server is stdlib only (``http.server``), keeps all state in memory and
guards it with one lock.  Responses are shaped like WeChat's: JSON with
``errcode``/``errmsg`` and HTTP 200 even for errors.

Controls are available in-process (methods of :class:`WeChatStandIn`) and over
HTTP under ``/_standin/...`` for other processes (see :class:`StandInClient`).

wechatpy (1.8.x) note: ``WeChatClient.API_BASE_URL`` can be overridden, but
``fetch_access_token`` hard-codes ``https://api.weixin.qq.com/cgi-bin/token``
and there is no stable-token call, so the product's client subclass must build
token URLs from ``WECHAT_API_BASE`` too (see ``wechatpy_client`` in the tests).
For ``WeChatOAuth`` set both ``API_BASE_URL`` and ``OAUTH_BASE_URL``.

Run standalone::

    python -m devstack.wechat_standin --port 8901 --account wxdemo:secret:service
"""

from __future__ import annotations

import argparse
import calendar
import copy
import html
import itertools
import json
import random
import secrets
import struct
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

MAX_BODY_BYTES = 1024 * 1024
MAX_DRAIN_BYTES = 64 * 1024 * 1024
TOKEN_TTL = 7200
STABLE_GRACE_SECONDS = 30
STABLE_FORCE_REFRESH_PER_DAY = 20
OAUTH_CODE_TTL = 300
CLIENTMSGID_TTL = 24 * 3600
JSON_CONTENT_TYPE = "application/json; encoding=utf-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"

# WeChat's own wording, so product logs read the same locally as in production.
ERRMSG: dict[int, str] = {
    61500: "date format error",
    61501: "date range error",
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40029: "invalid code",
    40037: "invalid template_id",
    40054: "invalid sub button url domain",
    40055: "invalid button url domain",
    40066: "invalid url",
    40097: "invalid args",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    44003: "empty news data",
    44004: "empty content",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45065: "clientmsgid exist",
    46003: "menu no exist",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
}

# Daily call quotas WeChat applies by default (per account, per API).
DEFAULT_QUOTAS: dict[str, int] = {
    "/cgi-bin/token": 2000,
    "/cgi-bin/message/template/send": 100000,
    "/cgi-bin/message/custom/send": 500000,
    "/cgi-bin/message/subscribe/bizsend": 100000,
    "/cgi-bin/menu/create": 1000,
    "/cgi-bin/qrcode/create": 100000,
}

# Customer-service windows: what opens them, for how long, how many sends.
WINDOW_RULES: dict[str, tuple[str, float, int]] = {
    "message": ("message", 48 * 3600, 5),
    "follow": ("event", 60, 3),
    "scan": ("event", 60, 3),
    "click": ("event", 60, 3),
}

CUSTOM_MSGTYPES = {
    "text",
    "image",
    "voice",
    "video",
    "music",
    "news",
    "mpnews",
    "mpnewsarticle",
    "msgmenu",
    "wxcard",
    "miniprogrampage",
    "link",
}
MASS_MSGTYPES = {"mpnews", "text", "voice", "image", "mpvideo", "wxcard"}

# Since 2023 template/subscription data values are length-limited by keyword
# type and may not contain line breaks; unknown keywords get the `thing` limit.
DATA_LIMITS: dict[str, int] = {
    "thing": 20,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "phone_number": 17,
    "car_number": 8,
    "name": 20,
    "phrase": 5,
    "amount": 11,
}
DEFAULT_DATA_LIMIT = 20

MENU_TYPES = {
    "click",
    "view",
    "scancode_push",
    "scancode_waitmsg",
    "pic_sysphoto",
    "pic_photo_or_album",
    "pic_weixin",
    "location_select",
    "media_id",
    "article_id",
    "article_view_limited",
    "miniprogram",
    "view_limited",
}
QR_TEMP_ACTIONS = {"QR_SCENE", "QR_STR_SCENE"}
QR_ACTIONS = QR_TEMP_ACTIONS | {"QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"}
QR_TEMP_MAX_SECONDS = 30 * 24 * 3600
OAUTH_SCOPES = {"snsapi_base", "snsapi_userinfo"}
INTERACTION_KINDS = set(WINDOW_RULES)


class WeChatError(Exception):
    """A WeChat-style failure; turned into ``{"errcode","errmsg"}`` with HTTP 200."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")
        super().__init__(f"{errcode} {self.errmsg}")


class StandInError(RuntimeError):
    """A ``/_standin`` control call was rejected (bad arguments, unknown control)."""


# --------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------


@dataclass
class _Window:
    """One customer-service window: opened by an interaction, limited in time and sends."""

    opened_at: float
    duration: float
    limit: int
    used: int = 0

    def usable(self, now: float) -> bool:
        return (
            self.opened_at <= now < self.opened_at + self.duration
            and self.used < self.limit
        )


@dataclass
class _Fan:
    """What WeChat knows about one openid of one account."""

    openid: str
    subscribed: bool = False
    subscribe_time: int = 0
    scene: str = "ADD_SCENE_OTHERS"
    qr_scene: int = 0
    qr_scene_str: str = ""
    tags: set[int] = field(default_factory=set)
    windows: dict[str, _Window] = field(default_factory=dict)
    # template_id -> remaining sends; None means a long-term subscription.
    subscribe_credits: dict[str, int | None] = field(default_factory=dict)


@dataclass
class _Account:
    """One official account (appid) and everything WeChat stores for it."""

    appid: str
    secret: str
    account_type: str
    fans: dict[str, _Fan] = field(default_factory=dict)
    legacy_token: str | None = None
    stable_token: str | None = None
    menu: dict[str, Any] | None = None
    permanent_qr: dict[tuple[str, str], str] = field(default_factory=dict)
    clientmsgids: dict[str, float] = field(default_factory=dict)
    # datacube: Beijing day -> [new_user, cancel_user], and seeded cumulate_user figures
    user_days: dict[str, list[int]] = field(default_factory=dict)
    cumulate: dict[str, int] = field(default_factory=dict)

    def fan(self, openid: str) -> _Fan:
        """Return the fan record, creating it: an openid becomes known once seen."""
        return self.fans.setdefault(openid, _Fan(openid))


@dataclass
class _Token:
    """An access token; ``state`` distinguishes 'not latest' (40001) from expired (42001)."""

    value: str
    appid: str
    expires_at: float
    state: str = "ok"  # "ok" | "superseded" | "expired"


@dataclass
class _QRCode:
    appid: str
    ticket: str
    url: str
    action_name: str
    scene: str
    expires_at: float | None


@dataclass
class _OAuthCode:
    appid: str
    openid: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class _FailureRule:
    """An injected failure; ``count`` None means until cleared."""

    errcode: int
    path: str | None
    count: int | None
    probability: float | None
    openid: str | None
    http_status: int


@dataclass
class _State:
    """All mutable state, so ``reset`` is a single assignment."""

    seed: int
    accounts: dict[str, _Account] = field(default_factory=dict)
    tokens: dict[str, _Token] = field(default_factory=dict)
    qrcodes: dict[str, _QRCode] = field(default_factory=dict)  # by ticket and by url
    oauth_codes: dict[str, _OAuthCode] = field(default_factory=dict)
    inboxes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    failures: list[_FailureRule] = field(default_factory=list)
    latency: dict[str | None, float] = field(default_factory=dict)
    answer_delay: dict[str | None, float] = field(default_factory=dict)  # processed at once, answered late
    dropped_answers: dict[str | None, int] = field(default_factory=dict)  # processed, connection then closed
    quotas: dict[tuple[str, str], int] = field(default_factory=dict)
    usage: dict[tuple[str, str, str], int] = field(default_factory=dict)
    window_enforcement: bool = True
    clock_offset: float = 0.0
    msgids: Any = field(default_factory=lambda: itertools.count(1000000001))
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    raw: bytes
    too_large: bool = False
    body: Any = None
    body_error: bool = False
    appid: str | None = None  # set once the caller is identified, for quota counting


@dataclass
class _Response:
    status: int = 200
    body: bytes = b""
    content_type: str = JSON_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    errcode: int | None = None
    dropped: bool = False  # processed, then the connection closed without an answer


# --------------------------------------------------------------------------
# Small pure helpers
# --------------------------------------------------------------------------


def _json_response(payload: dict[str, Any], status: int = 200) -> _Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return _Response(status=status, body=body, errcode=payload.get("errcode", 0))


def _error_payload(errcode: int, errmsg: str | None = None) -> dict[str, Any]:
    return {"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "error")}


def _ok(**extra: Any) -> dict[str, Any]:
    return {"errcode": 0, "errmsg": "ok", **extra}


def _beijing_day(now: float) -> str:
    """WeChat quotas reset at midnight Beijing time (UTC+8)."""
    return time.strftime("%Y-%m-%d", time.gmtime(now + 8 * 3600))


def _new_token() -> str:
    return secrets.token_urlsafe(96)


def _is_http_url(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _check_data_values(data: Any) -> None:
    """Apply the 2023 template/subscription rule: per-keyword length limit, no newlines."""
    if not isinstance(data, dict):
        raise WeChatError(47001)
    for key, item in data.items():
        value = item.get("value", "") if isinstance(item, dict) else item
        value = str(value)
        keyword = str(key).rstrip("0123456789")
        limit = DATA_LIMITS.get(keyword, DEFAULT_DATA_LIMIT)
        if "\n" in value or "\r" in value:
            raise WeChatError(
                47003, f"argument invalid! data.{key}.value contains line break"
            )
        if len(value) > limit:
            raise WeChatError(
                47003, f"argument invalid! data.{key}.value exceed max length {limit}"
            )


def _validate_button(button: Any, top: bool) -> None:
    """Validate one menu button with WeChat's top-level / sub-button error codes."""
    codes = (
        {"type": 40017, "name": 40018, "key": 40019, "url": 40020, "domain": 40055}
        if top
        else {"type": 40024, "name": 40025, "key": 40026, "url": 40027, "domain": 40054}
    )
    if not isinstance(button, dict):
        raise WeChatError(codes["type"])
    name = button.get("name")
    max_name = 16 if top else 60
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name.encode("utf-8")) > max_name
    ):
        raise WeChatError(codes["name"])
    if top and "sub_button" in button and "type" not in button:
        subs = button["sub_button"]
        if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
            raise WeChatError(40023)
        for sub in subs:
            _validate_button(sub, top=False)
        return
    _validate_leaf_button(button, codes)


def _validate_leaf_button(button: dict[str, Any], codes: dict[str, int]) -> None:
    btype = button.get("type")
    if btype not in MENU_TYPES:
        raise WeChatError(codes["type"])
    if btype in ("view", "miniprogram"):
        url = button.get("url")
        if not isinstance(url, str) or not url or len(url.encode("utf-8")) > 1024:
            raise WeChatError(codes["url"])
        if not _is_http_url(url):
            raise WeChatError(codes["domain"])
        if btype == "miniprogram" and not (
            button.get("appid") and button.get("pagepath")
        ):
            raise WeChatError(codes["type"])
    elif btype in ("media_id", "view_limited"):
        if not button.get("media_id"):
            raise WeChatError(codes["type"])
    elif btype in ("article_id", "article_view_limited"):
        if not button.get("article_id"):
            raise WeChatError(codes["type"])
    else:
        key = button.get("key")
        if not isinstance(key, str) or not key or len(key.encode("utf-8")) > 128:
            raise WeChatError(codes["key"])


def validate_menu(menu: Any) -> None:
    """Raise :class:`WeChatError` if ``menu`` would be rejected by menu/create."""
    if not isinstance(menu, dict):
        raise WeChatError(47001)
    buttons = menu.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise WeChatError(40016)
    for button in buttons:
        _validate_button(button, top=True)


def _selfmenu_format(menu: dict[str, Any]) -> list[dict[str, Any]]:
    """get_current_selfmenu_info nests sub-buttons as ``{"list": [...]}``."""
    out = []
    for button in menu.get("button", []):
        button = dict(button)
        if "sub_button" in button and "type" not in button:
            button["sub_button"] = {"list": list(button["sub_button"])}
        out.append(button)
    return out


def _placeholder_png() -> bytes:
    """A tiny valid PNG (8x8 checkerboard) standing in for the QR image."""
    width = height = 8
    rows = b"".join(
        b"\x00" + bytes(0 if (x + y) % 2 else 255 for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _html_page(title: str, body_html: str) -> _Response:
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>{body_html}</body></html>"
    )
    return _Response(
        body=page.encode("utf-8"), content_type=HTML_CONTENT_TYPE, errcode=0
    )


def _oauth_error_page(errcode: int, message: str) -> _Response:
    resp = _html_page(
        "模拟微信授权 - 出错",
        f"<h1>Oops! Something went wrong:(</h1><p>errcode={errcode}</p>"
        f"<p>{html.escape(message)}</p>",
    )
    resp.errcode = errcode
    return resp


def _redirect(url: str) -> _Response:
    return _Response(
        status=302, headers={"Location": url}, content_type="text/plain", errcode=0
    )


def _append_query(url: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urllib.parse.urlencode(params)
    return urllib.parse.urlunsplit(parts._replace(query=query))


# --------------------------------------------------------------------------
# Routes: path -> (HTTP method, handler method name on WeChatStandIn)
# --------------------------------------------------------------------------

ROUTES: dict[str, tuple[str, str]] = {
    "/cgi-bin/token": ("GET", "_api_token"),
    "/cgi-bin/stable_token": ("POST", "_api_stable_token"),
    "/cgi-bin/message/custom/send": ("POST", "_api_custom_send"),
    "/cgi-bin/message/template/send": ("POST", "_api_template_send"),
    "/cgi-bin/message/subscribe/bizsend": ("POST", "_api_subscribe_send"),
    "/cgi-bin/message/mass/sendall": ("POST", "_api_mass_sendall"),
    "/cgi-bin/qrcode/create": ("POST", "_api_qrcode_create"),
    "/cgi-bin/showqrcode": ("GET", "_api_showqrcode"),
    "/cgi-bin/menu/create": ("POST", "_api_menu_create"),
    "/cgi-bin/menu/get": ("GET", "_api_menu_get"),
    "/cgi-bin/menu/delete": ("GET", "_api_menu_delete"),
    "/cgi-bin/get_current_selfmenu_info": ("GET", "_api_selfmenu_info"),
    "/cgi-bin/user/info": ("GET", "_api_user_info"),
    "/cgi-bin/user/get": ("GET", "_api_user_get"),
    "/datacube/getusersummary": ("POST", "_api_datacube_user_summary"),
    "/datacube/getusercumulate": ("POST", "_api_datacube_user_cumulate"),
    "/connect/oauth2/authorize": ("GET", "_api_oauth_authorize"),
    "/connect/oauth2/_confirm": ("GET", "_api_oauth_confirm"),
    "/sns/oauth2/access_token": ("GET", "_api_oauth_access_token"),
}

# Controls reachable under /_standin/<name>; reads may use GET with query args.
CONTROL_READS = {"inbox", "calls", "menu", "qrcode_scene", "qrcode_info"}
CONTROL_WRITES = {
    "register_account",
    "follow",
    "unfollow",
    "record_interaction",
    "accept_subscribe",
    "tag_user",
    "set_latency",
    "set_answer_delay",
    "drop_answers",
    "inject_failure",
    "clear_failures",
    "expire_tokens",
    "set_quota",
    "set_window_enforcement",
    "advance_clock",
    "reset",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: WeChatStandIn) -> None:
        self.standin = standin
        super().__init__(address, _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP glue only: parse the request, let the stand-in answer, write the reply."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; without this each reply
    # waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True
    server_version = "WeChatStandIn/1.0"
    server: _Server

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

    def _serve(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = {
            k: v[0]
            for k, v in urllib.parse.parse_qs(
                parts.query, keep_blank_values=True
            ).items()
        }
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        too_large = length > MAX_BODY_BYTES
        raw = b"" if too_large else self.rfile.read(length)
        if too_large:
            self._discard_body(length)
            self.close_connection = True
        request = _Request(self.command, parts.path, query, raw, too_large=too_large)
        response = self.server.standin._dispatch(request)
        if response.dropped:
            self.close_connection = True
            return
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if too_large:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)


# --------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------


AccountDirectory = Callable[[str], "tuple[str, str] | None"]  # appid -> (app secret, account type), or None


class WeChatStandIn:
    """An in-memory api.weixin.qq.com with controls for tests and the local runner.

    All state lives in one :class:`_State` guarded by one lock; request handling
    runs under that lock (latency sleeps happen outside it, so a slow path does
    not stall the others).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 0,
                 directory: AccountDirectory | None = None) -> None:
        self._host = host
        self._port = port
        self._seed = seed
        self._lock = threading.RLock()
        self._state = _State(seed)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._directory = directory

    def use_directory(self, directory: AccountDirectory | None) -> None:
        """Where to look up an appid the stand-in has not been told about (``make dev``: the system's own
        accounts table and secrets), so every account the system has is known to "WeChat" too."""
        with self._lock:
            self._directory = directory

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread, so tests need no cleanup to exit."""
        if self._server is not None:
            return self
        self._server = _Server((self._host, self._port), self)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns promptly
            name="wechat-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Value for ``WECHAT_API_BASE`` (no trailing slash)."""
        host = "127.0.0.1" if self._host in ("", "0.0.0.0") else self._host
        return f"http://{host}:{self._port}"

    # ---- controls: accounts and users ------------------------------------

    def register_account(
        self, appid: str, secret: str, account_type: str = "service"
    ) -> None:
        """Create (or replace the secret/type of) an official account."""
        if account_type not in ("service", "subscription"):
            raise ValueError("account_type must be 'service' or 'subscription'")
        with self._lock:
            account = self._state.accounts.get(appid)
            if account is None:
                self._state.accounts[appid] = _Account(appid, secret, account_type)
            else:
                account.secret, account.account_type = secret, account_type

    def follow(
        self,
        appid: str,
        openid: str,
        scene: str = "ADD_SCENE_QR_CODE",
        qr_scene: int = 0,
        qr_scene_str: str = "",
        at: float | None = None,
    ) -> None:
        """Make ``openid`` a follower; like real WeChat this also opens a 1-minute window."""
        with self._lock:
            now = self._now() if at is None else at
            account = self._account(appid)
            fan = account.fan(openid)
            if not fan.subscribed:
                account.user_days.setdefault(_beijing_day(now), [0, 0])[0] += 1
            fan.subscribed = True
            fan.subscribe_time = int(now)
            fan.scene, fan.qr_scene, fan.qr_scene_str = scene, qr_scene, qr_scene_str
            self._open_window(fan, "follow", now)

    def unfollow(self, appid: str, openid: str) -> None:
        """The user cancels: sends now get 43004 and open windows close."""
        with self._lock:
            account = self._account(appid)
            fan = account.fan(openid)
            if fan.subscribed:
                account.user_days.setdefault(_beijing_day(self._now()), [0, 0])[1] += 1
            fan.subscribed = False
            fan.windows.clear()

    def set_user_summary(self, appid: str, day: str, new_user: int, cancel_user: int,
                         cumulate_user: int | None = None) -> None:
        """Seed what ``datacube/getusersummary`` / ``getusercumulate`` report for one Beijing day."""
        with self._lock:
            account = self._account(appid)
            account.user_days[day] = [int(new_user), int(cancel_user)]
            if cumulate_user is not None:
                account.cumulate[day] = int(cumulate_user)

    def record_interaction(
        self, appid: str, openid: str, kind: str, at: float | None = None
    ) -> None:
        """Record what the user did, opening the matching customer-service window."""
        if kind not in INTERACTION_KINDS:
            raise ValueError(f"kind must be one of {sorted(INTERACTION_KINDS)}")
        with self._lock:
            fan = self._account(appid).fan(openid)
            self._open_window(fan, kind, self._now() if at is None else at)

    def accept_subscribe(
        self, appid: str, openid: str, template_id: str, times: int | None = 1
    ) -> None:
        """The user accepts a subscription notice: ``times`` sends (None = long-term)."""
        with self._lock:
            credits = self._account(appid).fan(openid).subscribe_credits
            if times is None or credits.get(template_id, 0) is None:
                credits[template_id] = None
            else:
                credits[template_id] = (credits.get(template_id) or 0) + times

    def tag_user(self, appid: str, openid: str, tagid: int) -> None:
        """Put a user under a tag, as mass sends filter by tag."""
        with self._lock:
            self._account(appid).fan(openid).tags.add(int(tagid))

    # ---- controls: observation -------------------------------------------

    def inbox(self, openid: str) -> list[dict[str, Any]]:
        """Everything successfully pushed to ``openid``, oldest first."""
        with self._lock:
            return copy.deepcopy(self._state.inboxes.get(openid, []))

    def menu(self, appid: str) -> dict[str, Any] | None:
        with self._lock:
            menu = self._account(appid).menu
            return copy.deepcopy(menu) if menu is not None else None

    def calls(self, path: str | None = None) -> list[dict[str, Any]]:
        """Every WeChat API request received (controls excluded), oldest first."""
        with self._lock:
            calls = self._state.calls
            if path is not None:
                calls = [c for c in calls if c["path"] == path]
            return copy.deepcopy(calls)

    def qrcode_info(self, ticket_or_url: str) -> dict[str, Any]:
        """What the simulator learns by scanning a code: appid, scene, permanence."""
        with self._lock:
            code = self._state.qrcodes.get(ticket_or_url)
            if code is None:
                raise KeyError(f"unknown QR code: {ticket_or_url}")
            expired = code.expires_at is not None and self._now() >= code.expires_at
            return {
                "appid": code.appid,
                "ticket": code.ticket,
                "url": code.url,
                "action_name": code.action_name,
                "scene": code.scene,
                "permanent": code.expires_at is None,
                "expired": expired,
            }

    def qrcode_scene(self, ticket_or_url: str) -> str:
        """The scene string (or id as a string) behind a ticket or a ``weixin.qq.com/q`` URL."""
        info = self.qrcode_info(ticket_or_url)
        if info["expired"]:
            raise KeyError(f"QR code expired: {ticket_or_url}")
        return info["scene"]

    # ---- controls: faults and limits -------------------------------------

    def set_latency(self, seconds: float, path: str | None = None) -> None:
        """Delay answers (one path, or all with ``path=None``) to exercise timeouts."""
        with self._lock:
            self._state.latency[self._norm_path(path)] = float(seconds)

    def set_answer_delay(self, seconds: float, path: str | None = None) -> None:
        """Process calls at once (a message is sent) but answer ``seconds`` later: WeChat's *late answer*.

        ``set_latency`` delays the processing too, so a client that gave up
        could look at the inbox before the message lands; here the message is
        in the inbox before the caller's timeout fires, as when WeChat sent it
        and only its answer was slow.
        """
        with self._lock:
            self._state.answer_delay[self._norm_path(path)] = float(seconds)

    def drop_answers(self, count: int, path: str | None = None) -> None:
        """Process the next ``count`` calls (a message is sent), then close the connection unanswered.

        What an overloaded gateway or a network reset looks like to the caller:
        a connection error *after* the request went out, so WeChat may have sent.
        """
        with self._lock:
            self._state.dropped_answers[self._norm_path(path)] = int(count)

    def inject_failure(
        self,
        errcode: int,
        path: str | None = None,
        count: int | None = None,
        probability: float | None = None,
        openid: str | None = None,
        http_status: int = 200,
    ) -> None:
        """Make matching calls fail before any real processing (nothing is delivered).

        ``count`` limits how many calls fail; ``probability`` rolls a seeded RNG;
        ``http_status`` 500/503 turns it into a 5xx with a JSON body.
        """
        with self._lock:
            self._state.failures.append(
                _FailureRule(
                    int(errcode),
                    self._norm_path(path),
                    count,
                    probability,
                    openid,
                    int(http_status),
                )
            )

    def use_random_msgids(self, seed: int = 0) -> None:
        """Answer sends with WeChat's real msgid shape: large, unique, not consecutive."""
        rng = random.Random(seed)

        def msgids():
            seen: set[int] = set()
            while True:
                value = rng.randrange(10**18, 9 * 10**18)
                if value not in seen:
                    seen.add(value)
                    yield value

        with self._lock:
            self._state.msgids = msgids()

    def clear_failures(self) -> None:
        with self._lock:
            self._state.failures.clear()

    def expire_tokens(self, appid: str | None = None) -> None:
        """Current tokens become invalid (42001), as after a missed refresh."""
        with self._lock:
            for token in self._state.tokens.values():
                if token.state == "ok" and appid in (None, token.appid):
                    token.state = "expired"

    def set_quota(self, appid: str, path: str, limit: int) -> None:
        """After ``limit`` successful calls to ``path`` today the account gets 45009."""
        with self._lock:
            self._state.quotas[(appid, self._norm_path(path) or path)] = int(limit)

    def set_window_enforcement(self, enabled: bool) -> None:
        with self._lock:
            self._state.window_enforcement = bool(enabled)

    def advance_clock(self, seconds: float) -> None:
        """Move the stand-in's clock forward (token expiry, windows, codes, quotas)."""
        with self._lock:
            self._state.clock_offset += float(seconds)

    def reset(self) -> None:
        """Forget everything: accounts, tokens, messages, faults, quotas, clock."""
        with self._lock:
            self._state = _State(self._seed)

    # ---- internals: shared -----------------------------------------------

    def _now(self) -> float:
        return time.time() + self._state.clock_offset

    @staticmethod
    def _norm_path(path: str | None) -> str | None:
        if path is None:
            return None
        return path if path.startswith("/") else "/" + path

    def _lookup(self, appid: str, refresh: bool = False) -> _Account | None:
        """A registered account, or one the directory knows (registered on first sight; ``refresh``
        re-reads its secret and type, after an edit)."""
        account = self._state.accounts.get(appid)
        if (account is None or refresh) and self._directory is not None and appid:
            found = self._directory(appid)
            if found is not None and account is None:
                account = self._state.accounts[appid] = _Account(appid, found[0], found[1])
            elif found is not None:
                account.secret, account.account_type = found
        return account

    def _account(self, appid: str) -> _Account:
        account = self._lookup(appid)
        if account is None:
            raise KeyError(f"unknown appid {appid!r}; call register_account first")
        return account

    def _open_window(self, fan: _Fan, kind: str, at: float) -> None:
        slot, duration, limit = WINDOW_RULES[kind]
        fan.windows[slot] = _Window(at, duration, limit)

    def _issue_token(self, appid: str, ttl: float = TOKEN_TTL) -> _Token:
        token = _Token(_new_token(), appid, self._now() + ttl)
        self._state.tokens[token.value] = token
        return token

    def _token_valid(self, value: str | None) -> _Token | None:
        token = self._state.tokens.get(value) if value else None
        if token and token.state == "ok" and self._now() < token.expires_at:
            return token
        return None

    def _check_quota(self, request: _Request, appid: str) -> None:
        """Identify the caller for quota counting; 45009 once today's limit is used."""
        request.appid = appid
        limit = self._state.quotas.get(
            (appid, request.path), DEFAULT_QUOTAS.get(request.path)
        )
        used = self._state.usage.get(
            (appid, request.path, _beijing_day(self._now())), 0
        )
        if limit is not None and used >= limit:
            raise WeChatError(45009)

    def _count_success(self, request: _Request) -> None:
        key = (request.appid or "", request.path, _beijing_day(self._now()))
        self._state.usage[key] = self._state.usage.get(key, 0) + 1

    def _auth(self, request: _Request) -> _Account:
        """Check ``access_token=`` like WeChat: 41001 missing, 40001 invalid, 42001 expired."""
        value = request.query.get("access_token")
        if not value:
            raise WeChatError(41001)
        token = self._state.tokens.get(value)
        if token is None or token.state == "superseded":
            raise WeChatError(40001)
        if token.state == "expired" or self._now() >= token.expires_at:
            raise WeChatError(42001)
        account = self._account(token.appid)
        self._check_quota(request, account.appid)
        return account

    def _json_body(self, request: _Request) -> dict[str, Any]:
        if not request.raw:
            raise WeChatError(44002)
        if request.body_error or not isinstance(request.body, dict):
            raise WeChatError(47001)
        return request.body

    def _known_fan(self, account: _Account, openid: Any) -> _Fan:
        """40003 unless the openid was ever seen for this account (openids are per appid)."""
        if not isinstance(openid, str) or openid not in account.fans:
            raise WeChatError(40003)
        return account.fans[openid]

    def _deliver(
        self, openid: str, appid: str, channel: str, payload: dict[str, Any], msgid: int
    ) -> None:
        self._state.inboxes.setdefault(openid, []).append(
            {
                "appid": appid,
                "channel": channel,
                "payload": copy.deepcopy(payload),
                "at": self._now(),
                "msgid": msgid,
            }
        )

    # ---- internals: request pipeline -------------------------------------

    def _dispatch(self, request: _Request) -> _Response:
        """Answer one HTTP request: controls, latency, injected faults, then the API."""
        if request.path.startswith("/_standin/"):
            return self._control(request)
        self._parse_body(request)
        time.sleep(self._latency_for(request.path))
        with self._lock:
            response = self._injected_failure(request) or self._call_api(request)
            if response.errcode == 0 and request.appid:
                self._count_success(request)
            self._record_call(request, response)
            delays = self._state.answer_delay
            late = delays.get(request.path, delays.get(None, 0.0))
            drops = self._state.dropped_answers
            for key in (request.path, None):
                if drops.get(key, 0) > 0:
                    drops[key] -= 1
                    response.dropped = True
                    break
        if late:
            time.sleep(late)
        return response

    @staticmethod
    def _parse_body(request: _Request) -> None:
        if not request.raw:
            return
        try:
            request.body = json.loads(request.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            request.body_error = True

    def _latency_for(self, path: str) -> float:
        with self._lock:
            latency = self._state.latency
            return latency.get(path, latency.get(None, 0.0))

    def _injected_failure(self, request: _Request) -> _Response | None:
        openid = request.query.get("openid")
        if isinstance(request.body, dict):
            openid = request.body.get("touser", openid)
        for rule in list(self._state.failures):
            if rule.path is not None and rule.path != request.path:
                continue
            if rule.openid is not None and rule.openid != openid:
                continue
            if (
                rule.probability is not None
                and self._state.rng.random() >= rule.probability
            ):
                continue
            if rule.count is not None:
                rule.count -= 1
                if rule.count <= 0:
                    self._state.failures.remove(rule)
            return _json_response(_error_payload(rule.errcode), status=rule.http_status)
        return None

    def _call_api(self, request: _Request) -> _Response:
        route = ROUTES.get(request.path)
        try:
            if route is None:
                raise WeChatError(40066)
            method, handler_name = route
            if request.method != method:
                raise WeChatError(43001 if method == "GET" else 43002)
            if request.too_large:
                raise WeChatError(44002, "post data too large (limit 1 MiB)")
            result = getattr(self, handler_name)(request)
        except WeChatError as exc:
            return _json_response(_error_payload(exc.errcode, exc.errmsg))
        return result if isinstance(result, _Response) else _json_response(result)

    def _record_call(self, request: _Request, response: _Response) -> None:
        body: Any = request.body
        if body is None and request.raw:
            body = request.raw.decode("utf-8", "replace")
        self._state.calls.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "body": copy.deepcopy(body),
                "at": self._now(),
                "errcode": response.errcode,
                "http_status": response.status,
            }
        )

    # ---- API: access tokens ----------------------------------------------

    def _credentials(self, request: _Request, appid: Any, secret: Any) -> _Account:
        if not appid:
            raise WeChatError(41002)
        account = self._lookup(appid)
        if account is None:
            raise WeChatError(40013)
        if not secret:
            raise WeChatError(41004)
        if secret != account.secret and self._directory is not None:
            account = self._lookup(appid, refresh=True) or account
        if secret != account.secret:
            raise WeChatError(40125)
        self._check_quota(request, account.appid)
        return account

    def _api_token(self, request: _Request) -> dict[str, Any]:
        """Legacy getAccessToken: every call issues a new token and supersedes the last."""
        q = request.query
        if q.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        account = self._credentials(request, q.get("appid"), q.get("secret"))
        if account.legacy_token in self._state.tokens:
            previous = self._state.tokens[account.legacy_token]
            if previous.state == "ok":
                previous.state = "superseded"
        token = self._issue_token(account.appid)
        account.legacy_token = token.value
        return {"access_token": token.value, "expires_in": TOKEN_TTL}

    def _api_stable_token(self, request: _Request) -> dict[str, Any]:
        """getStableAccessToken: the same token while valid; force refresh keeps the old one 30 s."""
        body = self._json_body(request)
        if body.get("grant_type") != "client_credential":
            raise WeChatError(40002)
        account = self._credentials(request, body.get("appid"), body.get("secret"))
        current = self._token_valid(account.stable_token)
        if body.get("force_refresh"):
            self._count_force_refresh(account.appid)
            if current is not None:
                current.expires_at = min(
                    current.expires_at, self._now() + STABLE_GRACE_SECONDS
                )
            current = None
        if current is None:
            current = self._issue_token(account.appid)
            account.stable_token = current.value
        return {
            "access_token": current.value,
            "expires_in": max(0, round(current.expires_at - self._now())),
        }

    def _count_force_refresh(self, appid: str) -> None:
        key = (appid, "/cgi-bin/stable_token#force_refresh", _beijing_day(self._now()))
        used = self._state.usage.get(key, 0)
        if used >= STABLE_FORCE_REFRESH_PER_DAY:
            raise WeChatError(45009)
        self._state.usage[key] = used + 1

    # ---- API: messages ---------------------------------------------------

    def _api_custom_send(self, request: _Request) -> dict[str, Any]:
        """Customer-service message: only to followers, only inside an open window."""
        account = self._auth(request)
        body = self._json_body(request)
        fan = self._known_fan(account, body.get("touser"))
        if not fan.subscribed:
            raise WeChatError(43004)
        self._check_custom_payload(body)
        window = None
        if self._state.window_enforcement:
            usable = [w for w in fan.windows.values() if w.usable(self._now())]
            if not usable:
                raise WeChatError(45015)
            window = min(usable, key=lambda w: w.opened_at + w.duration)
        if window is not None:
            window.used += 1
        self._deliver(
            fan.openid, account.appid, "custom", body, next(self._state.msgids)
        )
        return _ok()

    @staticmethod
    def _check_custom_payload(body: dict[str, Any]) -> None:
        msgtype = body.get("msgtype")
        if msgtype not in CUSTOM_MSGTYPES:
            raise WeChatError(40008)
        content = body.get(msgtype)
        if not isinstance(content, dict):
            raise WeChatError(47001)
        if msgtype == "text":
            text = content.get("content")
            if not text:
                raise WeChatError(44004)
            if len(str(text).encode("utf-8")) > 2048:
                raise WeChatError(45002)
        if msgtype == "news":
            articles = content.get("articles")
            if not articles:
                raise WeChatError(44003)
            if len(articles) > 1:
                raise WeChatError(45008)

    def _api_template_send(self, request: _Request) -> dict[str, Any]:
        """Template message: service accounts only, followers only, 2023 data rules."""
        account = self._auth(request)
        if account.account_type != "service":
            raise WeChatError(48001)
        body = self._json_body(request)
        if not body.get("template_id"):
            raise WeChatError(40037)
        fan = self._known_fan(account, body.get("touser"))
        if not fan.subscribed:
            raise WeChatError(43004)
        _check_data_values(body.get("data", {}))
        msgid = next(self._state.msgids)
        self._deliver(fan.openid, account.appid, "template", body, msgid)
        return _ok(msgid=msgid)

    def _api_subscribe_send(self, request: _Request) -> dict[str, Any]:
        """Subscription notice: needs the user's acceptance for that template, one send each."""
        account = self._auth(request)
        if account.account_type != "service":
            raise WeChatError(48001)
        body = self._json_body(request)
        template_id = body.get("template_id")
        if not template_id:
            raise WeChatError(40037)
        fan = self._known_fan(account, body.get("touser"))
        _check_data_values(body.get("data", {}))
        if template_id not in fan.subscribe_credits:
            raise WeChatError(43101)
        remaining = fan.subscribe_credits[template_id]
        if remaining is not None:
            if remaining <= 1:
                del fan.subscribe_credits[template_id]
            else:
                fan.subscribe_credits[template_id] = remaining - 1
        self._deliver(
            fan.openid, account.appid, "subscribe", body, next(self._state.msgids)
        )
        return _ok()

    def _api_mass_sendall(self, request: _Request) -> dict[str, Any]:
        """Mass send by tag; a repeated clientmsgid within 24 h is refused (45065)."""
        account = self._auth(request)
        body = self._json_body(request)
        flt = body.get("filter")
        if not isinstance(flt, dict):
            raise WeChatError(47001)
        msgtype = body.get("msgtype")
        if msgtype not in MASS_MSGTYPES or not isinstance(body.get(msgtype), dict):
            raise WeChatError(40008)
        clientmsgid = body.get("clientmsgid")
        now = self._now()
        if clientmsgid:
            seen = account.clientmsgids.get(str(clientmsgid))
            if seen is not None and now - seen < CLIENTMSGID_TTL:
                raise WeChatError(45065)
        to_all = bool(flt.get("is_to_all")) or int(flt.get("tag_id") or 0) == 0
        tag_id = int(flt.get("tag_id") or 0)
        msg_id = next(self._state.msgids)
        for fan in account.fans.values():
            if fan.subscribed and (to_all or tag_id in fan.tags):
                self._deliver(fan.openid, account.appid, "mass", body, msg_id)
        if clientmsgid:
            account.clientmsgids[str(clientmsgid)] = now
        return {
            "errcode": 0,
            "errmsg": "send job submission success",
            "msg_id": msg_id,
            "msg_data_id": msg_id % 100000000,
        }

    # ---- API: QR codes ---------------------------------------------------

    def _api_qrcode_create(self, request: _Request) -> dict[str, Any]:
        """Parametric QR codes; permanent ones are stable per scene, temporary ones expire."""
        account = self._auth(request)
        body = self._json_body(request)
        action = body.get("action_name")
        if action not in QR_ACTIONS:
            raise WeChatError(40097, "invalid args: action_name")
        scene = self._qr_scene(action, body.get("action_info"))
        if action in QR_TEMP_ACTIONS:
            expire = int(body.get("expire_seconds") or 60)
            expire = max(60, min(expire, QR_TEMP_MAX_SECONDS))
            code = self._new_qrcode(account.appid, action, scene, self._now() + expire)
            return {"ticket": code.ticket, "expire_seconds": expire, "url": code.url}
        ticket = account.permanent_qr.get((action, scene))
        if ticket is None:
            ticket = self._new_qrcode(account.appid, action, scene, None).ticket
            account.permanent_qr[(action, scene)] = ticket
        return {"ticket": ticket, "url": self._state.qrcodes[ticket].url}

    @staticmethod
    def _qr_scene(action: str, action_info: Any) -> str:
        scene = action_info.get("scene") if isinstance(action_info, dict) else None
        if not isinstance(scene, dict):
            raise WeChatError(40097, "invalid args: action_info.scene")
        if action.endswith("STR_SCENE"):
            value = scene.get("scene_str")
            if not isinstance(value, str) or not 1 <= len(value) <= 64:
                raise WeChatError(40097, "invalid args: scene_str")
            return value
        value = scene.get("scene_id")
        upper = 100000 if action == "QR_LIMIT_SCENE" else 2**32 - 1
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 1 <= value <= upper
        ):
            raise WeChatError(40097, "invalid args: scene_id")
        return str(value)

    def _new_qrcode(
        self, appid: str, action: str, scene: str, expires_at: float | None
    ) -> _QRCode:
        ticket = "gQ" + secrets.token_urlsafe(48)
        url = "http://weixin.qq.com/q/" + secrets.token_urlsafe(18)
        code = _QRCode(appid, ticket, url, action, scene, expires_at)
        self._state.qrcodes[ticket] = code
        self._state.qrcodes[url] = code
        return code

    def _api_showqrcode(self, request: _Request) -> _Response:
        """The QR image (mp.weixin.qq.com in reality): a placeholder PNG is enough locally."""
        code = self._state.qrcodes.get(request.query.get("ticket", ""))
        if code is None or (
            code.expires_at is not None and self._now() >= code.expires_at
        ):
            return _Response(
                status=404, body=b"", content_type="image/png", errcode=40097
            )
        return _Response(body=_placeholder_png(), content_type="image/png", errcode=0)

    # ---- API: menu -------------------------------------------------------

    def _api_menu_create(self, request: _Request) -> dict[str, Any]:
        account = self._auth(request)
        body = self._json_body(request)
        validate_menu(body)
        account.menu = {"button": copy.deepcopy(body["button"])}
        return _ok()

    def _api_menu_get(self, request: _Request) -> dict[str, Any]:
        account = self._auth(request)
        if account.menu is None:
            raise WeChatError(46003)
        return {"menu": copy.deepcopy(account.menu)}

    def _api_menu_delete(self, request: _Request) -> dict[str, Any]:
        self._auth(request).menu = None
        return _ok()

    def _api_selfmenu_info(self, request: _Request) -> dict[str, Any]:
        account = self._auth(request)
        if account.menu is None:
            return {"is_menu_open": 0, "selfmenu_info": {"button": []}}
        return {
            "is_menu_open": 1,
            "selfmenu_info": {"button": _selfmenu_format(account.menu)},
        }

    # ---- API: users ------------------------------------------------------

    def _api_user_info(self, request: _Request) -> dict[str, Any]:
        """User info as WeChat returns it since 2021 (no nickname or avatar)."""
        account = self._auth(request)
        fan = self._known_fan(account, request.query.get("openid"))
        if not fan.subscribed:
            return {"subscribe": 0, "openid": fan.openid}
        return {
            "subscribe": 1,
            "openid": fan.openid,
            "language": request.query.get("lang") or "zh_CN",
            "subscribe_time": fan.subscribe_time,
            "remark": "",
            "groupid": 0,
            "tagid_list": sorted(fan.tags),
            "subscribe_scene": fan.scene,
            "qr_scene": fan.qr_scene,
            "qr_scene_str": fan.qr_scene_str,
        }

    def _api_user_get(self, request: _Request) -> dict[str, Any]:
        """Follower list, 10000 per page, paged by ``next_openid``."""
        account = self._auth(request)
        followers = [f.openid for f in account.fans.values() if f.subscribed]
        start = 0
        next_openid = request.query.get("next_openid")
        if next_openid in followers:
            start = followers.index(next_openid) + 1
        page = followers[start : start + 10000]
        return {
            "total": len(followers),
            "count": len(page),
            "data": {"openid": page},
            "next_openid": page[-1] if page else "",
        }

    # ---- API: data cube (user analysis) -----------------------------------

    def _datacube_days(self, request: _Request) -> tuple[_Account, list[str]]:
        """The Beijing days asked for, with WeChat's rules: dates, begin <= end < today, at most 7 days."""
        account = self._auth(request)
        body = self._json_body(request)
        try:
            begin = time.strptime(str(body.get("begin_date")), "%Y-%m-%d")
            end = time.strptime(str(body.get("end_date")), "%Y-%m-%d")
        except ValueError:
            raise WeChatError(61500) from None
        first, last = calendar.timegm(begin), calendar.timegm(end)
        today = _beijing_day(self._now())
        span = (last - first) // 86400 + 1
        if last < first or span > 7 or time.strftime("%Y-%m-%d", end) >= today:
            raise WeChatError(61501)
        return account, [time.strftime("%Y-%m-%d", time.gmtime(first + i * 86400)) for i in range(span)]

    def _api_datacube_user_summary(self, request: _Request) -> dict[str, Any]:
        account, days = self._datacube_days(request)
        return {"list": [{"ref_date": day, "user_source": 0, "new_user": account.user_days.get(day, [0, 0])[0],
                          "cancel_user": account.user_days.get(day, [0, 0])[1]} for day in days]}

    def _api_datacube_user_cumulate(self, request: _Request) -> dict[str, Any]:
        account, days = self._datacube_days(request)
        now_total = sum(1 for f in account.fans.values() if f.subscribed)

        def cumulate(day: str) -> int:
            if day in account.cumulate:
                return account.cumulate[day]
            later = sum(n - c for d, (n, c) in account.user_days.items() if d > day)
            return now_total - later

        return {"list": [{"ref_date": day, "cumulate_user": cumulate(day)} for day in days]}

    # ---- API: OAuth 2 web authorization ---------------------------------

    def _oauth_params_error(self, q: dict[str, str]) -> _Response | None:
        account = self._state.accounts.get(q.get("appid", ""))
        if account is None:
            return _oauth_error_page(10016, "appid 参数错误 (unknown appid)")
        if not _is_http_url(q.get("redirect_uri")):
            return _oauth_error_page(
                10003, "redirect_uri 参数错误 (must be an absolute http(s) URL)"
            )
        if q.get("response_type") != "code":
            return _oauth_error_page(10004, "response_type 参数错误 (must be code)")
        if q.get("scope") not in OAUTH_SCOPES or account.account_type != "service":
            return _oauth_error_page(10005, "此公众号并没有这些 scope 的权限")
        return None

    def _api_oauth_authorize(self, request: _Request) -> _Response:
        """Play WeChat's consent screen: a form where the developer types the user's openid."""
        q = request.query
        error = self._oauth_params_error(q)
        if error is not None:
            return error
        if q.get("auto_openid"):
            return self._oauth_issue_code(q, q["auto_openid"])
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(q.get(name, ""), quote=True)}">'
            for name in ("appid", "redirect_uri", "response_type", "scope", "state")
        )
        openid = html.escape(q.get("openid", ""), quote=True)
        what = (
            "获取你的基本信息（openid）"
            if q["scope"] == "snsapi_base"
            else "获取你的昵称、头像"
        )
        return _html_page(
            "模拟微信授权",
            "<h1>模拟微信授权</h1>"
            f"<p>公众号 {html.escape(q['appid'])} 申请{what}</p>"
            '<form method="get" action="/connect/oauth2/_confirm">'
            f"{hidden}"
            f'<label>openid <input name="openid" value="{openid}" required></label> '
            '<button type="submit">确认授权</button></form>',
        )

    def _api_oauth_confirm(self, request: _Request) -> _Response:
        q = request.query
        error = self._oauth_params_error(q)
        if error is not None:
            return error
        if not q.get("openid"):
            return _oauth_error_page(10010, "openid 不能为空")
        return self._oauth_issue_code(q, q["openid"])

    def _oauth_issue_code(self, q: dict[str, str], openid: str) -> _Response:
        """Issue a one-time 5-minute code for (appid, openid) and send the browser back."""
        self._account(q["appid"]).fan(openid)  # the openid is now known to the account
        code = secrets.token_hex(16)
        self._state.oauth_codes[code] = _OAuthCode(
            q["appid"], openid, q["scope"], self._now() + OAUTH_CODE_TTL
        )
        return _redirect(
            _append_query(
                q["redirect_uri"], {"code": code, "state": q.get("state", "")}
            )
        )

    def _api_oauth_access_token(self, request: _Request) -> dict[str, Any]:
        """Exchange a code: one use only, bound to its appid; 40029 otherwise."""
        q = request.query
        if q.get("grant_type") != "authorization_code":
            raise WeChatError(40002)
        account = self._credentials(request, q.get("appid"), q.get("secret"))
        if not q.get("code"):
            raise WeChatError(41008)
        code = self._state.oauth_codes.get(q["code"])
        if (
            code is None
            or code.used
            or code.appid != account.appid
            or self._now() >= code.expires_at
        ):
            raise WeChatError(40029)
        code.used = True
        return {
            "access_token": _new_token(),
            "expires_in": TOKEN_TTL,
            "refresh_token": _new_token(),
            "openid": code.openid,
            "scope": code.scope,
        }

    # ---- /_standin HTTP controls -----------------------------------------

    def _control(self, request: _Request) -> _Response:
        """Expose the control methods over HTTP for other processes (JSON in, JSON out)."""
        name = request.path[len("/_standin/") :]
        if name not in CONTROL_READS | CONTROL_WRITES:
            return _json_response(
                {"ok": False, "error": f"unknown control {name!r}"}, status=404
            )
        if request.method == "GET" and name in CONTROL_READS:
            kwargs: dict[str, Any] = dict(request.query)
        elif request.method == "POST":
            self._parse_body(request)
            kwargs = request.body if request.raw else {}
            if request.body_error or not isinstance(kwargs, dict):
                return _json_response(
                    {"ok": False, "error": "body must be a JSON object"}, status=400
                )
        else:
            return _json_response(
                {"ok": False, "error": "use POST for this control"}, status=405
            )
        try:
            result = getattr(self, name)(**kwargs)
        except (TypeError, ValueError, KeyError) as exc:
            return _json_response(
                {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, status=400
            )
        return _json_response({"ok": True, "result": result})


# --------------------------------------------------------------------------
# Client for the /_standin controls (another process, e.g. the CLI simulator)
# --------------------------------------------------------------------------


class StandInClient:
    """Same control methods as :class:`WeChatStandIn`, over HTTP (stdlib only)."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _call(
        self,
        name: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        url = f"{self.base_url}/_standin/{name}"
        data = None
        if query:
            url += "?" + urllib.parse.urlencode(
                {k: v for k, v in query.items() if v is not None}
            )
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - base_url is the stand-in's own http URL
            url, data=data, method="POST" if body is not None else "GET"
        )
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            payload = json.loads(exc.read().decode("utf-8") or "{}")
            raise StandInError(payload.get("error") or f"HTTP {exc.code}") from None
        return payload.get("result")

    def _post(self, name: str, **kwargs: Any) -> Any:
        return self._call(name, body=kwargs)

    def register_account(
        self, appid: str, secret: str, account_type: str = "service"
    ) -> None:
        self._post(
            "register_account", appid=appid, secret=secret, account_type=account_type
        )

    def follow(
        self,
        appid: str,
        openid: str,
        scene: str = "ADD_SCENE_QR_CODE",
        qr_scene: int = 0,
        qr_scene_str: str = "",
        at: float | None = None,
    ) -> None:
        self._post(
            "follow",
            appid=appid,
            openid=openid,
            scene=scene,
            qr_scene=qr_scene,
            qr_scene_str=qr_scene_str,
            at=at,
        )

    def unfollow(self, appid: str, openid: str) -> None:
        self._post("unfollow", appid=appid, openid=openid)

    def record_interaction(
        self, appid: str, openid: str, kind: str, at: float | None = None
    ) -> None:
        self._post("record_interaction", appid=appid, openid=openid, kind=kind, at=at)

    def accept_subscribe(
        self, appid: str, openid: str, template_id: str, times: int | None = 1
    ) -> None:
        self._post(
            "accept_subscribe",
            appid=appid,
            openid=openid,
            template_id=template_id,
            times=times,
        )

    def tag_user(self, appid: str, openid: str, tagid: int) -> None:
        self._post("tag_user", appid=appid, openid=openid, tagid=tagid)

    def inbox(self, openid: str) -> list[dict[str, Any]]:
        return self._call("inbox", query={"openid": openid})

    def menu(self, appid: str) -> dict[str, Any] | None:
        return self._call("menu", query={"appid": appid})

    def calls(self, path: str | None = None) -> list[dict[str, Any]]:
        return self._call("calls", query={"path": path})

    def qrcode_info(self, ticket_or_url: str) -> dict[str, Any]:
        return self._call("qrcode_info", query={"ticket_or_url": ticket_or_url})

    def qrcode_scene(self, ticket_or_url: str) -> str:
        return self._call("qrcode_scene", query={"ticket_or_url": ticket_or_url})

    def set_latency(self, seconds: float, path: str | None = None) -> None:
        self._post("set_latency", seconds=seconds, path=path)

    def set_answer_delay(self, seconds: float, path: str | None = None) -> None:
        self._post("set_answer_delay", seconds=seconds, path=path)

    def drop_answers(self, count: int, path: str | None = None) -> None:
        self._post("drop_answers", count=count, path=path)

    def inject_failure(
        self,
        errcode: int,
        path: str | None = None,
        count: int | None = None,
        probability: float | None = None,
        openid: str | None = None,
        http_status: int = 200,
    ) -> None:
        self._post(
            "inject_failure",
            errcode=errcode,
            path=path,
            count=count,
            probability=probability,
            openid=openid,
            http_status=http_status,
        )

    def clear_failures(self) -> None:
        self._post("clear_failures")

    def expire_tokens(self, appid: str | None = None) -> None:
        self._post("expire_tokens", appid=appid)

    def set_quota(self, appid: str, path: str, limit: int) -> None:
        self._post("set_quota", appid=appid, path=path, limit=limit)

    def set_window_enforcement(self, enabled: bool) -> None:
        self._post("set_window_enforcement", enabled=enabled)

    def advance_clock(self, seconds: float) -> None:
        self._post("advance_clock", seconds=seconds)

    def reset(self) -> None:
        self._post("reset")


# --------------------------------------------------------------------------
# Standalone entry point
# --------------------------------------------------------------------------


def _parse_account(spec: str) -> tuple[str, str, str]:
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise argparse.ArgumentTypeError("use appid:secret[:service|subscription]")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else "service"


def main(
    argv: list[str] | None = None, serve: Callable[[WeChatStandIn], None] | None = None
) -> None:
    """Run the stand-in in the foreground for the local runner or by hand."""
    parser = argparse.ArgumentParser(
        description="Local stand-in for the WeChat official-account API"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8901)
    parser.add_argument(
        "--account",
        action="append",
        type=_parse_account,
        default=[],
        metavar="APPID:SECRET[:TYPE]",
    )
    args = parser.parse_args(argv)
    standin = WeChatStandIn(args.host, args.port).start()
    for appid, secret, account_type in args.account:
        standin.register_account(appid, secret, account_type)
    print(f"WECHAT_API_BASE={standin.base_url}", flush=True)
    try:
        (serve or (lambda _s: threading.Event().wait()))(standin)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
