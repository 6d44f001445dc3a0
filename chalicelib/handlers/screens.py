"""The screen API the player calls, and the manifest-queue consumer.

``POST /screens/{id}/heartbeat`` and ``POST /screens/{id}/plays`` authenticate
with the player key (``Authorization: Bearer <key>`` or ``X-Player-Key``).
The player runs on the CDN's origin, so these routes answer CORS preflights.
Rules live in ``chalicelib.services.screen_reports`` and
``chalicelib.services.manifests``; this module parses and shapes responses.
"""

from __future__ import annotations

import json

from chalice import Blueprint, CORSConfig, Response
from chalice.app import SQSEvent
from pydantic import BaseModel, ValidationError

from chalicelib.logs import logger
from chalicelib.observability import correlate, count, since_enqueued_ms, sqs_handler
from chalicelib.services import manifests, screen_reports
from chalicelib.settings import get_settings

bp = Blueprint(__name__)

CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "X-Player-Key", "Content-Type"], max_age=600)
MAX_HEARTBEAT_BYTES = 4 * 1024
MAX_PLAYS_BYTES = 32 * 1024


def _json(status: int, body: dict) -> Response:
    return Response(body=body, status_code=status, headers={"Cache-Control": "no-store"})


def _player_key() -> str | None:
    headers = bp.current_request.headers
    auth = headers.get("authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return headers.get("x-player-key")


def _screen_request(screen_id: str, model: type[BaseModel], max_bytes: int):
    """Authenticate, rate-limit and parse; returns (screen, body) or an error Response."""
    screen = screen_reports.authenticate(screen_id, _player_key())
    if screen is None:
        return _json(401, {"error": "unauthorized", "message": "屏幕密钥无效"})
    if not screen_reports.within_rate_limit(screen_id):
        response = _json(429, {"error": "rate_limited", "message": "请求过于频繁"})
        response.headers["Retry-After"] = "60"
        return response
    raw = bp.current_request.raw_body or b""
    if len(raw) > max_bytes:
        return _json(413, {"error": "too_large", "max_bytes": max_bytes})
    try:
        body = model.model_validate(json.loads(raw or b"{}"))
    except (ValueError, ValidationError) as exc:
        errors = exc.errors(include_url=False, include_input=False) if isinstance(exc, ValidationError) else []
        return _json(400, {"error": "invalid_body", "details": json.loads(json.dumps(errors, default=str))[:10]})
    return screen, body


@bp.route("/screens/{screen_id}/heartbeat", methods=["POST"], cors=CORS)
def heartbeat(screen_id: str) -> Response:
    parsed = _screen_request(screen_id, screen_reports.Heartbeat, MAX_HEARTBEAT_BYTES)
    if isinstance(parsed, Response):
        return parsed
    screen, beat = parsed
    return _json(200, screen_reports.record_heartbeat(screen, beat))


@bp.route("/screens/{screen_id}/plays", methods=["POST"], cors=CORS)
def plays(screen_id: str) -> Response:
    parsed = _screen_request(screen_id, screen_reports.PlayBatch, MAX_PLAYS_BYTES)
    if isinstance(parsed, Response):
        return parsed
    screen, batch = parsed
    return _json(200, screen_reports.record_plays(screen, batch))


@bp.on_sqs_message(queue=get_settings().manifest_queue_name, batch_size=10)
@sqs_handler
def rebuild_manifests(event: SQSEvent) -> dict:
    """One rebuild per screen per batch; unparseable messages fail (and reach the DLQ)."""
    messages: dict[str, manifests.RebuildMessage] = {}
    waited: dict[str, float | None] = {}
    failed: set[str] = set()
    for record in event.to_dict()["Records"]:
        message_id = record["messageId"]
        try:
            body = json.loads(record["body"])
            correlate(body)  # one batch may hold several requests' messages: the last one's id tags the batch
            messages[message_id] = manifests.RebuildMessage.model_validate(body)
            waited[message_id] = since_enqueued_ms(body)
        except (ValueError, ValidationError) as exc:
            logger.error("bad manifest message", message_id=message_id, error=str(exc)[:300])
            failed.add(message_id)
    failed |= manifests.rebuild_batch(messages)
    for message_id, message in messages.items():
        if message_id not in failed and message.reason == "content_published" and waited.get(message_id) is not None:
            count("PublishToManifest", waited[message_id], unit="Milliseconds")
    count("ManifestRebuilds", sum(len(m.screen_ids) for i, m in messages.items() if i not in failed), outcome="ok")
    if failed:
        count("ManifestRebuilds", len(failed), outcome="failed")
    return {"batchItemFailures": [{"itemIdentifier": mid} for mid in sorted(failed)]}
