"""A content item as the phone's content page shows it, or why it cannot be shown.

Only published items inside their validity window are shown.  Weekly windows
say when a *screen* plays an item; a resident may read it on the phone any
time while it is valid.  Drafts and items under review do not exist for the
public (404); withdrawn or expired items are gone (410).

The body is stored sanitised by the admin API; it is cleaned once more here
with the same allow-list (``contracts.article_html``), because a page must never trust one writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from chalicelib.contracts import article_html
from chalicelib.dal.items import find
from chalicelib.models.content import EXPIRED, PUBLISHED, WITHDRAWN, Content
from chalicelib.settings import get_settings

_CONTENT_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


class Unavailable(Enum):
    NOT_FOUND = 404
    GONE = 410


@dataclass
class ContentView:
    content: Content
    body_html: str | None = None  # sanitised HTML of an article
    paragraphs: list[str] = field(default_factory=list)  # a notice's plain text
    images: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    link_url: str | None = None


def valid_content_id(content_id: str) -> bool:
    return 0 < len(content_id) <= 64 and set(content_id) <= _CONTENT_ID_CHARS


def media_url(entry: dict[str, Any]) -> str | None:
    """The public URL of a media entry: its ``url`` (manifest shape) or the CDN URL of its ``key``."""
    url = entry.get("url")
    if isinstance(url, str) and _http(url):
        return url
    key = entry.get("key")
    if isinstance(key, str) and key and ".." not in key:
        return f"{get_settings().cdn_base_url}/{key.lstrip('/')}"
    return None


def _http(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def load(content_id: str, now: datetime | None = None) -> ContentView | Unavailable:
    """The view of a readable item, or the reason it is not readable."""
    now = now or datetime.now(UTC)
    if not valid_content_id(content_id):
        return Unavailable.NOT_FOUND
    content = find(Content, content_id)
    if content is None:
        return Unavailable.NOT_FOUND
    if content.status in (WITHDRAWN, EXPIRED):
        return Unavailable.GONE
    if content.status != PUBLISHED or (content.valid_from is not None and now < content.valid_from):
        return Unavailable.NOT_FOUND
    if content.valid_until is not None and now >= content.valid_until:
        return Unavailable.GONE
    return view_of(content)


def view_of(content: Content) -> ContentView:
    """What the content page shows of an item, whatever its status (the console's phone preview uses it too)."""
    view = ContentView(content)
    body = content.body or ""
    if content.kind == "article":
        view.body_html = article_html.page(body)
    else:
        view.paragraphs = [line.strip() for line in body.splitlines() if line.strip()]
    for entry in content.media or []:
        data = entry.as_dict() if hasattr(entry, "as_dict") else dict(entry)
        url = media_url(data)
        if url is None:
            continue
        (view.videos if str(data.get("type", "")).startswith("video/") else view.images).append(url)
    if content.link_url and _http(content.link_url):
        view.link_url = content.link_url
    return view


def source_screen(content: Content, requested: str | None, fan_screens: set[str]) -> str | None:
    """The screen this read came through: the one named in the link, else one of the fan's, else any target."""
    targets = set(content.screen_ids or ())
    if requested and requested in targets:
        return requested
    mine = sorted(targets & fan_screens)
    if mine:
        return mine[0]
    return min(targets) if targets else None
