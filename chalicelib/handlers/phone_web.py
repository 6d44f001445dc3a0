"""HTTP plumbing shared by the phone pages: cookies in, HTML and redirects out, friendly errors.

Every page handler is wrapped by :func:`page`: a :class:`PageError` becomes a
Chinese error page with its status code, and anything unexpected becomes a
500 page and a log line with the stack — the stack never reaches the phone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from chalice import Blueprint, Response

from chalicelib.handlers.request_body import body_bytes
from chalicelib.logs import logger
from chalicelib.models.accounts import Account
from chalicelib.page_tokens import verify_link
from chalicelib.pages import render_page
from chalicelib.services.subscriptions import phone_identity as identity
from chalicelib.services.subscriptions import phone_visitor as visitor
from chalicelib.services.subscriptions.phone_identity import Session
from chalicelib.settings import get_settings

MAX_FORM_BYTES = 4096
FORM_TYPES = ["application/x-www-form-urlencoded"]


@dataclass
class PageError(Exception):
    """A page that cannot be shown, and what to tell the person instead."""

    status: int
    title: str
    message: str
    action_url: str | None = None
    action_label: str | None = None
    follow_qr: str | None = None  # a QR code image (data URI) that follows the account, for 长按识别


@dataclass
class Visit:
    """One request to one account's pages: who is asking and which cookies to set in the answer."""

    appid: str
    account: Account
    cookies: dict[str, str]
    session: Session | None
    set_cookies: list[str] = field(default_factory=list)

    @property
    def oauth_capable(self) -> bool:
        return identity.oauth_capable(self.account)

    in_wechat: bool = False

    @property
    def may_change(self) -> bool:
        return self.session is not None and self.session.may_change

    @property
    def silent_authorization(self) -> bool:
        """Reading pages learn who is reading when WeChat can say so without a word to him:
        snsapi_base inside WeChat's own browser is an invisible redirect.  Elsewhere (a link
        shared to a desktop browser) WeChat would show an error, so the page stays anonymous."""
        return self.session is None and self.in_wechat and self.oauth_capable

    def common(self) -> dict[str, Any]:
        """What every template needs."""
        return {
            "appid": self.appid,
            "account_name": self.account.name,
            "session": self.session,
            "oauth_capable": self.oauth_capable,
            "base": get_settings().public_base_url,
        }


def visit(bp: Blueprint, appid: str) -> Visit:
    """Resolve the account (404 page when unknown) and the session cookie of this request."""
    account = identity.account(appid)
    if account is None:
        raise PageError(404, "找不到这个公众号", "链接可能有误，请从公众号菜单重新进入。")
    headers: Mapping[str, str] = bp.current_request.headers or {}
    cookies = identity.read_cookies(headers.get("cookie"))
    in_wechat = "micromessenger" in (headers.get("user-agent") or "").lower()
    return Visit(appid, account, cookies, identity.read_session(appid, cookies), in_wechat=in_wechat)


def query(bp: Blueprint) -> dict[str, str]:
    """Single-valued query parameters, each capped in length."""
    return {k: str(v)[:512] for k, v in (bp.current_request.query_params or {}).items()}


