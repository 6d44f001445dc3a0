"""Where screen manifests live in the player bucket, and reading them back.

A manifest is the complete, public description of what one screen shows
(``chalicelib.contracts.manifest``, ``docs/messages.md``).  The player fetches it through the CDN; the phone
pages and the "latest" menu read the same object, so a phone always mirrors
exactly what the screen plays.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.aws import client
from chalicelib.settings import get_settings

logger = logging.getLogger(__name__)


def manifest_key(screen_id: str) -> str:
    return f"screens/{screen_id}/manifest.json"


def load_manifest(screen_id: str) -> dict[str, Any] | None:
    """The screen's current manifest, or None if it has never been built."""
    s3 = client("s3")
    try:
        obj = s3.get_object(Bucket=get_settings().player_bucket, Key=manifest_key(screen_id))
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(obj["Body"].read())


def latest_items(screen_ids: list[str], limit: int = 5) -> list[dict[str, Any]]:
    """Newest items across several screens' manifests, each item once."""
    seen: dict[str, dict[str, Any]] = {}
    for screen_id in screen_ids[:10]:  # bounded: this runs inside WeChat's 5-second reply budget
        manifest = load_manifest(screen_id) or {}
        for item in manifest.get("items", []):
            cid = item.get("content_id")
            if cid and cid not in seen:
                seen[cid] = item
    ordered = sorted(seen.values(), key=lambda i: i.get("published_at") or "", reverse=True)
    return ordered[:limit]
