"""Build each screen's public manifest and publish it to the player bucket.

The manifest (schema in ``docs/messages.md``) is everything a player needs and
nothing private.  It is rebuilt from the tables on every manifest-queue
message naming the screen; a rebuild is idempotent: the ``version`` is a
sha256 of the canonical content (``generated_at`` excluded), and the PUT is
skipped when the object in the bucket already carries that version, so CDN
caches and players' ``If-None-Match`` polls see no change.

Which content a screen shows comes from ``ScreenContentLink`` (see
``chalicelib/models/screen_links.py``): :func:`sync_links` refreshes the links
of the content a message names, :func:`build_manifest` queries the screen's
active links and batch-reads those contents.  No table is scanned.
"""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import nh3
import segno
from pydantic import BaseModel, ConfigDict, Field
from pynamodb.exceptions import PutError

from chalicelib.aws import client
from chalicelib.dal import screens as screen_repo
from chalicelib.dal.items import condition_failed, find
from chalicelib.logs import logger
from chalicelib.models.base import utcnow
from chalicelib.models.content import PUBLISHED, URGENT, Content
from chalicelib.models.screen_links import ScreenContentLink
from chalicelib.models.screens import Screen
from chalicelib.models.units import Unit
from chalicelib.services.manifest_store import manifest_key
from chalicelib.settings import get_settings
from chalicelib.tracing import capture_method

SCHEMA = 1
MANIFEST_CACHE_CONTROL = "max-age=5"
QR_CAPTION = "微信扫码 订阅本屏"
MAX_ITEMS = 200
INACTIVE_LINK_DAYS = 35  # longer than the oldest play the screen API accepts (30 days)
ARTICLE_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "h2", "h3", "h4", "ul", "ol", "li", "blockquote",
                "span", "small", "sub", "sup"}
_SAFE_URL = re.compile(r"^https?://[^\s<>\"']{1,2000}$")


@dataclass(frozen=True)
class RebuildResult:
    """What one screen's rebuild did: ``written`` is False when the version was unchanged."""

    screen_id: str
    version: str | None
    written: bool
    items: int


# ---------------------------------------------------------------- the per-screen index


def sync_links(content_id: str, screen_ids: Iterable[str]) -> set[str]:
    """Mark the content active/inactive on each named screen (and each screen it targets).

    Returns every screen whose manifest may have changed.  A write never moves
    a link to an older revision of the content (conditional on ``revision``).
    """
    content = find(Content, content_id)
    targets = set(content.screen_ids or ()) if content is not None else set()
    live = content is not None and content.status == PUBLISHED and not _expired(content, utcnow())
    affected = set(screen_ids) | (targets if live else set())
    for screen_id in sorted(affected):
        if content is None:
            ScreenContentLink(screen_id, content_id).delete()
            continue
        active = live and screen_id in targets
        link = ScreenContentLink(
            screen_id, content_id, active=active, revision=int(content.revision), updated_at=utcnow(),
            expires_at=None if active else utcnow() + timedelta(days=INACTIVE_LINK_DAYS),
        )
        try:
            link.save(condition=ScreenContentLink.revision.does_not_exist()
                      | (ScreenContentLink.revision <= int(content.revision)))
        except PutError as exc:
            if not condition_failed(exc):
                raise
            logger.info("link already at a newer revision", screen_id=screen_id, content_id=content_id)
    return affected


def active_content_ids(screen_id: str) -> list[str]:
    """The contents linked to a screen and active: one Query, filtered server-side."""
    return [link.content_id for link in ScreenContentLink.query(
        screen_id, filter_condition=ScreenContentLink.active == True,  # noqa: E712 (pynamodb expression)
    )]


# ---------------------------------------------------------------- building


def build_manifest(screen: Screen, now: datetime | None = None) -> dict[str, Any]:
    """The manifest for one screen, ``version`` included; pure apart from table reads."""
    now = now or utcnow()
    settings = get_settings()
    ids = active_content_ids(screen.screen_id)
    contents = [c for c in Content.batch_get(ids) if c.status == PUBLISHED and not _expired(c, now)]
    units = {u.unit_id: u.name for u in Unit.batch_get({screen.unit_id} | {c.unit_id for c in contents})}
    contents.sort(key=lambda c: (c.priority != URGENT, -_ts(c.published_at), c.content_id))
    body: dict[str, Any] = {
        "schema": SCHEMA,
        "api_base": settings.public_base_url,
        "poll_seconds": int(screen.poll_seconds or 10),
        "heartbeat_seconds": int(screen.heartbeat_interval or 30),
        "screen": {"id": screen.screen_id, "name": screen.name, "unit_name": units.get(screen.unit_id, ""),
                   "address": screen.address or ""},
        "qr": _qr(screen.qr_url),
        "fan_count": int(screen.fan_count or 0),
        "items": [_item(c, units.get(c.unit_id, ""), settings.cdn_base_url) for c in contents[:MAX_ITEMS]],
    }
    version = hashlib.sha256(_canonical(body)).hexdigest()
    return {**body, "version": version, "generated_at": now.isoformat()}


