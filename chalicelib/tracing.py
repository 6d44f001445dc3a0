"""X-Ray subsegments through Powertools Tracer, created where something is traced and not before.

Lambda's active tracing (``Tracing: Active``, ``infra.operations``) records
every invocation; the Tracer adds what happens inside it: one subsegment per
handler (``segment``, used by ``chalicelib.observability``'s HTTP middleware and
SQS wrapper), per WeChat API call and per main service step
(``capture_method``), and -- through the X-Ray SDK's patch of ``botocore`` --
one per AWS call.  ``requests`` is not patched: that would import it into
functions that never call WeChat (the callback), and the WeChat calls have
their own subsegments (which record no URL, so no access token reaches a
trace).  Responses are never put into trace metadata
(``capture_response=False``): they can hold tokens and personal data.

Why lazily: creating a Tracer imports the X-Ray SDK (and ``asyncio`` under
it).  The decorators here create nothing at import, so no function's cold
start pays for it at load; the first traced call in Lambda creates the
Tracer.  Outside Lambda (tests, ``make dev``, the local gateway) or with
``POWERTOOLS_TRACE_DISABLED=true`` -- Powertools' own rule, ``enabled()`` --
a traced call is a plain call and the SDK is never imported, so nothing
local needs X-Ray.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "kepuscreen"
PATCHED_MODULES = ("botocore",)  # every AWS call; WeChat's API is traced by capture_method (chalicelib.wechat.client)
F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.Lock()
_tracer: Tracer | None = None
_cold_start = True


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def enabled() -> bool:
    """Powertools' rule: traced in Lambda (``LAMBDA_TASK_ROOT``), unless disabled or under SAM / Chalice local."""
    if _truthy("POWERTOOLS_TRACE_DISABLED"):
        return False
    return bool(os.environ.get("LAMBDA_TASK_ROOT")) and not (
        os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE")
    )


def tracer() -> Tracer:
    """The process's Tracer (created, and the modules patched, on first use)."""
    global _tracer
    if _tracer is None:
        with _lock:
            if _tracer is None:
                from aws_lambda_powertools import Tracer

                _tracer = Tracer(service=SERVICE, patch_modules=PATCHED_MODULES)
    return _tracer


@contextlib.contextmanager
def segment(name: str) -> Iterator[Any]:
    """A handler's subsegment ``## name``, annotated as ``capture_lambda_handler`` does (ColdStart, Service).

    Chalice's views and event handlers do not have the ``(event, context)``
    signature that decorator wraps, so the hooks in ``chalicelib.observability``
    open this around them instead.  Yields the subsegment, or None untraced.
    """
    global _cold_start
    if not enabled():
        yield None
        return
    with tracer().provider.in_subsegment(name=f"## {name}") as subsegment:
        subsegment.put_annotation(key="ColdStart", value=_cold_start)
        subsegment.put_annotation(key="Service", value=SERVICE)
        _cold_start = False
        yield subsegment


def capture_method(func: F) -> F:
    """``Tracer.capture_method``, bound at the first traced call: subsegment ``## <module>.<qualname>``,
    errors as metadata, never the response."""
    traced: Callable[..., Any] | None = None

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal traced
        if not enabled():
            return func(*args, **kwargs)
        if traced is None:
            traced = tracer().capture_method(capture_response=False)(func)
        return traced(*args, **kwargs)

    wrapper.traced_as = f"{func.__module__}.{func.__qualname__}"  # type: ignore[attr-defined]  # its subsegment
    return wrapper  # type: ignore[return-value]
