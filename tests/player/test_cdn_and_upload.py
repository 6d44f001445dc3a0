"""The local CDN serves the bucket like CloudFront would, and the uploader sets the cache headers."""

from __future__ import annotations

import re

import pytest
import requests

from chalicelib.settings import get_settings
from devstack.cdn import start_cdn
from devstack.screens_local import put_media
from tools.upload_player import SOURCE, upload_player


@pytest.fixture
def cdn(aws):
    server = start_cdn(get_settings().player_bucket)
    yield server
    server.stop()


def test_player_is_small_and_needs_no_build():
    files = {p.name: p.stat().st_size for p in SOURCE.iterdir()}
    assert {"index.html", "player.js", "player.css", "sw.js"} <= set(files)
    assert sum(size for name, size in files.items() if name.endswith((".html", ".js", ".css"))) < 50 * 1024


def test_player_served_with_short_and_long_cache_headers(cdn):
    sizes = upload_player(get_settings().player_bucket)
    index = requests.get(f"{cdn.base_url}/player/index.html?screen=NJ001", timeout=5)
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    assert index.headers["Cache-Control"] == "no-cache"
    assert requests.get(f"{cdn.base_url}/player/", timeout=5).text == index.text
    script = re.search(r'src="\./(player\.[0-9a-f]{10}\.js)"', index.text).group(1)
    js = requests.get(f"{cdn.base_url}/player/{script}", timeout=5)
    assert js.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert js.headers["Content-Type"].startswith("text/javascript")
    assert '"dev-build"' not in js.text
    sw = requests.get(f"{cdn.base_url}/player/sw.js", timeout=5)
    assert sw.headers["Cache-Control"] == "no-cache" and script in sw.text
    assert f"player/{script}" in sizes


def test_etag_revalidation_ranges_and_errors(cdn):
    entry = put_media(b"0123456789" * 100, "video/mp4", "mp4")
    url = f"{cdn.base_url}/{entry['key']}"
    full = requests.get(url, timeout=5)
    assert full.status_code == 200 and full.headers["Content-Type"] == "video/mp4"
    assert full.headers["Access-Control-Allow-Origin"] == "*"
    again = requests.get(url, headers={"If-None-Match": full.headers["ETag"]}, timeout=5)
    assert again.status_code == 304 and again.content == b""
    part = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=5)
    assert part.status_code == 206 and part.content == b"0123456789"
    assert requests.head(url, timeout=5).headers["Content-Length"] == "1000"
    assert requests.get(f"{cdn.base_url}/screens/NOPE/manifest.json", timeout=5).status_code == 404
