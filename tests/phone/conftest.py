"""Fixtures for the phone pages: a cookie-keeping browser over Chalice's test client,
the app on a real local HTTP server, manifests and content written as the
admin API and the manifest builder will write them."""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from chalice.test import Client

from app import app
from chalicelib.aws import client as aws_client
from chalicelib.dal import accounts as account_repo
from chalicelib.models import Content, Screen, Unit
from chalicelib.services.screens import catalogue as screen_catalogue
from chalicelib.services.screens.manifest_store import manifest_key
from chalicelib.settings import get_settings


@pytest.fixture(autouse=True)
def _fresh_phone_caches():
    screen_catalogue.clear()
    account_repo.clear()
    yield
    screen_catalogue.clear()
    account_repo.clear()


# ------------------------------------------------------------------ a browser over the test client


class PhoneBrowser:
    """Keeps cookies like a browser (name, path) and follows redirects through the WeChat stand-in.

    Redirects to WeChat's authorize URL are answered as WeChat would for the
    user ``openid`` (the stand-in's ``auto_openid``), over real HTTP.
    """

    def __init__(self, client: Client, openid: str | None = None):
        self.client = client
        self.openid = openid
        self.cookies: dict[tuple[str, str], str] = {}
        self.set_cookie_log: list[str] = []  # every Set-Cookie value received, in order

    def _cookie_header(self, path: str) -> str:
        return "; ".join(f"{name}={value}" for (cpath, name), value in self.cookies.items() if path.startswith(cpath))

    def _store(self, response) -> None:
        raw = response.headers.get("Set-Cookie") or response.headers.get("set-cookie") or []
        values = raw if isinstance(raw, list) else [raw]
        self.set_cookie_log += values
        for value in values:
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                key = (morsel["path"] or "/", name)
                if morsel["max-age"] == "0":
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value

    @staticmethod
    def _path(url: str) -> str:
        base = get_settings().public_base_url
        if url.startswith(base):
            url = url[len(base) :]
        return url

    def request(self, method: str, url: str, *, body: str | None = None, headers: dict | None = None):
        path = self._path(url)
        all_headers = {"Cookie": self._cookie_header(urlsplit(path).path)} | (headers or {})
        if body is not None:
            all_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        response = getattr(self.client.http, method.lower())(path, headers=all_headers, body=body)
        self._store(response)
        return response

    def get(self, url: str, *, follow: bool = True, limit: int = 8):
        if url.startswith(get_settings().wechat_oauth_base):
            url = self.wechat_authorize(url)
        response = self.request("GET", url)
        while follow and response.status_code in (301, 302, 303) and limit > 0:
            limit -= 1
            location = response.headers["Location"]
            if location.startswith(get_settings().wechat_oauth_base):
                location = self.wechat_authorize(location)
            response = self.request("GET", location)
        return response

    def wechat_authorize(self, authorize_url: str) -> str:
        """Play WeChat: the stand-in issues a code for our openid and sends us back."""
        assert self.openid, "this browser has no WeChat user"
        url, _, _fragment = authorize_url.partition("#")
        reply = requests.get(url, params={"auto_openid": self.openid}, allow_redirects=False, timeout=5)
        assert reply.status_code == 302, reply.text
        return reply.headers["Location"]

    def post_form(self, url: str, fields: dict[str, str], *, headers: dict | None = None):
        from urllib.parse import urlencode

        return self.request("POST", url, body=urlencode(fields), headers=headers)

    def session_cookie(self) -> str | None:
        return next((v for (_p, n), v in self.cookies.items() if n == "ks_session"), None)


@pytest.fixture
def test_client(demo):
    with Client(app) as client:
        yield client


@pytest.fixture
def browser(test_client, wechat):
    """A WeChat user ``o-page`` of the demo service account, browsing through the test client."""
    return PhoneBrowser(test_client, openid="o-page")


def csrf_of(html: str) -> str:
    import re

    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


# ------------------------------------------------------------------ the app over real HTTP


def _resettle(monkeypatch, name: str, value: str) -> None:
    """Change one setting for this test.

    Settings are re-read here, outside any request: Chalice's test client runs
    requests under .chalice/config.json's dev-stage environment (STAGE=dev),
    so settings first computed inside a request would name the dev tables.
    """
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_settings()


@pytest.fixture
def live_app(demo, wechat, monkeypatch):
    """The Chalice app on chalice's own local server (as ``make dev`` runs it), at PUBLIC_BASE_URL."""
    from devstack.local_api import base_url, start_api

    server = start_api(app, "127.0.0.1", 0)
    base = base_url(server)
    _resettle(monkeypatch, "PUBLIC_BASE_URL", base)
    yield base
    server.shutdown()
    server.server.server_close()
    monkeypatch.undo()
    get_settings.cache_clear()
    get_settings()


# ------------------------------------------------------------------ media (a tiny CDN)


