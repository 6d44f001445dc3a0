"""Idempotency keys for create calls: a retried POST creates one object.

The first request with a key claims a record (conditional put) holding a
fingerprint of the request; when it succeeds the response is stored there and
every retry with the same key gets that response back.  The same key with a
different request is refused (422); a retry while the first is still running
gets 409; a failed first attempt releases the key so a retry can run.
Keys are scoped per caller and route and kept for a day.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from pynamodb.exceptions import PutError

from chalicelib.models import IdempotencyRecord
from chalicelib.models.idempotency import COMPLETED
from chalicelib.services.errors import BadRequest, Conflict, Unprocessable

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 128


def run(actor: str, route: str, key: str, request_body: bytes,
        handler: Callable[[], tuple[int, dict]], redact: Callable[[dict], dict] | None = None,
        ) -> tuple[int, dict, bool]:
    """``(status, body, replayed)`` of ``handler`` run at most once per key.

    ``redact`` turns the response into what may be stored: a value shown once
    (a new player or API key) is never written to the table, so a replay
    answers with it set to null and the client rotates it if it was lost.
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters", field="Idempotency-Key")
    record_key = f"{actor}#{route}#{key}"
    fingerprint = hashlib.sha256(request_body).hexdigest()
    record = IdempotencyRecord(record_key, fingerprint=fingerprint, expires_at=TTL)
    try:
        record.save(condition=IdempotencyRecord.key.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        existing = IdempotencyRecord.get(record_key, consistent_read=True)
        if existing.fingerprint != fingerprint:
            raise Unprocessable("this Idempotency-Key was used with a different request",
                                field="Idempotency-Key", code="idempotency_key_reused") from None
        if existing.status != COMPLETED:
            raise Conflict("a request with this Idempotency-Key is still in progress",
                           field="Idempotency-Key", code="request_in_progress") from None
        return int(existing.status_code), json.loads(existing.response), True
    try:
        status, body = handler()
    except BaseException:
        record.delete()
        raise
    record.update(actions=[IdempotencyRecord.status.set(COMPLETED), IdempotencyRecord.status_code.set(status),
                           IdempotencyRecord.response.set(
                               json.dumps(redact(body) if redact else body, ensure_ascii=False, default=str))])
    return status, body, False
