"""Cursor pagination over one or several DynamoDB queries.

A list in the admin API may span several queries (the screens of every unit
in a subtree: one Query per unit on the ``by_unit`` index, never a scan).
``page_over`` walks them in order and returns at most ``limit`` items and an
opaque cursor naming the query and its ``LastEvaluatedKey``.  Cursors are
signed with the stage's signing key, so a client cannot steer a query to keys
outside what the server chose to query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from pynamodb.exceptions import AttributeDeserializationError

from chalicelib.logs import logger
from chalicelib.secrets import app_signing_key
from chalicelib.services.shared.errors import BadRequest

DEFAULT_LIMIT, MAX_LIMIT = 50, 200

Source = tuple[str, Callable[[dict | None, int], Any]]


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(app_signing_key(), salt="admin-cursor")


def encode_cursor(state: dict[str, Any]) -> str:
    return _serializer().dumps(state)


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        state = _serializer().loads(cursor)
    except BadSignature:
        raise BadRequest("invalid cursor", field="cursor") from None
    if not isinstance(state, dict):
        raise BadRequest("invalid cursor", field="cursor")
    return state


def readable(results: Iterable[Any]) -> Iterator[Any]:
    """The items of a query that can be read; one malformed stored item is skipped, not fatal.

    pynamodb advances its iterator before decoding an item, so skipping keeps
    the query's position (and ``last_evaluated_key``) right.
    """
    iterator = iter(results)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except AttributeDeserializationError as exc:
            logger.warning("malformed stored item skipped", reason=str(exc))


def page_over(sources: list[Source], cursor: str | None, limit: int) -> Page:
    """Items from ``sources`` (each ``(id, query(lek, limit))``) starting at ``cursor``."""
    ids = [sid for sid, _ in sources]
    start, lek = 0, None
    if cursor:
        state = decode_cursor(cursor)
        if state.get("s") not in ids:
            raise BadRequest("cursor does not belong to this list", field="cursor")
        start, lek = ids.index(state["s"]), state.get("k")
    items: list[Any] = []
    for i in range(start, len(sources)):
        sid, query = sources[i]
        results = query(lek if i == start else None, limit - len(items))
        items.extend(readable(results))
        if len(items) >= limit:
            last = results.last_evaluated_key
            if last:
                return Page(items, encode_cursor({"s": sid, "k": last}))
            if i + 1 < len(sources):
                return Page(items, encode_cursor({"s": ids[i + 1], "k": None}))
            return Page(items, None)
    return Page(items, None)


def page_list(items: Iterable[Any], cursor: str | None, limit: int, key: Callable[[Any], str]) -> Page:
    """Pagination over an in-memory, key-sorted list (small lists computed per request)."""
    ordered = sorted(items, key=key)
    after = decode_cursor(cursor).get("after") if cursor else None
    if after is not None:
        ordered = [i for i in ordered if key(i) > after]
    page = ordered[:limit]
    more = len(ordered) > limit
    return Page(page, encode_cursor({"after": key(page[-1])}) if more and page else None)


def page_by_unit(index: Any, unit_ids: list[str], cursor: str | None, limit: int, **query: Any) -> Page:
    """Page through a per-unit index (``by_unit``) across several units, unit after unit: no scan."""

    def of_unit(uid: str) -> Callable[[Any, int], Any]:
        return lambda lek, n: index.query(uid, limit=n, last_evaluated_key=lek, **query)

    return page_over([(uid, of_unit(uid)) for uid in unit_ids], cursor, limit)
