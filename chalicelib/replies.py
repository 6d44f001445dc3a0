"""Passive replies to WeChat users, rendered from Chinese jinja2 templates.

Templates live in ``chalicelib/templates/wechat`` so wording can change without
touching code.  Replies are plain text: WeChat's passive news reply shows a
single article only, and text with links reads better for lists of screens.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wechatpy.replies import TextReply

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE_DIR = Path(__file__).parent / "templates" / "wechat"
MAX_REPLY_CHARS = 600  # WeChat truncates long text replies; keep them readable on a phone


@lru_cache(maxsize=1)
def _env() -> Environment:
    # Imported here, not at load: many callbacks (unsubscribes, receipts, retries) render nothing, and jinja2 is a
    # quarter of the callback function's import time (bench/cold_start.py).
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    # Plain text, not HTML: autoescape would show "&lt;" to users. Values end up in CDATA, see text_reply.
    return Environment(  # noqa: S701
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )


def render_text(template: str, **context: Any) -> str:
    """Render ``<template>.txt`` and tidy the whitespace."""
    text = _env().get_template(f"{template}.txt").render(**context)
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy = "\n".join(lines)
    while "\n\n\n" in tidy:
        tidy = tidy.replace("\n\n\n", "\n\n")
    return tidy[:MAX_REPLY_CHARS]


def text_reply(to_openid: str, from_original_id: str, content: str, create_time: int) -> str:
    """The XML of a passive text reply; ``]]>`` in content cannot break out of CDATA."""
    safe = content.replace("]]>", "]]]]><![CDATA[>")
    reply = TextReply(source=from_original_id, target=to_openid, content=safe, time=create_time)
    return reply.render()
