"""The screen API the player calls, and the manifest-queue consumer.

``POST /screens/{id}/heartbeat`` and ``POST /screens/{id}/plays`` authenticate
with the player key: ``Authorization: Bearer <key>``, ``X-Player-Key``, or the
body's ``player_key`` field.  The player sends the last, as ``text/plain`` JSON:
a CORS simple request, so a screen on the CDN's origin makes no preflights
(one request per report instead of two).  Preflights are still answered for
the header forms.
Rules live in ``chalicelib.services.screens.reports`` and
``chalicelib.services.screens.manifests``; this module parses and shapes responses.
"""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint, CORSConfig, Response
from chalice.app import SQSEvent
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from chalicelib import sqs_batch
from chalicelib.contracts.rebuild import RebuildMessage
from chalicelib.observability import correlate, count, since_enqueued_ms, sqs_handler
from chalicelib.services.screens import manifests
from chalicelib.services.screens import reports as screen_reports
from chalicelib.settings import get_settings

bp = Blueprint(__name__)

CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "X-Player-Key", "Content-Type"], max_age=600)
MAX_HEARTBEAT_BYTES = 4 * 1024
MAX_PLAYS_BYTES = 32 * 1024


def _json(status: int, body: dict) -> Response:
    return Response(body=body, status_code=status, headers={"Cache-Control": "no-store"})


REPORT_TYPES = ["application/json", "text/plain"]


def _player_key(data: object) -> str | None:
    """The key from a header, else from the body (removed there: it is not part of the report)."""
    headers = bp.current_request.headers
    auth = headers.get("authorization") or ""
    body_key = data.pop("player_key", None) if isinstance(data, dict) else None
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    key = headers.get("x-player-key") or body_key
    return key if isinstance(key, str) else None


def _source_ip() -> str:
    context = bp.current_request.context or {}
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")[:64]


def _rate_limited() -> Response:
    response = _json(429, {"error": "rate_limited", "message": "请求过于频繁"})
    response.headers["Retry-After"] = "60"
    return response


def _screen_request(screen_id: str, model: type[BaseModel], max_bytes: int):
    """Authenticate, rate-limit and parse; returns (screen, body) or an error Response.

    Wrong keys are rate-limited as well as right ones: failures are counted
    per source address (not per screen, so a flood of wrong keys cannot
    silence a real screen elsewhere), and once over the limit the address
    gets 429 without its key being looked at.  The body is parsed first, with
    pydantic's JSON parser (a depth limit instead of Python's RecursionError
    on deep nesting), because the player sends its key inside it.
    """
    failures = f"authfail#{_source_ip()}"
    if screen_reports.failures_over_limit(failures):
        return _rate_limited()
    raw = bp.current_request.raw_body or b""
    if len(raw) > max_bytes + 256:  # room for the key in the body
        return _json(413, {"error": "too_large", "max_bytes": max_bytes})
    try:
        data = from_json(raw or b"{}")
    except ValueError:
        data = None
    screen = screen_reports.authenticate(screen_id, _player_key(data))
    if screen is None:
        if not screen_reports.within_rate_limit(failures):
            return _rate_limited()
        return _json(401, {"error": "unauthorized", "message": "屏幕密钥无效"})
    if not screen_reports.within_rate_limit(screen_id):
        return _rate_limited()
    try:
        if data is None:
            raise ValueError("not JSON")
        body = model.model_validate(data)
    except (ValueError, ValidationError) as exc:
        errors = (
            exc.errors(include_url=False, include_input=False, include_context=False)
            if isinstance(exc, ValidationError)
            else []
        )
        return _json(400, {"error": "invalid_body", "details": json.loads(json.dumps(errors, default=str))[:10]})
    return screen, body


@bp.route("/screens/{screen_id}/heartbeat", methods=["POST"], cors=CORS, content_types=REPORT_TYPES)
def heartbeat(screen_id: str) -> Response:
    parsed = _screen_request(screen_id, screen_reports.Heartbeat, MAX_HEARTBEAT_BYTES)
    if isinstance(parsed, Response):
        return parsed
    screen, beat = parsed
    return _json(200, screen_reports.record_heartbeat(screen, beat))


@bp.route("/screens/{screen_id}/plays", methods=["POST"], cors=CORS, content_types=REPORT_TYPES)
def plays(screen_id: str) -> Response:
    parsed = _screen_request(screen_id, screen_reports.PlayBatch, MAX_PLAYS_BYTES)
    if isinstance(parsed, Response):
        return parsed
    screen, batch = parsed
    return _json(200, screen_reports.record_plays(screen, batch))


@bp.on_sqs_message(queue=get_settings().manifest_queue_name, batch_size=10)
@sqs_handler
def rebuild_manifests(event: SQSEvent) -> dict:
    """One rebuild per screen per batch; a message that fails its contract is reported failed (→ the DLQ)."""
    messages: dict[str, RebuildMessage] = {}
    waited: dict[str, float | None] = {}

    def read(record: SQSRecord) -> None:  # the per-record pass; the rebuild itself is batch-wide
        message, body = sqs_batch.contract(record, RebuildMessage)
        correlate(body)  # one batch may hold several requests' messages: the last one's id tags the batch
        messages[record.message_id] = message
        waited[record.message_id] = since_enqueued_ms(body)

    response = sqs_batch.consume(event.to_dict(), read, getattr(event, "context", None))
    failed = manifests.rebuild_batch(messages)
    for message_id, message in messages.items():
        wait = waited.get(message_id)
        if message_id not in failed and message.reason == "content_published" and wait is not None:
            count("PublishToManifest", wait, unit="Milliseconds")
    count("ManifestRebuilds", sum(len(m.screen_ids) for i, m in messages.items() if i not in failed), outcome="ok")
    response = sqs_batch.with_failures(response, failed)
    if response["batchItemFailures"]:
        count("ManifestRebuilds", len(response["batchItemFailures"]), outcome="failed")
    return response
