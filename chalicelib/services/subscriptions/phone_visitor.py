"""Who is reading a phone page: the rules that pick the identity a page acts for.

The cookies and tokens themselves live in ``phone_identity`` and ``page_tokens``;
this module decides between them (docs/phone.md, "Identity"):

- an OAuth-proven fan stays himself whatever signed link he opens;
- a signed link names the fan it was made for, and a page may read as him
  (a link session) unless a proven fan is already there;
- pages about the fan himself ask WeChat for proof wherever it can give one;
- an anonymous reader's reads count under a random visitor id.

The decisions are plain functions over the session and the link's claims, so
they are tested without a browser or the emulator.
"""

from __future__ import annotations

from enum import Enum

from chalicelib.page_tokens import PAGES, LinkClaims
from chalicelib.services.subscriptions import phone_identity as identity
from chalicelib.services.subscriptions.phone_identity import Session


class PushLinkReader(Enum):
    """Who reads a content page opened from a valid push link, given the session already there."""

    SAME = "same"  # the session is the fan the push was sent to
    FORWARDED = "forwarded"  # a proven fan opened another's push: he reads as himself, the read counts as a link
    ADOPT = "adopt"  # no session, or a link session of someone else: read as the fan the push names


def wants_proof(oauth_capable: bool, session: Session | None) -> bool:
    """Pages about the fan himself want a proven identity wherever WeChat can give one."""
    return oauth_capable and not (session is not None and session.may_change)


def takes_page_link(appid: str, session: Session | None, claims: LinkClaims | None) -> bool:
    """Whether a signed page link (subscription accounts' replies) should become the page's session.

    A bad, expired or foreign token is ignored (the page falls back to who was there); a proven
    fan is never replaced, and a link session of the same fan needs no new one.
    """
    if claims is None or claims.appid != appid or claims.content_id != PAGES:
        return False
    return session is None or (session.kind != identity.OAUTH and session.openid != claims.openid)


def push_link_valid(appid: str, content_id: str, claims: LinkClaims | None) -> bool:
    """A push link counts only for the account and the content it was signed for."""
    return claims is not None and claims.appid == appid and claims.content_id == content_id


def push_link_reader(session: Session | None, claims: LinkClaims) -> PushLinkReader:
    """Who reads a content page opened from a valid push link (see ``PushLinkReader``)."""
    if session is None:
        return PushLinkReader.ADOPT
    if session.openid == claims.openid:
        return PushLinkReader.SAME
    return PushLinkReader.FORWARDED if session.kind == identity.OAUTH else PushLinkReader.ADOPT


def reader(appid: str, session: Session | None, cookies: dict[str, str]) -> tuple[str, str | None]:
    """The id a read counts under, and the ``Set-Cookie`` value to send when a new visitor id was minted.

    A fan with a session reads as his openid; anyone else as ``v:<visitor id>`` from his visitor
    cookie, so an anonymous reader's reads still count once a day.
    """
    if session is not None:
        return session.openid, None
    visitor = identity.visitor_id(cookies)
    if visitor is not None:
        return f"v:{visitor}", None
    visitor, cookie = identity.new_visitor(appid)
    return f"v:{visitor}", cookie
