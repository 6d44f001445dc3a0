"""Idempotency keys for create calls: a retried POST creates one object.

The first request with a key claims a record (conditional put) holding a
fingerprint of the request; when it succeeds the response is stored there and
every retry with the same key gets that response back.  The same key with a
different request is refused (422); a retry while the first is still running
gets 409; a failed first attempt releases the key so a retry can run.

A function stopped at its deadline (a Lambda timeout) runs no cleanup, so the
claim also records that deadline (``in_progress_expiry``, taken from the
Lambda context's remaining time, as the Powertools idempotency utility does);
once it has passed, the attempt is known dead and a retry takes the record
over instead of getting 409 for a day.  Each claim carries its own attempt id,
so a dead attempt can neither release nor overwrite a retry's record.

Keys are scoped per caller, route and path parameters (the same key on
``/users/A/keys`` and ``/users/B/keys`` names two requests) and kept a day.

Why not Powertools' ``idempotent_function`` itself: it stores the response it
returns, and a response here may hold a value shown once (a player or API
key) that must never be written to a table; ``redact`` below needs the stored
and the returned response to differ.  The expiry semantics are the same.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import DeleteError, PutError, UpdateError

from chalicelib.dal.items import condition_failed
from chalicelib.models import IdempotencyRecord
from chalicelib.models.idempotency import COMPLETED
from chalicelib.services.shared.errors import BadRequest, Conflict, Unprocessable

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 128
DEFAULT_IN_PROGRESS_MS = 30_000  # no Lambda context (local server): API Gateway gives up after 29 s


def now_ms() -> int:
    return int(time.time() * 1000)


def record_key(actor: str, route: str, key: str, path_params: dict[str, str] | None = None) -> str:
    """Path parameters are part of the request's identity (they are [A-Za-z0-9_.-], so '=' and '&' separate)."""
    params = "&".join(f"{k}={v}" for k, v in sorted((path_params or {}).items()))
    return f"{actor}#{route}#{params}#{key}"


def run(
    actor: str,
    route: str,
    key: str,
    request_body: bytes,
    handler: Callable[[], tuple[int, dict]],
    redact: Callable[[dict], dict] | None = None,
    path_params: dict[str, str] | None = None,
    remaining_ms: float | None = None,
) -> tuple[int, dict, bool]:
    """``(status, body, replayed)`` of ``handler`` run at most once per key.

    ``redact`` turns the response into what may be stored: a value shown once
    (a new player or API key) is never written to the table, so a replay
    answers with it set to null and the client rotates it if it was lost.
    ``remaining_ms`` is the time the function has left (Lambda context).
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequest(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters", field="Idempotency-Key")
    rkey = record_key(actor, route, key, path_params)
    fingerprint = hashlib.sha256(request_body).hexdigest()
    started = now_ms()
    attempt = secrets.token_hex(8)
    record = IdempotencyRecord(
        rkey,
        fingerprint=fingerprint,
        expires_at=TTL,
        attempt=attempt,
        in_progress_expiry=started + int(remaining_ms or DEFAULT_IN_PROGRESS_MS),
    )
    replay = _claim(record, started)
    if replay is not None:
        return replay
    mine = IdempotencyRecord.attempt == attempt
    try:
        status, body = handler()
    except BaseException:
        with contextlib.suppress(ConditionLost):  # taken over by a retry after our deadline: not ours to release
            _conditional(lambda: record.delete(condition=mine))
        raise
    with contextlib.suppress(ConditionLost):
        _conditional(
            lambda: record.update(
                actions=[
                    IdempotencyRecord.status.set(COMPLETED),
                    IdempotencyRecord.status_code.set(status),
                    IdempotencyRecord.in_progress_expiry.remove(),
                    IdempotencyRecord.response.set(
                        json.dumps(redact(body) if redact else body, ensure_ascii=False, default=str)
                    ),
                ],
                condition=mine,
            )
        )
    return status, body, False


class ConditionLost(Exception):
    """A conditional write found the record in another state than it required."""


def _conditional(write: Callable[[], object]) -> None:
    """Run one conditional write; a failed condition becomes ``ConditionLost``, any other error stays."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as exc:
        if not condition_failed(exc):
            raise
        raise ConditionLost from None


def _claim(record: IdempotencyRecord, started: int) -> tuple[int, dict, bool] | None:
    """Take the key for this attempt (None), or the stored answer of the completed request it repeats.

    A key is free when unused, abandoned (in progress past its deadline) or expired.
    """
    free = (
        IdempotencyRecord.key.does_not_exist()
        | ((IdempotencyRecord.status != COMPLETED) & (IdempotencyRecord.in_progress_expiry < started))
        | (IdempotencyRecord.expires_at < datetime.fromtimestamp(started / 1000, UTC))
    )
    try:
        _conditional(lambda: record.save(condition=free))
        return None
    except ConditionLost:
        pass
    existing = IdempotencyRecord.get(record.key, consistent_read=True)
    if existing.fingerprint != record.fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was used with a different request",
            field="Idempotency-Key",
            code="idempotency_key_reused",
        ) from None
    if existing.status != COMPLETED:
        raise Conflict(
            "a request with this Idempotency-Key is still in progress",
            field="Idempotency-Key",
            code="request_in_progress",
        ) from None
    return int(existing.status_code), json.loads(existing.response), True
