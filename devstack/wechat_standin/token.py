"""Access tokens: the legacy ``cgi-bin/token`` and ``cgi-bin/stable_token``.

Why both: wechatpy fetches the legacy token (each call supersedes the last,
40001 for the old one), the product uses the stable token (the same token
while valid; a forced refresh keeps the old one valid 30 s, 20 times a day).
"""

from __future__ import annotations

from typing import Any

from devstack.wechat_standin.controls import control
from devstack.wechat_standin.core import Core
from devstack.wechat_standin.errors import WeChatError
from devstack.wechat_standin.state import TOKEN_TTL, beijing_day
from devstack.wechat_standin.wire import Request, Route

STABLE_GRACE_SECONDS = 30
STABLE_FORCE_REFRESH_PER_DAY = 20


def get_token(core: Core, request: Request) -> dict[str, Any]:
    """Legacy getAccessToken: every call issues a new token and supersedes the last."""
    q = request.query
    if q.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    account = core.credentials(request, q.get("appid"), q.get("secret"))
    if account.legacy_token in core.state.tokens:
        previous = core.state.tokens[account.legacy_token]
        if previous.state == "ok":
            previous.state = "superseded"
    token = core.issue_token(account.appid)
    account.legacy_token = token.value
    return {"access_token": token.value, "expires_in": TOKEN_TTL}


def get_stable_token(core: Core, request: Request) -> dict[str, Any]:
    """getStableAccessToken: the same token while valid; force refresh keeps the old one 30 s."""
    body = core.json_body(request)
    if body.get("grant_type") != "client_credential":
        raise WeChatError(40002)
    account = core.credentials(request, body.get("appid"), body.get("secret"))
    current = core.token_valid(account.stable_token)
    if body.get("force_refresh"):
        _count_force_refresh(core, account.appid)
        if current is not None:
            current.expires_at = min(current.expires_at, core.now() + STABLE_GRACE_SECONDS)
        current = None
    if current is None:
        current = core.issue_token(account.appid)
        account.stable_token = current.value
    return {"access_token": current.value, "expires_in": max(0, round(current.expires_at - core.now()))}


def _count_force_refresh(core: Core, appid: str) -> None:
    key = (appid, "/cgi-bin/stable_token#force_refresh", beijing_day(core.now()))
    used = core.state.usage.get(key, 0)
    if used >= STABLE_FORCE_REFRESH_PER_DAY:
        raise WeChatError(45009)
    core.state.usage[key] = used + 1


@control
def expire_tokens(core: Core, appid: str | None = None) -> None:
    """Current tokens become invalid (42001), as after a missed refresh."""
    for token in core.state.tokens.values():
        if token.state == "ok" and appid in (None, token.appid):
            token.state = "expired"


ROUTES: dict[str, Route] = {
    "/cgi-bin/token": Route("GET", get_token),
    "/cgi-bin/stable_token": Route("POST", get_stable_token),
}
