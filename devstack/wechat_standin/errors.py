"""WeChat's error codes and wording, in one place for the whole stand-in.

Why one module: every API area raises :class:`WeChatError` with a code and the
reply carries WeChat's own ``errmsg``, so product logs read the same locally as
in production.  When ``chalicelib/wechat/errors.py`` (the product's table of
error codes) lands, this table can be pointed at it instead of being kept here.
"""

from __future__ import annotations

from typing import Any

# WeChat's own wording, so product logs read the same locally as in production.
ERRMSG: dict[int, str] = {
    61500: "date format error",
    61501: "date range error",
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40029: "invalid code",
    40037: "invalid template_id",
    40054: "invalid sub button url domain",
    40055: "invalid button url domain",
    40066: "invalid url",
    40097: "invalid args",
    40125: "invalid appsecret",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    44003: "empty news data",
    44004: "empty content",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45065: "clientmsgid exist",
    46003: "menu no exist",
    47001: "data format error",
    47003: "argument invalid!",
    48001: "api unauthorized",
}


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
