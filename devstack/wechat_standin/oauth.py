"""OAuth 2 web authorization: the consent page, its confirmation, and ``sns/oauth2/access_token``.

Why a consent page: on a phone WeChat identifies the user silently; locally a
developer (or a browser test) types the openid to be, or passes
``auto_openid`` to skip the form, and the product's phone pages go through the
same redirect-and-exchange as in production.
"""

from __future__ import annotations

import html
import secrets
from typing import Any

from devstack.wechat_standin.core import Core
from devstack.wechat_standin.errors import WeChatError
from devstack.wechat_standin.state import TOKEN_TTL, OAuthCode, new_token
from devstack.wechat_standin.wire import Request, Response, Route, append_query, html_page, is_http_url, redirect

OAUTH_CODE_TTL = 300
OAUTH_SCOPES = {"snsapi_base", "snsapi_userinfo"}
_FORM_FIELDS = ("appid", "redirect_uri", "response_type", "scope", "state")


def _error_page(errcode: int, message: str) -> Response:
    resp = html_page(
        "模拟微信授权 - 出错",
        f"<h1>Oops! Something went wrong:(</h1><p>errcode={errcode}</p><p>{html.escape(message)}</p>",
    )
    resp.errcode = errcode
    return resp


def _params_error(core: Core, q: dict[str, str]) -> Response | None:
    account = core.state.accounts.get(q.get("appid", ""))
    if account is None:
        return _error_page(10016, "appid 参数错误 (unknown appid)")
    if not is_http_url(q.get("redirect_uri")):
        return _error_page(10003, "redirect_uri 参数错误 (must be an absolute http(s) URL)")
    if q.get("response_type") != "code":
        return _error_page(10004, "response_type 参数错误 (must be code)")
    if q.get("scope") not in OAUTH_SCOPES or account.account_type != "service":
        return _error_page(10005, "此公众号并没有这些 scope 的权限")
    return None


def authorize(core: Core, request: Request) -> Response:
    """Play WeChat's consent screen: a form where the developer types the user's openid."""
    q = request.query
    error = _params_error(core, q)
    if error is not None:
        return error
    if q.get("auto_openid"):
        return _issue_code(core, q, q["auto_openid"])
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{html.escape(q.get(name, ""), quote=True)}">'
        for name in _FORM_FIELDS
    )
    openid = html.escape(q.get("openid", ""), quote=True)
    what = "获取你的基本信息（openid）" if q["scope"] == "snsapi_base" else "获取你的昵称、头像"
    return html_page(
        "模拟微信授权",
        "<h1>模拟微信授权</h1>"
        f"<p>公众号 {html.escape(q['appid'])} 申请{what}</p>"
        '<form method="get" action="/connect/oauth2/_confirm">'
        f"{hidden}"
        f'<label>openid <input name="openid" value="{openid}" required></label> '
        '<button type="submit">确认授权</button></form>',
    )


def confirm(core: Core, request: Request) -> Response:
    """The consent form was submitted: issue the code for the openid typed in."""
    q = request.query
    error = _params_error(core, q)
    if error is not None:
        return error
    if not q.get("openid"):
        return _error_page(10010, "openid 不能为空")
    return _issue_code(core, q, q["openid"])


def _issue_code(core: Core, q: dict[str, str], openid: str) -> Response:
    """Issue a one-time 5-minute code for (appid, openid) and send the browser back."""
    core.account(q["appid"]).fan(openid)  # the openid is now known to the account
    code = secrets.token_hex(16)
    core.state.oauth_codes[code] = OAuthCode(q["appid"], openid, q["scope"], core.now() + OAUTH_CODE_TTL)
    return redirect(append_query(q["redirect_uri"], {"code": code, "state": q.get("state", "")}))


def access_token(core: Core, request: Request) -> dict[str, Any]:
    """Exchange a code: one use only, bound to its appid; 40029 otherwise."""
    q = request.query
    if q.get("grant_type") != "authorization_code":
        raise WeChatError(40002)
    account = core.credentials(request, q.get("appid"), q.get("secret"))
    if not q.get("code"):
        raise WeChatError(41008)
    code = core.state.oauth_codes.get(q["code"])
    if code is None or code.used or code.appid != account.appid or core.now() >= code.expires_at:
        raise WeChatError(40029)
    code.used = True
    return {
        "access_token": new_token(),
        "expires_in": TOKEN_TTL,
        "refresh_token": new_token(),
        "openid": code.openid,
        "scope": code.scope,
    }


ROUTES: dict[str, Route] = {
    "/connect/oauth2/authorize": Route("GET", authorize),
    "/connect/oauth2/_confirm": Route("GET", confirm),
    "/sns/oauth2/access_token": Route("GET", access_token),
}
