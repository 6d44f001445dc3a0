"""The queue messages admin changes owe to later stages (see ``docs/messages.md``).

Content keeps the messages a change owes in its ``outbox`` attribute, written
in the same transaction as the change; they are sent after the commit and the
outbox is cleared only if no newer change replaced it.  A crash in between
leaves them in the outbox, and the next identical request (a client retry)
sends them again: consumers are idempotent (``job_id`` = content_id:revision),
so at-least-once is safe and nothing is lost.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib.aws import send_json
from chalicelib.contracts import rebuild
from chalicelib.dal.items import unchanged
from chalicelib.logs import logger
from chalicelib.models import Content
from chalicelib.services.push.messages import PublishMessage
from chalicelib.settings import get_settings


def manifest_messages(screen_ids: Iterable[str], reason: str, content_id: str | None = None) -> list[dict[str, Any]]:
    """The outbox entries that rebuild these screens' manifests (``contracts.rebuild``)."""
    return [
        {"queue": "manifest", "body": json.dumps(message.body(), ensure_ascii=False)}
        for message in rebuild.for_screens(screen_ids, reason, content_id or None)
    ]


def push_message(content: Content, revision: int) -> dict[str, Any]:
    """The publish message, built with the planner's own contract (``push.messages.PublishMessage``)."""
    message = PublishMessage(
        type="publish",
        job_id=f"{content.content_id}:{revision}",
        content_id=content.content_id,
        revision=revision,
        unit_id=content.unit_id,
        screen_ids=sorted(content.screen_ids or ()),
        title=content.title,
        summary=content.summary or "",
        kind=content.kind,
        category=content.category,
        priority=content.priority,
        published_at=content.published_at.isoformat() if content.published_at else None,
    )
    return {"queue": "push", "body": json.dumps(message.wire(), ensure_ascii=False)}


def _queue_name(queue: str) -> str:
    settings = get_settings()
    return {"push": settings.push_queue_name, "manifest": settings.manifest_queue_name}[queue]


def send(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        body = json.loads(message["body"])
        send_json(_queue_name(message["queue"]), body)
        logger.info(
            "admin message enqueued",
            queue=message["queue"],
            type=body.get("type"),
            job_id=body.get("job_id"),
            content_id=body.get("content_id"),
            reason=body.get("reason"),
        )


def flush(content: Content) -> None:
    """Send what the content's outbox holds, then clear it unless a newer change wrote another."""
    pending = [dict(m) if not isinstance(m, dict) else m for m in (content.outbox or [])]
    if not pending:
        return
    send([{"queue": m["queue"], "body": m["body"]} for m in pending])
    # a newer revision may own the outbox now: then it stays; what we sent stays sent (consumers are idempotent)
    with contextlib.suppress(UpdateError):
        content.update(actions=[Content.outbox.remove()], condition=unchanged(content))
