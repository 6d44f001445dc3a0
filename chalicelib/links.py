"""URLs of the phone pages, built in one place so replies, pushes and menus agree."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from chalicelib.settings import get_settings


def _base() -> str:
    return get_settings().public_base_url


def subscription_centre(appid: str) -> str:
    return f"{_base()}/m/{quote(appid)}/subscribe"


def my_screens(appid: str) -> str:
    return f"{_base()}/m/{quote(appid)}/mine"


def my_data(appid: str) -> str:
    return f"{_base()}/m/{quote(appid)}/mydata"


def screen_mirror(appid: str, screen_id: str) -> str:
    return f"{_base()}/m/{quote(appid)}/screens/{quote(screen_id)}"


def content_page(appid: str, content_id: str, **params: str) -> str:
    query = f"?{urlencode(params)}" if params else ""
    return f"{_base()}/m/{quote(appid)}/content/{quote(content_id)}{query}"


def callback_url(appid: str) -> str:
    """What the operator pastes into the WeChat console's server address field."""
    return f"{_base()}/wechat/{quote(appid)}"


def push_link(appid: str, openid: str, content_id: str) -> str:
    """The content page link a push carries: opens directly for that fan (signed, expiring)."""
    from chalicelib.page_tokens import sign_link

    return content_page(appid, content_id, src="push", t=sign_link(appid, openid, content_id))


def for_fan(url: str, account, openid: str | None) -> str:
    """A phone-page link in a reply to one fan.  Subscription accounts have no web authorization, so the
    link carries a signed, expiring token (``page_tokens.PAGES``) that lets the page show his state
    (已订阅); service accounts learn who he is through OAuth and get the plain link."""
    from chalicelib.page_tokens import PAGES, sign_link
    from chalicelib.services.subscriptions.phone_identity import oauth_capable

    if not openid or account is None or oauth_capable(account):
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'t': sign_link(account.appid, openid, PAGES)})}"
