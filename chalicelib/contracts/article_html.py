"""The one allow-list for article HTML, and the three places it is applied.

An article is sanitised when it is written (``stored``: what the admin API
saves and previews), again when a phone page shows it (``page``: a page never
trusts one writer, and its links get ``nofollow``), and for the screens
(``screen``: the player shows text only, so links and inline images go; an
article's pictures reach the screen as its media).  All three use the same
tags and attributes, so an article looks the same wherever it is read.
"""

from __future__ import annotations

import html

import nh3

ARTICLE_TAGS = frozenset({"p", "br", "strong", "em", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "img", "a"})
ARTICLE_ATTRIBUTES = {"img": {"src", "alt"}, "a": {"href"}}
SCREEN_TAGS = ARTICLE_TAGS - {"img", "a"}


def _https_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith("https://") else None
    return value


def stored(value: str) -> str:
    """The safe subset of an article's HTML, as it is saved (links ``noopener``, images https only)."""
    return nh3.clean(
        value,
        tags=set(ARTICLE_TAGS),
        attributes=ARTICLE_ATTRIBUTES,
        url_schemes={"https", "http", "mailto"},
        link_rel="noopener noreferrer",
        attribute_filter=_https_images,
        strip_comments=True,
    )


def page(value: str) -> str:
    """An article as a phone page shows it: the same allow-list, web links only, ``nofollow``."""
    return nh3.clean(
        value,
        tags=set(ARTICLE_TAGS),
        attributes=ARTICLE_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
    )


def screen(value: str) -> str:
    """An article as the player shows it: the text tags of the allow-list, no attributes."""
    return nh3.clean(value, tags=set(SCREEN_TAGS), attributes={}, link_rel=None)


def plain_text(value: str) -> str:
    """Every tag dropped and entities decoded: text for a screen's notice or summary."""
    return html.unescape(nh3.clean(value, tags=set(), attributes={}))
