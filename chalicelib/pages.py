"""The phone pages' HTML, rendered server-side from Chinese jinja2 templates.

Templates live in ``chalicelib/templates/phone``; autoescaping is on, so only
values deliberately marked safe (an article body already cleaned by nh3) are
inserted as HTML.  Pages carry their small stylesheet inline and no script:
one request per page, readable without JavaScript, far under 100 KB.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.models.stats import CHINA_TZ
from chalicelib.services.screens.playlist import parse_instant

TEMPLATE_DIR = Path(__file__).parent / "templates" / "phone"

KIND_LABELS = {"notice": "通知", "article": "文章", "image": "图片", "video": "视频", "link": "链接"}
CATEGORY_LABELS = {
    "frontier": "前沿科技",
    "hotspot": "科普热点",
    "everyday": "生活百科",
    "community_notice": "社区公告",
    "service_guide": "办事指南",
    "community_news": "社区动态",
}


def china_time(value: Any, fmt: str = "%m月%d日 %H:%M") -> str:
    """A datetime or ISO text shown in China time, e.g. ``11月29日 16:00``."""
    moment = value if isinstance(value, datetime) else parse_instant(value)
    if moment is None:
        return ""
    return moment.astimezone(CHINA_TZ).strftime(fmt).lstrip("0")


def thumbnail(item: dict[str, Any]) -> str | None:
    """The first image of a manifest item, for a small preview."""
    for media in item.get("media") or []:
        if isinstance(media, dict) and str(media.get("type", "")).startswith("image/") and media.get("url"):
            url = str(media["url"])
            return url if url.startswith(("https://", "http://")) else None
    return None


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        # Lenient undefined: manifest items are dicts from another writer and may omit optional fields.
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["china_time"] = china_time
    env.filters["thumbnail"] = thumbnail
    env.globals.update(kind_labels=KIND_LABELS, category_labels=CATEGORY_LABELS)
    return env


def render_page(template: str, **context: Any) -> str:
    """Render ``<template>.html``."""
    return _env().get_template(f"{template}.html").render(**context)
