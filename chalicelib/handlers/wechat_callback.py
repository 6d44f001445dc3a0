"""``GET`` and ``POST /wechat/{appid}``: the callback URL pasted into the WeChat console.

All protocol checks live in ``chalicelib.wechat.callback`` (the signature's in
``chalicelib.wechat.signature``) and all decisions in
``chalicelib.services.gateway``; this handler maps their outcomes to
HTTP.  Refusals are 4xx with a short plain-text reason and no stack trace:
WeChat retries a 5xx, and a hostile sender learns nothing useful.
"""

from __future__ import annotations

import time

from chalice import Blueprint, Response

from chalicelib.contracts import ids
from chalicelib.handlers.request_body import body_bytes
from chalicelib.logs import logger
from chalicelib.observability import correlate, count, timing
from chalicelib.services.gateway import directory, engine
from chalicelib.wechat.callback import (
    MAX_BODY_BYTES,
    message_fields,
    open_message,
    seal_reply,
    verify_url,
)
from chalicelib.wechat.rejection import CallbackRejected

bp = Blueprint(__name__)

XML_TYPES = ["text/xml", "application/xml"]
ANY_TYPE = ["*/*"]  # a body-less GET may carry any Content-Type (or none); Chalice would answer 415


def _text(status: int, body: str) -> Response:
    return Response(body=body, status_code=status, headers={"Content-Type": "text/plain; charset=utf-8"})


def _account_or_404(appid: str):
    if not ids.is_appid(appid):
        raise CallbackRejected(404, "unknown account")
    found = directory.callback_account(appid)
    if found is None:
        raise CallbackRejected(404, "unknown account")
    return found


@bp.route("/wechat/{appid}", methods=["GET"], content_types=ANY_TYPE)
def verify_server(appid: str) -> Response:
    """WeChat's server-address check: echo ``echostr`` when the signature is right."""
    try:
        _account, keys = _account_or_404(appid)
        return _text(200, verify_url(keys, dict(bp.current_request.query_params or {})))
    except CallbackRejected as rejected:
        logger.info("callback verification refused", appid=appid[:32], status=rejected.status, reason=rejected.reason)
        return _text(rejected.status, rejected.reason)


@bp.route("/wechat/{appid}", methods=["POST"], content_types=XML_TYPES)
def receive_message(appid: str) -> Response:
    """A message or event from WeChat; answered with a passive reply or ``success``."""
    request = bp.current_request
    started = time.monotonic()
    try:
        body = body_bytes(request)
        if len(body) > MAX_BODY_BYTES:
            raise CallbackRejected(413, "body too large")
        account, keys = _account_or_404(appid)
        inbound = open_message(keys, appid, account.original_id, dict(request.query_params or {}), body)
        correlate(inbound.raw.get("MsgId") or None)  # WeChat's own id, when the message has one
        reply = engine.handle(account, inbound)
    except CallbackRejected as rejected:
        logger.info("callback refused", appid=appid[:32], status=rejected.status, reason=rejected.reason)
        count("Callbacks", outcome=f"refused_{rejected.status}")
        return _text(rejected.status, rejected.reason)
    logger.info("callback handled", appid=appid, mode=inbound.mode, replied=bool(reply), **message_fields(inbound))
    count("Callbacks", outcome="replied" if reply else "success")
    timing("CallbackLatency", started)
    if not reply:
        return _text(200, "success")
    return Response(
        body=seal_reply(keys, inbound, reply),
        status_code=200,
        headers={"Content-Type": "application/xml; charset=utf-8"},
    )