def gradient_png(width: int = 480, height: int = 270, hue: int = 0) -> bytes:
    """A pleasant gradient picture with a sun, so screenshots show real images."""
    palettes = [((23, 105, 224), (15, 163, 163)), ((255, 125, 0), (245, 63, 63)), ((0, 168, 112), (23, 105, 224))]
    (r1, g1, b1), (r2, g2, b2) = palettes[hue % len(palettes)]
    cx, cy, radius = width * 0.72, height * 0.38, height * 0.18
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            t = (x / width + y / height) / 2
            pixel = [int(r1 + (r2 - r1) * t), int(g1 + (g2 - g1) * t), int(b1 + (b2 - b1) * t)]
            if (x - cx) ** 2 + (y - cy) ** 2 < radius**2:
                pixel = [255, 236, 170]
            if y > height * 0.78 - 20 * ((x / width - 0.3) ** 2):
                pixel = [max(0, c - 60) for c in pixel]
            rows += bytes(pixel)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + data


@pytest.fixture
def media_cdn(monkeypatch):
    """Serves ``/media/<n>.png`` on 127.0.0.1 and points CDN_BASE_URL at it."""
    images = {f"/media/pic{i}.png": gradient_png(hue=i) for i in range(3)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            data = images.get(self.path)
            self.send_response(200 if data else 404)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _resettle(monkeypatch, "CDN_BASE_URL", base)
    yield base
    server.shutdown()
    server.server_close()
    monkeypatch.undo()
    get_settings.cache_clear()
    get_settings()


# ------------------------------------------------------------------ content and manifests


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def manifest_item(content_id: str, title: str, *, published: datetime, **extra: Any) -> dict[str, Any]:
    item = {
        "content_id": content_id,
        "kind": "notice",
        "title": title,
        "summary": f"{title}的摘要",
        "body": "",
        "category": "community_notice",
        "media": [],
        "link_url": None,
        "duration": 15,
        "valid_from": None,
        "valid_until": None,
        "weekly_windows": [],
        "priority": "normal",
        "published_at": iso(published),
        "unit_name": "市科协",
    }
    item.update(extra)
    return item


def write_manifest(screen_id: str, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A manifest as docs/messages.md describes it, written where the player reads it."""
    screen = Screen.get(screen_id)
    manifest = {
        "schema": 1,
        "version": f"v-{len(items)}",
        "generated_at": iso(datetime.now(UTC)),
        "api_base": "http://127.0.0.1/api",
        "poll_seconds": 10,
        "heartbeat_seconds": 30,
        "screen": {"id": screen_id, "name": screen.name, "unit_name": "", "address": screen.address or ""},
        "qr": {"url": "http://weixin.qq.com/q/x", "svg": "<svg/>", "caption": "微信扫码 订阅本屏"},
        "fan_count": screen.fan_count,
        "items": items,
    }
    manifest.update(extra)
    aws_client("s3").put_object(
        Bucket=get_settings().player_bucket,
        Key=manifest_key(screen_id),
        Body=json.dumps(manifest, ensure_ascii=False).encode(),
        ContentType="application/json",
    )
    return manifest


def publish(
    content_id: str,
    title: str,
    *,
    screens: list[str],
    unit_id: str = "city",
    kind: str = "notice",
    body: str = "",
    status: str = "published",
    **extra: Any,
) -> Content:
    now = datetime.now(UTC)
    content = Content(
        content_id,
        unit_id=unit_id,
        kind=kind,
        title=title,
        body=body,
        status=status,
        screen_ids=set(screens),
        published_at=extra.pop("published_at", now - timedelta(hours=1)),
        **extra,
    )
    content.save()
    return content


def add_regions() -> None:
    """Give the demo tree places, so the centre can group by region."""
    for unit_id, (province, city, district) in {
        "prov": ("江苏省", None, None),
        "city": ("江苏省", "南京市", "鼓楼区"),
        "town": ("江苏省", "南京市", "玄武区"),
    }.items():
        values = [(Unit.province, province), (Unit.city, city), (Unit.district, district)]
        Unit.get(unit_id).update(actions=[attr.set(value) for attr, value in values if value])


ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "artifacts", "screenshots")


# ------------------------------------------------------------------ the WeChat gateway, as fans use it


class FanActions:
    """Drives the callback gateway as a fan of the demo service account (signed like WeChat)."""

    def __init__(self, client: Client, sender):
        self.client, self.sender = client, sender

    def say(self, request) -> str:
        from devstack.wechat_messages import reply_content

        response = self.client.http.post(
            f"/wechat/{self.sender.appid}?{request.query_string}",
            headers={"Content-Type": "text/xml"},
            body=request.body,
        )
        assert response.status_code == 200, response.body
        body = response.body.decode()
        return "" if body == "success" else reply_content(self.sender.open_reply(body))

    def follow(self, openid: str, scene: str | None = None) -> str:
        return self.say(self.sender.follow(openid, scene=scene) if scene else self.sender.follow(openid))


@pytest.fixture
def gw(demo):
    demo.plain.mode = "plain"
    with Client(app) as client:
        yield FanActions(client, demo.plain)
