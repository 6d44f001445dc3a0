"""Text that reaches screens and phones: plain text refuses markup, article HTML is sanitised.

Plain-text fields (names, titles, notices...) are shown as text everywhere, so
markup in them is a mistake or an attack: it is refused with a 400 naming the
field rather than silently altered.  Article bodies are rich text: their
allow-list lives in ``chalicelib.contracts.article_html``.
"""

from __future__ import annotations

import re
import unicodedata

import nh3

MARKUP = re.compile(r"<\s*[a-zA-Z!/?]|&#?[a-zA-Z0-9]+;|javascript:", re.IGNORECASE)


def plain(value: str, *, multiline: bool = False) -> str:
    """Validate a plain-text value: no markup, no control characters (newlines only if ``multiline``)."""
    if MARKUP.search(value):
        raise ValueError("markup is not allowed in this field")
    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cf") and not (multiline and ch in "\n\t"):
            raise ValueError("control characters are not allowed")
    return value


def summary_of(html_or_text: str, limit: int = 120) -> str:
    """A plain summary: tags dropped, whitespace collapsed, cut at ``limit`` characters."""
    text = nh3.clean(html_or_text or "", tags=set())
    text = re.sub(
        r"\s+", " ", text.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    ).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