def form(bp: Blueprint) -> dict[str, str]:
    """A small urlencoded form body; anything larger or unreadable is refused."""
    raw = body_bytes(bp.current_request)
    if len(raw) > MAX_FORM_BYTES:
        raise PageError(413, "提交的内容太长", "请返回上一页重试。")
    try:
        parsed = parse_qs(raw.decode("utf-8"), max_num_fields=20, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PageError(400, "提交的内容无法识别", "请返回上一页重试。") from exc
    return {k: v[0][:512] for k, v in parsed.items() if v}


def return_path(appid: str, candidate: str | None) -> str:
    """Where a form sends the browser back: a same-site path of this account's pages, checked *before*
    the form changes anything.  A ``next`` that is anything else (another site, a scheme, control
    characters such as CR/LF that would split the Location header) is a 400 with nothing written."""
    if candidate is None or candidate == "":
        return identity.safe_next(appid, None)
    if not candidate.isprintable() or identity.safe_next(appid, candidate) != candidate:
        raise PageError(
            400,
            "无法返回原页面",
            "链接有误，这次操作没有执行。请返回订阅中心重试。",
            f"/m/{appid}/subscribe",
            "返回订阅中心",
        )
    return candidate


def same_origin(bp: Blueprint) -> bool:
    """A form POST must come from our own pages when the browser says where it came from."""
    headers: Mapping[str, str] = bp.current_request.headers or {}
    origin = headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    ours = urlsplit(get_settings().public_base_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


def current_path(appid: str, tail: str, params: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> str:
    """The app-relative path of this page, for returning to it after authorization."""
    kept = {k: v for k, v in (params or {}).items() if k not in drop}
    return f"/m/{appid}/{tail}" + (f"?{urlencode(kept)}" if kept else "")


def absolute(path: str) -> str:
    return f"{get_settings().public_base_url}{path}"


def _csp() -> str:
    cdn = get_settings().cdn_base_url
    return (
        "default-src 'none'; style-src 'unsafe-inline'; "
        f"img-src 'self' https: data: {cdn}; media-src 'self' https: {cdn}; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def _headers(set_cookies: list[str]) -> dict[str, Any]:
    headers: dict[str, Any] = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "private, no-store",
        "Referrer-Policy": "same-origin",  # no referrer (nor a token in it) to a CDN or a linked site
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": _csp(),
    }
    if set_cookies:
        headers["Set-Cookie"] = set_cookies if len(set_cookies) > 1 else set_cookies[0]
    return headers


def html(template: str, v: Visit | None, status: int = 200, **context: Any) -> Response:
    base = (
        v.common()
        if v is not None
        else {
            "appid": "",
            "account_name": "科普大屏",
            "session": None,
            "oauth_capable": False,
            "base": get_settings().public_base_url,
        }
    )
    body = render_page(template, **base, **context)
    return Response(body=body, status_code=status, headers=_headers(v.set_cookies if v else []))


def redirect(location: str, set_cookies: list[str] | None = None, status: int = 302) -> Response:
    headers = _headers(set_cookies or [])
    headers["Location"] = location
    headers["Content-Type"] = "text/plain; charset=utf-8"
    return Response(body="", status_code=status, headers=headers)


def authorize(v: Visit, next_path: str, attempt: int = 1) -> Response:
    """Send the browser to WeChat's authorization, remembering where to come back to."""
    location, cookie = identity.begin_oauth(v.appid, next_path, attempt)
    return redirect(location, [*v.set_cookies, cookie])


def page_link(v: Visit, path: str, params: dict[str, str]) -> Response:
    """A signed link from one of the account's replies (subscription accounts, ``links.for_fan``): read as
    that fan (a link session: his state, never changes), then show the page without the token in the URL.
    A fan signed in through OAuth stays himself; a bad or expired token just falls back to anonymous."""
    claims = verify_link(params.get("t", ""))
    clean = {k: val for k, val in params.items() if k != "t"}
    if claims is not None and visitor.takes_page_link(v.appid, v.session, claims):
        v.session, cookie = identity.new_session(v.appid, claims.openid, identity.LINK)
        v.set_cookies.append(cookie)
    return redirect(absolute(current_path(v.appid, path, clean)), v.set_cookies)


def needs_authorization(v: Visit) -> bool:
    """Pages about the fan himself ask WeChat for proof wherever it can give one (``phone_visitor``)."""
    return visitor.wants_proof(v.oauth_capable, v.session)


def error_page(error: PageError, v: Visit | None) -> Response:
    return html("error", v, status=error.status, error=error)


def page(bp: Blueprint) -> Callable:
    """Decorator: friendly error pages for every failure of a page handler."""

    def wrap(fn: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> Response:
            try:
                return fn(*args, **kwargs)
            except PageError as error:
                return error_page(error, _visit_or_none(bp, kwargs.get("appid", "")))
            except Exception:
                logger.exception("phone page failed", path=fn.__name__)
                return error_page(
                    PageError(500, "页面暂时打不开", "服务器开了个小差，请稍后刷新重试。"),
                    None,
                )

        return handler

    return wrap


def _visit_or_none(bp: Blueprint, appid: str) -> Visit | None:
    try:
        return visit(bp, appid)
    except Exception:  # the error page must render even when the account cannot be read
        return None
