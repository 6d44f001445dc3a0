"""The manifest queue's message: "rebuild these screens' manifests" (``docs/messages.md``).

Producers (the admin services through ``services.outbox``, the local demo
tools) build a ``RebuildMessage`` and send ``body()``; the consumer
(``handlers.screens.rebuild_manifests``) validates the same model, so the two
cannot disagree on a field.  A message names at most ``MAX_SCREENS`` screens;
``for_screens`` splits a larger set into several messages of ``CHUNK``.
Unknown fields (the correlation stamp, an enqueue time) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.contracts.id_types import ScreenId

# why a rebuild was asked for: logged and counted, never branched on (a new reason needs no consumer change)
REASONS = (
    "content_published",
    "content_updated",
    "content_withdrawn",
    "content_expired",
    "screen_updated",
    "screen_targets",
    "unit_urgent",
    "fans_changed",
)
CHUNK = 100
MAX_SCREENS = 1000


class RebuildMessage(BaseModel):
    """One manifest-queue message: the screens to rebuild, why, and the content that changed (if any)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["rebuild"]
    screen_ids: Annotated[list[ScreenId], Field(max_length=MAX_SCREENS)]
    reason: Annotated[str, Field(max_length=40)]
    content_id: Annotated[str, Field(max_length=64)] | None = None

    def body(self) -> dict[str, Any]:
        """The JSON object to enqueue (``content_id`` only when there is one)."""
        return self.model_dump(mode="json", exclude_none=True)


def for_screens(screen_ids: Iterable[str], reason: str, content_id: str | None = None) -> list[RebuildMessage]:
    """The messages that rebuild ``screen_ids`` (sorted, each once), ``CHUNK`` screens per message."""
    ids = sorted(set(screen_ids))
    return [
        RebuildMessage(type="rebuild", screen_ids=ids[start : start + CHUNK], reason=reason, content_id=content_id)
        for start in range(0, len(ids), CHUNK)
    ]
