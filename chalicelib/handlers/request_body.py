"""The raw request body as bytes, in one place.

Chalice annotates ``Request.raw_body`` as ``str | bytes`` but always returns
bytes (it encodes a text body itself); the parsers downstream take bytes.
"""

from __future__ import annotations

from chalice.app import Request


def body_bytes(request: Request) -> bytes:
    """The body, or ``b""`` when there is none."""
    body = request.raw_body or b""
    return body.encode() if isinstance(body, str) else body
