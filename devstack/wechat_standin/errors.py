"""WeChat's error codes and wording, in one place for the whole stand-in.

Why one module: every API area raises :class:`WeChatError` with a code and the
reply carries WeChat's own ``errmsg``, so product logs read the same locally as
in production.  The codes and their wording are the product's own table,
``chalicelib/wechat/errors.py``: the stand-in answers with exactly the codes the
product classifies.
"""

from __future__ import annotations

from typing import Any

# WeChat's own wording (the product's one table), so product logs read the same locally as in production.
from chalicelib.wechat.errors import ERRMSG


class WeChatError(Exception):
    """A WeChat-style failure; turned into ``{"errcode","errmsg"}`` with HTTP 200."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "error")
        super().__init__(f"{errcode} {self.errmsg}")


class StandInError(RuntimeError):
    """A ``/_standin`` control call was rejected (bad arguments, unknown control)."""


def error_payload(errcode: int, errmsg: str | None = None) -> dict[str, Any]:
    """The JSON body WeChat answers a failure with."""
    return {"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "error")}
