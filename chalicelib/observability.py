"""Logs, metrics and traces of every function, and the correlation id that ties one request's work together.

- **Logs**: the Powertools Logger of ``chalicelib.logs``; the stdlib loggers
  of the package (``logging.getLogger(__name__)`` in ``chalicelib.*``) write
  through its handler, so their lines are the same JSON with the same keys.
  Each invocation appends the Lambda context keys (function, request id,
  cold start) exactly as ``Logger.inject_lambda_context`` does; Chalice views
  do not have the ``(event, context)`` signature that decorator wraps.
- **Correlation id**: taken from the request (API Gateway's request id; the
  WeChat ``MsgId`` once the callback has opened the message), put into every
  queue message sent while handling it (``stamp``, called by
  ``chalicelib.aws``: an optional ``correlation_id`` field, ignored by older
  consumers) and restored by each consumer per message (``correlate``), so
  one publish can be followed from the admin call to the WeChat send.  It is
  kept per thread (Powertools' thread-safe keys: a context variable), since
  the sender handles several batches side by side.
- **Metrics**: CloudWatch EMF through Powertools Metrics (namespace
  ``kepuscreen``, dimension ``stage``): ``count`` / ``timing`` emit one
  metric with its own dimensions at once (``single_metric``), so nothing
  waits for a flush that a crash would lose.
- **Traces**: Powertools Tracer (``chalicelib.tracing``); X-Ray is switched
  on in the template (``infra.operations``).  Both hooks below open the
  handler's subsegment; outside Lambda, or with ``POWERTOOLS_TRACE_DISABLED``,
  that is a no-op and the X-Ray SDK is never imported.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib import tracing
from chalicelib.logs import logger

NAMESPACE = "kepuscreen"
MAX_ID_CHARS = 128
_correlation: ContextVar[str | None] = ContextVar("kepuscreen_correlation_id", default=None)
_cold_start = True


def route_stdlib_loggers() -> None:
    """Make ``chalicelib.*`` stdlib loggers write through the Powertools handler (same JSON, same keys)."""
    package = logging.getLogger("chalicelib")
    for handler in logger.handlers:
        if handler not in package.handlers:
            package.addHandler(handler)
    package.setLevel(logger.log_level)
    package.propagate = False


route_stdlib_loggers()


# -- correlation ---------------------------------------------------------------------------------------------


def correlate(value: Any) -> str | None:
    """Make ``value`` (an id, or a queue message carrying ``correlation_id``) this thread's correlation id."""
    if isinstance(value, dict):
        value = value.get("correlation_id")
    text = str(value)[:MAX_ID_CHARS] if value not in (None, "") else None
    _correlation.set(text)
    if text is None:
        logger.thread_safe_remove_keys(["correlation_id"])
    else:
        logger.thread_safe_append_keys(correlation_id=text)
    return text


def correlation_id() -> str | None:
    return _correlation.get()


def stamp(payload: Any) -> Any:
    """Add the current correlation id to an outgoing queue message (a dict), unless it carries one; and
    ``enqueued_at`` (epoch ms, kept from the first hop) so a consumer can tell how long the work took to reach it."""
    if not isinstance(payload, dict):
        return payload
    current = _correlation.get()
    if current and not payload.get("correlation_id"):
        payload["correlation_id"] = current
    payload.setdefault("enqueued_at", int(time.time() * 1000))
    return payload


def since_enqueued_ms(payload: Any) -> float | None:
    enqueued = payload.get("enqueued_at") if isinstance(payload, dict) else getattr(payload, "enqueued_at", None)
    return max(0.0, time.time() * 1000 - float(enqueued)) if isinstance(enqueued, int | float) else None


# -- Lambda context ------------------------------------------------------------------------------------------

LAMBDA_CONTEXT_KEYS = ("cold_start", "function_name", "function_memory_size", "function_arn", "function_request_id")


def bind_lambda_context(context: Any) -> None:
    """The keys ``Logger.inject_lambda_context`` adds, from whatever context object this invocation has.

    Without a context (a local run, a test client) the keys are removed, so no line carries the last
    invocation's request id.
    """
    global _cold_start
    if context is None:
        logger.remove_keys(list(LAMBDA_CONTEXT_KEYS))
        return
    logger.append_keys(
        cold_start=_cold_start,
        function_name=getattr(context, "function_name", None),
        function_memory_size=getattr(context, "memory_limit_in_mb", None),
        function_arn=getattr(context, "invoked_function_arn", None),
        function_request_id=getattr(context, "aws_request_id", None),
    )
    _cold_start = False


def instrument_app(app: Any) -> None:
    """HTTP middleware: Lambda context, correlation id from API Gateway's request id.

    Register before the blueprints (Chalice hands an event handler the
    middleware registered by then).
    """

    @app.middleware("http")
    def _observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
        bind_lambda_context(getattr(app, "lambda_context", None))
        context = getattr(event, "context", None) or {}
        # API Gateway's request id; the local gateway and test client have none, so one is made up there
        correlate(context.get("requestId") or (event.headers or {}).get("x-amzn-requestid") or uuid.uuid4().hex)
        try:
            with tracing.segment(f"{event.method} {context.get('resourcePath') or event.path}"):
                return get_response(event)
        finally:
            correlate(None)


def sqs_handler(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a Chalice SQS handler: Lambda context keys; its trace subsegment; correlation cleared between invocations.

    SQS functions run their module's handler without ``app.py`` (so without
    its middleware): this is their hook.  Each handler still calls
    ``correlate(message)`` per message.
    """

    @functools.wraps(func)
    def wrapper(event: Any) -> Any:
        bind_lambda_context(getattr(event, "context", None))
        try:
            with tracing.segment(func.__name__):
                return func(event)
        finally:
            correlate(None)

    wrapper.traced_as = func.__name__  # type: ignore[attr-defined]
    return wrapper


event_handler = sqs_handler  # the same hook for schedules and stream consumers (one ``event`` argument too)


# -- metrics ---------------------------------------------------------------------------------------------------


def _enabled() -> bool:
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() not in ("1", "true")


def count(name: str, value: float = 1, unit: MetricUnit | str = MetricUnit.Count, **dimensions: Any) -> None:
    """Emit one EMF metric now, with ``stage`` and ``dimensions`` (values cut to 64 chars)."""
    if not _enabled():
        return
    try:
        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=NAMESPACE) as metric:
            metric.add_dimension(name="stage", value=os.environ.get("STAGE", "dev"))
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=str(dimension)[:64] or "none")
    except Exception:  # a metric must never break the work it describes
        logger.warning("metric not emitted", metric=name)


def timing(name: str, started: float, **dimensions: Any) -> None:
    """Milliseconds since ``started`` (``time.monotonic()``)."""
    count(name, (time.monotonic() - started) * 1000, MetricUnit.Milliseconds, **dimensions)
