"""What kepuscreen does with each WeChat message or event, exactly once.

Every callback is handled in the same two steps, whatever the event:

1. *Read* — one TransactGetItems fetches the de-duplication record, the nonce
   record and whatever the decision needs (fan, screen, subscription).  A
   nonce already seen with another request's fingerprint is a replay: refused
   before anything else.  A de-duplication record means WeChat is retrying:
   answer what was answered the first time and stop (after spending a nonce
   not seen before, so that its signed query cannot carry another body).
2. *Write* — one TransactWriteItems commits the event's effects together with
   the de-duplication record (holding the reply) and the nonce record.  Either
   all of it happened or none of it did, so a retry after a crash re-does the
   work, and a retry after success is answered from the record.

A lost race (another delivery of the same message committed first) cancels
the transaction on the de-duplication record; its stored reply is returned.
Any other cancelled condition means the state changed between read and write:
read again and decide again, a bounded number of times.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import PutError

from chalicelib.models.accounts import Account
from chalicelib.models.callbacks import CallbackRecord
from chalicelib.models.unit_of_work import TransactionConflict, read_many
from chalicelib.replies import text_reply
from chalicelib.services.gateway.context import Context
from chalicelib.services.gateway.routes import route_for
from chalicelib.tracing import capture_method
from chalicelib.wechat.callback import InboundMessage
from chalicelib.wechat.rejection import CallbackRejected

logger = logging.getLogger(__name__)

RECORD_TTL = timedelta(days=2)  # WeChat retries within seconds; two days also covers the nonce window
MAX_ATTEMPTS = 3


# ---------------------------------------------------------------- entry point


@capture_method
def handle(account: Account, inbound: InboundMessage, now: datetime | None = None) -> str:
    """Process one verified message; returns the plain reply XML ("" for ``success``)."""
    now = now or datetime.now(UTC)
    route = route_for(inbound)
    dedup_key = f"{account.appid}#{inbound.dedup_key}"
    nonce_key = f"nonce#{account.appid}#{inbound.nonce}"
    if route is None:  # nothing to do (WeChat would only retry an error): spend the nonce, answer success
        _spend_nonce(nonce_key, inbound.fingerprint, now)
        return ""
    for _attempt in range(MAX_ATTEMPTS):
        ctx = Context(account, inbound, now, screen_code=route.screen_code)
        reads = [(CallbackRecord, dedup_key, None), (CallbackRecord, nonce_key, None), *route.reads(ctx)]
        loaded = read_many(reads)
        done, nonce = _record(loaded[0]), _record(loaded[1])
        if nonce is not None and nonce.fingerprint != inbound.fingerprint:
            raise CallbackRejected(403, "nonce already used by another request")  # before any answer
        if done is not None:
            if nonce is None:
                _spend_nonce(nonce_key, inbound.fingerprint, now)
            return done.reply or ""
        ctx.snapshot = route.name_reads(loaded[2:])
        decision = route.decide(ctx)
        reply_xml = (
            text_reply(ctx.openid, account.original_id, decision.reply, int(now.timestamp())) if decision.reply else ""
        )
        expires = now + RECORD_TTL
        decision.uow.put(
            CallbackRecord(dedup_key, reply=reply_xml if decision.remember_reply else None, expires_at=expires),
            condition=CallbackRecord.key.does_not_exist(),
            tag="dedup",
            return_old=True,
        )
        decision.uow.put(
            CallbackRecord(nonce_key, fingerprint=inbound.fingerprint, expires_at=expires),
            condition=CallbackRecord.key.does_not_exist() | (CallbackRecord.fingerprint == inbound.fingerprint),
            tag="nonce",
        )
        try:
            decision.uow.commit()
            return reply_xml
        except TransactionConflict as conflict:
            if conflict.failed_on("nonce"):
                raise CallbackRejected(403, "nonce already used by another request") from conflict
            if conflict.failed_on("dedup"):
                _spend_nonce(nonce_key, inbound.fingerprint, now)
                old = conflict.failed.get("dedup") or {}
                return (old.get("reply") or {}).get("S", "")
            logger.info("state changed while handling an event; deciding again", extra={"codes": conflict.codes})
    raise RuntimeError("event could not be committed after repeated conflicts")


def _record(item: object) -> CallbackRecord | None:
    """``read_many`` answers plain models; the first two reads are the callback's own records."""
    return item if isinstance(item, CallbackRecord) else None


def _spend_nonce(nonce_key: str, fingerprint: str, now: datetime) -> None:
    """Record a nonce that arrived on a duplicate delivery, so its signed query cannot carry another body.

    A duplicate is answered from the de-duplication record without the main
    transaction; without this, its (validly signed) nonce would stay unspent.
    """
    try:
        CallbackRecord(nonce_key, fingerprint=fingerprint, expires_at=now + RECORD_TTL).save(
            condition=CallbackRecord.key.does_not_exist() | (CallbackRecord.fingerprint == fingerprint),
        )
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise CallbackRejected(403, "nonce already used by another request") from exc
        raise
