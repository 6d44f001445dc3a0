"""X-Ray subsegments through Powertools Tracer, created where something is traced and not before.

Lambda's active tracing (``Tracing: Active``, ``infra.operations``) records
every invocation; the Tracer adds what happens inside it: one subsegment per
handler (``segment``, used by ``chalicelib.observability``'s HTTP middleware and
SQS wrapper), per WeChat API call and per main service step
(``capture_method``), and -- through the X-Ray SDK's patches of ``botocore``
and ``requests`` -- one per AWS and HTTP call (URLs without their query
string, so no access token reaches a trace).  Responses are never put into
trace metadata (``capture_response=False``): they can hold tokens and personal
data.

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
PATCHED_MODULES = ("botocore", "requests")  # AWS calls (pynamodb goes through botocore) and WeChat's API
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
        os.environ.get("AWS_SAM_LOCAL") or os.environ.get("AWS_CHALICE_CLI_MODE"))


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


def capture_method(func: F | None = None, *, name: str | None = None) -> Any:
    """``Tracer.capture_method`` (subsegment ``## name``, errors as metadata, no response), bound at first call.

    ``@capture_method`` or ``@capture_method(name="wechat_api")``.
    """
    if func is None:
        return functools.partial(capture_method, name=name)
    traced: Callable[..., Any] | None = None

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal traced
        if not enabled():
            return func(*args, **kwargs)
        if traced is None:
            target = func
            if name:
                target = functools.wraps(func)(lambda *a, **k: func(*a, **k))
                target.__name__ = name
            traced = tracer().capture_method(target, capture_response=False)
        return traced(*args, **kwargs)

    wrapper.traced_as = name or func.__name__  # type: ignore[attr-defined]  # for tests and the curious
    return wrapper  # type: ignore[return-value]
