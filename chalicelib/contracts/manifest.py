"""The screen manifest: the public document the player (``player_static/``) reads.

``services.manifests`` builds a ``Manifest`` from the tables and stores
``Manifest.document()``; the player, the phone pages and the "latest" reply
read that JSON (``docs/messages.md``, ``docs/player.md``).  The model fixes the
fields, their order and their serialisation, so the stored bytes are the same
whatever builds them:

- instants are ISO-8601 in UTC with ``+00:00`` (``Instant``), as the player parses them;
- ``version`` is the sha256 of the canonical JSON of everything but ``version``
  and ``generated_at``: an unchanged screen keeps its version, so players'
  ``If-None-Match`` polls and the CDN see no change;
- the document is compact UTF-8 JSON (Chinese text unescaped).

``manifest_schema()`` is the JSON Schema of the document (what a player may rely on),
published as ``docs/manifest.schema.json``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

SCHEMA = 1


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


Instant = Annotated[datetime, PlainSerializer(_utc_iso, return_type=str)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestScreen(_Part):
    id: str
    name: str
    unit_name: str
    address: str


class ManifestQr(_Part):
    """The screen's permanent WeChat QR code, pre-rendered as inline SVG (the player draws no codes)."""

    url: str
    svg: str
    caption: str


class ManifestMedia(_Part):
    """A content-addressed media file on the CDN."""

    url: str
    type: str


class ManifestWindow(_Part):
    """A weekly window as ``contracts.windows.for_manifest`` shapes it."""

    days: list[int]
    start: str
    end: str


class ManifestItem(_Part):
    """One playable item; ``body`` is plain text, or the screen subset of an article's HTML."""

    content_id: str
    kind: str
    title: str
    summary: str
    body: str
    category: str | None
    media: list[ManifestMedia]
    link_url: str | None
    duration: int
    valid_from: Instant | None
    valid_until: Instant | None
    weekly_windows: list[ManifestWindow]
    priority: Literal["urgent", "normal"]
    urgent_until: Instant | None
    published_at: Instant | None
    unit_name: str


class Manifest(_Part):
    """Everything a player needs and nothing private."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    schema_: int = Field(default=SCHEMA, alias="schema")  # ``schema`` would shadow BaseModel's method
    api_base: str
    poll_seconds: int
    heartbeat_seconds: int
    screen: ManifestScreen
    qr: ManifestQr | None
    fan_count: int
    items: list[ManifestItem]
    version: str = ""
    generated_at: str = ""

    def sealed(self, now: datetime) -> Manifest:
        """This manifest with its content ``version`` and ``generated_at`` filled in."""
        return self.model_copy(update={"version": version_of(self), "generated_at": now.isoformat()})

    def as_json(self) -> dict[str, Any]:
        """The document as JSON values, in field order."""
        return self.model_dump(mode="json")

    def document(self) -> bytes:
        """The bytes stored in the player bucket."""
        return json.dumps(self.as_json(), ensure_ascii=False, separators=(",", ":")).encode()


def version_of(manifest: Manifest) -> str:
    """sha256 (hex) of the canonical JSON of the content: ``version`` and ``generated_at`` excluded."""
    body = manifest.as_json()
    del body["version"], body["generated_at"]
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of the stored document (published as ``docs/manifest.schema.json``)."""
    return Manifest.model_json_schema(mode="serialization")


def write_schema(path: str = "docs/manifest.schema.json") -> None:
    """Write ``manifest_schema()`` where the docs publish it (a test checks it is current)."""
    with open(path, "w", encoding="utf-8") as out:
        json.dump(manifest_schema(), out, ensure_ascii=False, indent=1, sort_keys=True)
        out.write("\n")