def _item(content: Content, unit_name: str, cdn_base: str) -> dict[str, Any]:
    kind = content.kind
    link = content.link_url if kind == "link" and content.link_url and _SAFE_URL.match(content.link_url) else None
    return {
        "content_id": content.content_id,
        "kind": kind,
        "title": content.title,
        "summary": _plain(content.summary or ""),
        "body": _sanitise(content.body or "", kind),
        "category": content.category,
        "media": [m for m in (_media(dict(x.as_dict() if hasattr(x, "as_dict") else x), cdn_base)
                              for x in (content.media or [])) if m],
        "link_url": link,
        "duration": max(3, min(int(content.duration or 15), 3600)),
        "valid_from": _iso(content.valid_from),
        "valid_until": _iso(content.valid_until),
        "weekly_windows": [_window(dict(w.as_dict() if hasattr(w, "as_dict") else w))
                           for w in (content.weekly_windows or [])],
        "priority": URGENT if content.priority == URGENT else "normal",
        "urgent_until": _iso(_urgent_until(content)),
        "published_at": _iso(content.published_at),
        "unit_name": unit_name,
    }


URGENT_HOLD = timedelta(hours=24)


def _urgent_until(content: Content) -> datetime | None:
    """Until when an urgent item holds the screens: its end, or 24 h after it went on screen.

    The admin API gives every urgent item an end when it is published; content that reached
    the tables another way still never holds a screen forever.
    """
    if content.priority != URGENT:
        return None
    if content.valid_until is not None:
        return content.valid_until
    start = max(filter(None, (content.valid_from, content.published_at)), default=None)
    return start + URGENT_HOLD if start else None


def _sanitise(body: str, kind: str) -> str:
    """Articles keep a small set of text tags; everything else becomes plain text."""
    if kind == "article":
        return nh3.clean(body, tags=ARTICLE_TAGS, attributes={}, link_rel=None)
    return _plain(body)


def _plain(text: str) -> str:
    return html.unescape(nh3.clean(text, tags=set(), attributes={}))


def _media(entry: dict[str, Any], cdn_base: str) -> dict[str, Any] | None:
    """A content-addressed media URL; entries without a sha256 are not playable and are dropped."""
    digest = str(entry.get("sha256") or "").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        return None
    mime = str(entry.get("type") or "application/octet-stream")
    key = str(entry.get("key") or "")
    ext = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else ""
    if not re.fullmatch(r"[a-z0-9]{1,5}", ext):
        ext = (mimetypes.guess_extension(mime) or ".bin").lstrip(".")
    return {"url": f"{cdn_base}/media/{digest}.{ext}", "type": mime}


def _window(window: dict[str, Any]) -> dict[str, Any]:
    days = sorted({int(d) for d in window.get("days") or range(1, 8) if 1 <= int(d) <= 7})
    start, end = str(window.get("start") or "00:00")[:5], str(window.get("end") or "24:00")[:5]
    return {"days": days, "start": start, "end": end}


def _qr(url: str | None) -> dict[str, Any] | None:
    if not url:
        return None
    svg = segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True)
    return {"url": url, "svg": svg, "caption": QR_CAPTION}


def _expired(content: Content, now: datetime) -> bool:
    return content.valid_until is not None and content.valid_until <= now


def _ts(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# ---------------------------------------------------------------- publishing


@capture_method
def rebuild_screen(screen_id: str) -> RebuildResult:
    """Rebuild one screen's manifest; write it only if its version changed."""
    s3 = client("s3")
    bucket = get_settings().player_bucket
    key = manifest_key(screen_id)
    screen = screen_repo.find(screen_id)
    if screen is None:
        s3.delete_object(Bucket=bucket, Key=key)  # a removed screen shows nothing, rather than stale content
        return RebuildResult(screen_id, None, True, 0)
    manifest = build_manifest(screen)
    version = manifest["version"]
    if _stored_version(bucket, key) == version:
        return RebuildResult(screen_id, version, False, len(manifest["items"]))
    s3.put_object(
        Bucket=bucket, Key=key, Body=json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode(),
        ContentType="application/json; charset=utf-8", CacheControl=MANIFEST_CACHE_CONTROL,
        Metadata={"version": version},
    )
    if screen.manifest_version != version:
        screen.update(actions=[Screen.manifest_version.set(version)])
    return RebuildResult(screen_id, version, True, len(manifest["items"]))


def _stored_version(bucket: str, key: str) -> str | None:
    s3 = client("s3")
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return head.get("Metadata", {}).get("version")


# ---------------------------------------------------------------- the queue


REASONS = ("content_published", "content_updated", "content_withdrawn", "content_expired",
           "screen_updated", "unit_urgent", "fans_changed")


class RebuildMessage(BaseModel):
    """One manifest-queue message (``docs/messages.md``)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["rebuild"]
    screen_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,32}$")]] = Field(max_length=1000)
    reason: str = Field(max_length=40)
    content_id: str | None = Field(default=None, max_length=64)


def rebuild_batch(messages: dict[str, RebuildMessage]) -> set[str]:
    """Apply a batch of messages: sync links, then rebuild each affected screen once.

    Returns the ids of messages that must be retried: those whose content
    could not be synced or that name a screen whose rebuild failed.
    """
    failed: set[str] = set()
    screens_of: dict[str, set[str]] = {}
    for message_id, message in messages.items():
        screens = set(message.screen_ids)
        if message.content_id:
            try:
                screens |= sync_links(message.content_id, message.screen_ids)
            except Exception:
                logger.exception("syncing screen links failed", content_id=message.content_id)
                failed.add(message_id)
                continue
        screens_of[message_id] = screens
    broken: set[str] = set()
    written = 0
    for screen_id in sorted(set().union(*screens_of.values()) if screens_of else ()):
        try:
            written += rebuild_screen(screen_id).written
        except Exception:
            logger.exception("manifest rebuild failed", screen_id=screen_id)
            broken.add(screen_id)
    failed |= {mid for mid, screens in screens_of.items() if screens & broken}
    logger.info("manifest batch", messages=len(messages), screens=sum(map(len, screens_of.values())),
                written=written, failed=len(failed))
    return failed
