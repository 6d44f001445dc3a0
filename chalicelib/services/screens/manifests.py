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

import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import segno
from pynamodb.exceptions import PutError

from chalicelib.aws import client
from chalicelib.contracts import article_html
from chalicelib.contracts import windows as weekly
from chalicelib.contracts.manifest import (
    Manifest,
    ManifestItem,
    ManifestMedia,
    ManifestQr,
    ManifestScreen,
    ManifestWindow,
)
from chalicelib.contracts.rebuild import RebuildMessage
from chalicelib.dal import screens as screen_repo
from chalicelib.dal.items import condition_failed, find
from chalicelib.logs import logger
from chalicelib.models.base import utcnow
from chalicelib.models.content import PUBLISHED, URGENT, URGENT_HOLD, Content
from chalicelib.models.screen_links import ScreenContentLink
from chalicelib.models.screens import Screen
from chalicelib.models.units import Unit
from chalicelib.services.screens.manifest_store import manifest_key
from chalicelib.settings import get_settings
from chalicelib.tracing import capture_method

MANIFEST_CACHE_CONTROL = "max-age=5"
QR_CAPTION = "微信扫码 订阅本屏"
MAX_ITEMS = 200
INACTIVE_LINK_DAYS = 35  # longer than the oldest play the screen API accepts (30 days)
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
            screen_id,
            content_id,
            active=active,
            revision=int(content.revision),
            updated_at=utcnow(),
            expires_at=None if active else utcnow() + timedelta(days=INACTIVE_LINK_DAYS),
        )
        try:
            link.save(
                condition=ScreenContentLink.revision.does_not_exist()
                | (ScreenContentLink.revision <= int(content.revision))
            )
        except PutError as exc:
            if not condition_failed(exc):
                raise
            logger.info("link already at a newer revision", screen_id=screen_id, content_id=content_id)
    return affected


def active_content_ids(screen_id: str) -> list[str]:
    """The contents linked to a screen and active: one Query, filtered server-side."""
    return [
        link.content_id
        for link in ScreenContentLink.query(
            screen_id,
            filter_condition=ScreenContentLink.active == True,  # noqa: E712 (pynamodb expression)
        )
    ]


# ---------------------------------------------------------------- building


def build_manifest(screen: Screen, now: datetime | None = None) -> Manifest:
    """The manifest for one screen, ``version`` included; pure apart from table reads."""
    now = now or utcnow()
    settings = get_settings()
    ids = active_content_ids(screen.screen_id)
    contents = [c for c in Content.batch_get(ids) if c.status == PUBLISHED and not _expired(c, now)]
    units = {u.unit_id: u.name for u in Unit.batch_get({screen.unit_id} | {c.unit_id for c in contents})}
    contents.sort(key=lambda c: (c.priority != URGENT, -_ts(c.published_at), c.content_id))
    manifest = Manifest(
        api_base=settings.public_base_url,
        poll_seconds=int(screen.poll_seconds or 10),
        heartbeat_seconds=int(screen.heartbeat_interval or 30),
        screen=ManifestScreen(
            id=screen.screen_id, name=screen.name, unit_name=units.get(screen.unit_id, ""), address=screen.address or ""
        ),
        qr=_qr(screen.qr_url),
        fan_count=int(screen.fan_count or 0),
        items=[_item(c, units.get(c.unit_id, ""), settings.cdn_base_url) for c in contents[:MAX_ITEMS]],
    )
    return manifest.sealed(now)


def _stored(entry: Any) -> dict[str, Any]:
    """A map attribute's entry as a plain dict (pynamodb gives MapAttribute or dict)."""
    return dict(entry.as_dict() if hasattr(entry, "as_dict") else entry)


def _item(content: Content, unit_name: str, cdn_base: str) -> ManifestItem:
    kind = content.kind
    link = content.link_url if kind == "link" and content.link_url and _SAFE_URL.match(content.link_url) else None
    return ManifestItem(
        content_id=content.content_id,
        kind=kind,
        title=content.title,
        summary=article_html.plain_text(content.summary or ""),
        body=_sanitise(content.body or "", kind),
        category=content.category,
        media=[m for m in (_media(_stored(x), cdn_base) for x in (content.media or [])) if m],
        link_url=link,
        duration=max(3, min(int(content.duration or 15), 3600)),
        valid_from=content.valid_from,
        valid_until=content.valid_until,
        weekly_windows=[ManifestWindow(**weekly.for_manifest(_stored(w))) for w in (content.weekly_windows or [])],
        priority="urgent" if content.priority == URGENT else "normal",
        urgent_until=_urgent_until(content),
        published_at=content.published_at,
        unit_name=unit_name,
    )


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
    """Articles keep the screen's subset of the allow-list; everything else becomes plain text."""
    return article_html.screen(body) if kind == "article" else article_html.plain_text(body)


def _media(entry: dict[str, Any], cdn_base: str) -> ManifestMedia | None:
    """A content-addressed media URL; entries without a sha256 are not playable and are dropped."""
    digest = str(entry.get("sha256") or "").lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        return None
    mime = str(entry.get("type") or "application/octet-stream")
    key = str(entry.get("key") or "")
    ext = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else ""
    if not re.fullmatch(r"[a-z0-9]{1,5}", ext):
        ext = (mimetypes.guess_extension(mime) or ".bin").lstrip(".")
    return ManifestMedia(url=f"{cdn_base}/media/{digest}.{ext}", type=mime)


def _qr(url: str | None) -> ManifestQr | None:
    if not url:
        return None
    svg = segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True)
    return ManifestQr(url=url, svg=svg, caption=QR_CAPTION)


def _expired(content: Content, now: datetime) -> bool:
    return content.valid_until is not None and content.valid_until <= now


def _ts(moment: datetime | None) -> float:
    return moment.timestamp() if moment else 0.0


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
    version = manifest.version
    if _stored_version(bucket, key) == version:
        return RebuildResult(screen_id, version, False, len(manifest.items))
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=manifest.document(),
        ContentType="application/json; charset=utf-8",
        CacheControl=MANIFEST_CACHE_CONTROL,
        Metadata={"version": version},
    )
    if screen.manifest_version != version:
        screen.update(actions=[Screen.manifest_version.set(version)])
    return RebuildResult(screen_id, version, True, len(manifest.items))


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
    logger.info(
        "manifest batch",
        messages=len(messages),
        screens=sum(map(len, screens_of.values())),
        written=written,
        failed=len(failed),
    )
    return failed
