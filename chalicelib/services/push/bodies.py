"""What a push says on each channel: the JSON bodies of a template message, a subscription notice, a news card.

The channel is chosen by ``policy``; this module only fills it in, to
WeChat's rules for each.  A template or notice data value is one line of at
most 20 characters (the 2023 rules; a longer one is cut here, with an
ellipsis) and the publish time is China time; a customer-service news card
carries the title, the summary and the phone page's link.  An urgent item's
title is marked 【紧急】 on every channel.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from chalicelib.models.accounts import Account
from chalicelib.models.stats import CHINA_TZ

TEMPLATE_FIELD_MAX = 20
_SPACE = re.compile(r"\s+")


def template_field(text: str | None, limit: int = TEMPLATE_FIELD_MAX) -> str:
    """One template/notice data value: single line, at most ``limit`` characters."""
    value = _SPACE.sub(" ", text or "").strip()
    return value if len(value) <= limit else value[: limit - 1] + "…"


def published_label(iso: str | None, now: datetime) -> str:
    try:
        moment = datetime.fromisoformat(iso) if iso else now
    except ValueError:
        moment = now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def template_data(content: dict[str, Any], now: datetime) -> dict[str, dict[str, str]]:
    """The data of our push template: 标题 thing1, 发布单位 thing2, 发布时间 time3 (see docs/push.md)."""
    title = content.get("title") or "新内容"
    if content.get("priority") == "urgent":
        title = f"【紧急】{title}"
    return {
        "thing1": {"value": template_field(title)},
        "thing2": {"value": template_field(content.get("unit_name") or "科普大屏")},
        "time3": {"value": template_field(published_label(content.get("published_at"), now))},
    }


def template_body(account: Account, openid: str, content: dict[str, Any], url: str, now: datetime) -> dict:
    return {"touser": openid, "template_id": account.template_id, "url": url, "data": template_data(content, now)}


def notice_body(account: Account, openid: str, content: dict[str, Any], url: str, now: datetime) -> dict:
    return {
        "touser": openid,
        "template_id": account.subscribe_template_id,
        "page": url,
        "data": template_data(content, now),
    }


def custom_body(openid: str, content: dict[str, Any], url: str) -> dict:
    """A one-article news card: the title, the summary, the phone page."""
    title = (content.get("title") or "新内容")[:64]
    if content.get("priority") == "urgent":
        title = f"【紧急】{title}"
    return {
        "touser": openid,
        "msgtype": "news",
        "news": {
            "articles": [
                {"title": title, "description": (content.get("summary") or "")[:120], "url": url},
            ]
        },
    }
