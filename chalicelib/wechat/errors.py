"""WeChat's error codes, in one table: every ``errcode`` kepuscreen acts on or the stand-in answers.

Why one table: the same numbers used to be spelled out in the client (token
retry), the push rules (stop / pause / window), the sender (pause lengths)
and the local stand-in (its error messages), and a code added in one place
was missed in another.  ``Errcode`` is an ``IntEnum``, so a member equals the
bare number WeChat sends (``exc.errcode in TOKEN_ERRORS`` works on ints), and
``ERRMSG`` keeps WeChat's own wording so local logs read like production's.

What an answer *means* for a push (stop the channel, pause the account) stays
with the push rules (``chalicelib.services.push_policy``); this module only
names the codes and groups those every caller of the API treats alike.
"""

from __future__ import annotations

from enum import IntEnum


class Errcode(IntEnum):
    """WeChat API ``errcode`` values, named after WeChat's ``errmsg``."""

    SYSTEM_BUSY = -1
    OK = 0
    INVALID_CREDENTIAL = 40001  # access token invalid or not the latest
    INVALID_GRANT_TYPE = 40002
    INVALID_OPENID = 40003
    INVALID_MESSAGE_TYPE = 40008
    INVALID_APPID = 40013
    INVALID_ACCESS_TOKEN = 40014
    INVALID_BUTTON_SIZE = 40016
    INVALID_BUTTON_TYPE = 40017
    INVALID_BUTTON_NAME_SIZE = 40018
    INVALID_BUTTON_KEY_SIZE = 40019
    INVALID_BUTTON_URL_SIZE = 40020
    INVALID_SUB_BUTTON_SIZE = 40023
    INVALID_SUB_BUTTON_TYPE = 40024
    INVALID_SUB_BUTTON_NAME_SIZE = 40025
    INVALID_SUB_BUTTON_KEY_SIZE = 40026
    INVALID_SUB_BUTTON_URL_SIZE = 40027
    INVALID_CODE = 40029  # OAuth code stale or forged
    INVALID_TEMPLATE_ID = 40037
    INVALID_SUB_BUTTON_URL_DOMAIN = 40054
    INVALID_BUTTON_URL_DOMAIN = 40055
    INVALID_URL = 40066
    INVALID_ARGS = 40097
    INVALID_APPSECRET = 40125
    CODE_BEEN_USED = 40163  # OAuth code already exchanged
    ACCESS_TOKEN_MISSING = 41001
    APPID_MISSING = 41002
    APPSECRET_MISSING = 41004
    CODE_MISSING = 41008
    ACCESS_TOKEN_EXPIRED = 42001
    REQUIRE_GET = 43001
    REQUIRE_POST = 43002
    REQUIRE_SUBSCRIBE = 43004  # the fan does not follow (any more)
    IN_BLACKLIST = 43019
    USER_REFUSED = 43101  # the fan refused the subscription notice
    EMPTY_POST_DATA = 44002
    EMPTY_NEWS = 44003
    EMPTY_CONTENT = 44004
    CONTENT_TOO_LONG = 45002
    ARTICLE_TOO_LONG = 45008
    DAILY_QUOTA = 45009  # the account's daily API quota is used up
    MINUTE_QUOTA = 45011  # per-minute frequency limit
    RESPONSE_OUT_OF_TIME = 45015  # customer-service window closed
    CONCURRENCY_LIMIT = 45033
    RESPONSE_COUNT_LIMIT = 45047  # customer-service window used up
    CLIENTMSGID_EXISTS = 45065
    MENU_NOT_EXIST = 46003
    DATA_FORMAT_ERROR = 47001
    ARGUMENT_INVALID = 47003
    API_UNAUTHORIZED = 48001
    DATE_FORMAT_ERROR = 61500
    DATE_RANGE_ERROR = 61501


