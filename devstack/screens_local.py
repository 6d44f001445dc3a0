"""Local helpers for screens: give a screen a player key, publish content the way the admin API does.

Used by the player's tests, ``bench/publish_to_screen.py`` and demo seeding.
``publish`` writes the ``Content`` item and enqueues the manifest rebuild
exactly as ``docs/messages.md`` specifies; it is *not* the admin API (which
also reviews, audits and pushes) and exists so the player can be exercised
on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chalicelib.aws import client, send_json
from chalicelib.contracts import player_keys
from chalicelib.contracts.rebuild import RebuildMessage
from chalicelib.models.base import utcnow
from chalicelib.models.content import PUBLISHED, WITHDRAWN, Content
from chalicelib.models.screens import Screen
from chalicelib.settings import get_settings


def enroll_screen(screen_id: str) -> str:
    """Give the screen a fresh player key (stored hashed); returns the key."""
    key, key_hash = player_keys.mint()
    Screen(screen_id).update(actions=[Screen.player_key_hash.set(key_hash)])
    return key


def put_media(data: bytes, content_type: str, ext: str) -> dict[str, Any]:
    """Store a media object under its content address; returns the ``Content.media`` entry."""
    digest = hashlib.sha256(data).hexdigest()
    key = f"media/{digest}.{ext}"
    client("s3").put_object(
        Bucket=get_settings().player_bucket,
        Key=key,
        Body=data,
        ContentType=content_type,
        CacheControl="public, max-age=31536000, immutable",
    )
    return {"key": key, "type": content_type, "size": len(data), "sha256": digest}


def publish(
    content_id: str,
    screen_ids: list[str],
    *,
    unit_id: str = "city",
    kind: str = "notice",
    title: str = "通知",
    body: str | None = None,
    duration: int = 15,
    priority: str = "normal",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    weekly_windows: list[dict] | None = None,
    media: list[dict] | None = None,
    link_url: str | None = None,
    category: str | None = None,
    revision: int = 1,
) -> Content:
    """Write published content and enqueue the rebuild of its screens."""
    content = Content(
        content_id,
        unit_id=unit_id,
        kind=kind,
        title=title,
        body=body,
        duration=duration,
        priority=priority,
        valid_from=valid_from,
        valid_until=valid_until,
        weekly_windows=weekly_windows,
        media=media,
        link_url=link_url,
        category=category,
        screen_ids=set(screen_ids),
        status=PUBLISHED,
        published_at=utcnow(),
        revision=revision,
    )
    content.save()
    _rebuild(screen_ids, "content_published", content_id)
    return content


def _rebuild(screen_ids: Iterable[str], reason: str, content_id: str) -> None:
    """Enqueue one rebuild message (the consumer's own contract) for these screens."""
    message = RebuildMessage(type="rebuild", screen_ids=sorted(set(screen_ids)), reason=reason, content_id=content_id)
    send_json(get_settings().manifest_queue_name, message.body())


def withdraw(content_id: str) -> None:
    """Withdraw content and enqueue the rebuild of the screens it was on."""
    content = Content.get(content_id)
    content.update(actions=[Content.status.set(WITHDRAWN), Content.revision.add(1)])
    _rebuild(content.screen_ids or (), "content_withdrawn", content_id)
