"""WeChat OAuth 2 web authorization (``snsapi_base``): the authorize URL and the code exchange.

Only the protocol lives here; sessions and cookies are the phone pages'
business (``chalicelib.services.subscriptions.phone_identity``).  Codes are single-use and
live five minutes: WeChat answers 40029 (invalid code) or 40163 (code already
used) when a page is reloaded or a redirect is replayed, and the right answer
to both is to authorize again.
"""

from __future__ import annotations

import requests
from wechatpy.exceptions import WeChatOAuthException

from chalicelib.wechat.client import HTTP_TIMEOUT_SECONDS, KepuWeChatOAuth
from chalicelib.wechat.errors import AUTHORIZE_AGAIN


class CodeRejected(Exception):
    """The code cannot be exchanged (stale, used, forged): send the user to authorize again."""


class OAuthUnavailable(Exception):
    """WeChat could not be reached or refused for another reason; worth a friendly error, not a retry loop."""


def authorize_url(appid: str, redirect_uri: str, state: str) -> str:
    """Where to send the browser: WeChat's authorize page for ``snsapi_base`` (silent inside WeChat)."""
    return KepuWeChatOAuth(appid, "", redirect_uri, scope="snsapi_base", state=state).authorize_url


def exchange_code(appid: str, secret: str | None, code: str, redirect_uri: str) -> str:
    """The openid the code stands for; ``secret`` is the account's app secret (the caller reads it)."""
    if not secret:
        raise OAuthUnavailable("account has no app secret")
    oauth = KepuWeChatOAuth(appid, secret, redirect_uri)
    try:
        result = oauth._get(
            "sns/oauth2/access_token",
            params={"appid": appid, "secret": secret, "code": code, "grant_type": "authorization_code"},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except WeChatOAuthException as exc:
        if exc.errcode in AUTHORIZE_AGAIN:
            raise CodeRejected(str(exc.errcode)) from exc
        raise OAuthUnavailable(f"errcode {exc.errcode}") from exc
    except requests.RequestException as exc:
        raise OAuthUnavailable(type(exc).__name__) from exc
    openid = str(result.get("openid") or "")
    if not openid or len(openid) > 64:
        raise OAuthUnavailable("no openid in WeChat's answer")
    return openid