ERRMSG: dict[int, str] = {
    Errcode.SYSTEM_BUSY: "system error",
    Errcode.OK: "ok",
    Errcode.INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
    Errcode.INVALID_GRANT_TYPE: "invalid grant_type",
    Errcode.INVALID_OPENID: "invalid openid",
    Errcode.INVALID_MESSAGE_TYPE: "invalid message type",
    Errcode.INVALID_APPID: "invalid appid",
    Errcode.INVALID_ACCESS_TOKEN: "invalid access_token",
    Errcode.INVALID_BUTTON_SIZE: "invalid button size",
    Errcode.INVALID_BUTTON_TYPE: "invalid button type",
    Errcode.INVALID_BUTTON_NAME_SIZE: "invalid button name size",
    Errcode.INVALID_BUTTON_KEY_SIZE: "invalid button key size",
    Errcode.INVALID_BUTTON_URL_SIZE: "invalid button url size",
    Errcode.INVALID_SUB_BUTTON_SIZE: "invalid sub button size",
    Errcode.INVALID_SUB_BUTTON_TYPE: "invalid sub button type",
    Errcode.INVALID_SUB_BUTTON_NAME_SIZE: "invalid sub button name size",
    Errcode.INVALID_SUB_BUTTON_KEY_SIZE: "invalid sub button key size",
    Errcode.INVALID_SUB_BUTTON_URL_SIZE: "invalid sub button url size",
    Errcode.INVALID_CODE: "invalid code",
    Errcode.INVALID_TEMPLATE_ID: "invalid template_id",
    Errcode.INVALID_SUB_BUTTON_URL_DOMAIN: "invalid sub button url domain",
    Errcode.INVALID_BUTTON_URL_DOMAIN: "invalid button url domain",
    Errcode.INVALID_URL: "invalid url",
    Errcode.INVALID_ARGS: "invalid args",
    Errcode.INVALID_APPSECRET: "invalid appsecret",
    Errcode.CODE_BEEN_USED: "code been used",
    Errcode.ACCESS_TOKEN_MISSING: "access_token missing",
    Errcode.APPID_MISSING: "appid missing",
    Errcode.APPSECRET_MISSING: "appsecret missing",
    Errcode.CODE_MISSING: "missing code",
    Errcode.ACCESS_TOKEN_EXPIRED: "access_token expired",
    Errcode.REQUIRE_GET: "require GET method",
    Errcode.REQUIRE_POST: "require POST method",
    Errcode.REQUIRE_SUBSCRIBE: "require subscribe",
    Errcode.IN_BLACKLIST: "require remove blacklist",
    Errcode.USER_REFUSED: "user refuse to accept the msg",
    Errcode.EMPTY_POST_DATA: "empty post data",
    Errcode.EMPTY_NEWS: "empty news data",
    Errcode.EMPTY_CONTENT: "empty content",
    Errcode.CONTENT_TOO_LONG: "content size out of limit",
    Errcode.ARTICLE_TOO_LONG: "article size out of limit",
    Errcode.DAILY_QUOTA: "reach max api daily quota limit",
    Errcode.MINUTE_QUOTA: "api minute-quota reach limit, must slower, retry next minute",
    Errcode.RESPONSE_OUT_OF_TIME: "response out of time limit or subscription is canceled",
    Errcode.CONCURRENCY_LIMIT: "api concurrent out of limit",
    Errcode.RESPONSE_COUNT_LIMIT: "response count out of limit",
    Errcode.CLIENTMSGID_EXISTS: "clientmsgid exist",
    Errcode.MENU_NOT_EXIST: "menu no exist",
    Errcode.DATA_FORMAT_ERROR: "data format error",
    Errcode.ARGUMENT_INVALID: "argument invalid!",
    Errcode.API_UNAUTHORIZED: "api unauthorized",
    Errcode.DATE_FORMAT_ERROR: "date format error",
    Errcode.DATE_RANGE_ERROR: "date range error",
}

# The access token the call used is dead: refresh it once and retry (client), a transient failure otherwise.
TOKEN_ERRORS = frozenset({Errcode.INVALID_CREDENTIAL, Errcode.INVALID_ACCESS_TOKEN, Errcode.ACCESS_TOKEN_EXPIRED})
# An OAuth code that cannot be exchanged: send the browser to authorize again.
AUTHORIZE_AGAIN = frozenset({Errcode.INVALID_CODE, Errcode.CODE_BEEN_USED})
# The account's API quota is used up: pause its sends until the quota resets.
QUOTA_ERRORS = frozenset({Errcode.DAILY_QUOTA, Errcode.MINUTE_QUOTA})
# WeChat is busy: the same call later may well succeed.
BUSY_ERRORS = frozenset({Errcode.SYSTEM_BUSY, Errcode.CONCURRENCY_LIMIT})
# The fan's customer-service window is closed or used up: his next interaction reopens it.
WINDOW_ERRORS = frozenset({Errcode.RESPONSE_OUT_OF_TIME, Errcode.RESPONSE_COUNT_LIMIT})
# This channel cannot reach this fan (he unfollowed, blocked, refused or is unknown), or its window is gone.
FAN_UNREACHABLE = frozenset(
    {
        Errcode.REQUIRE_SUBSCRIBE,
        Errcode.IN_BLACKLIST,
        Errcode.USER_REFUSED,
        Errcode.INVALID_OPENID,
        *WINDOW_ERRORS,
    }
)


def errmsg(errcode: int) -> str:
    """WeChat's message for a code ("error" for one this table does not know)."""
    return ERRMSG.get(errcode, "error")
