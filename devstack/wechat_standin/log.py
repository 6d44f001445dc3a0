"""The calls log: every WeChat API request the stand-in answered, for tests to read back.

Why: a test proves what the product asked WeChat (how many sends, which
errcode each got, whether a retry happened) by reading this log rather than
trusting the product's own counters.
"""

from __future__ import annotations

import copy
from typing import Any

from devstack.wechat_standin.controls import control
from devstack.wechat_standin.core import Core
from devstack.wechat_standin.wire import Request, Response


def record_call(core: Core, request: Request, response: Response) -> None:
    body: Any = request.body
    if body is None and request.raw:
        body = request.raw.decode("utf-8", "replace")
    core.state.calls.append(
        {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "body": copy.deepcopy(body),
            "at": core.now(),
            "errcode": response.errcode,
            "http_status": response.status,
        }
    )


@control(read=True)
def calls(core: Core, path: str | None = None) -> list[dict[str, Any]]:
    """Every WeChat API request received (controls excluded), oldest first."""
    logged = core.state.calls
    if path is not None:
        logged = [c for c in logged if c["path"] == path]
    return copy.deepcopy(logged)
