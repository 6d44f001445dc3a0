"""Writing and reading the audit log.

``record`` adds the entry to the caller's unit of work so it commits with the
change itself.  Before/after snapshots are the objects' public views (the
same dicts the API returns), so a secret can no more reach the log than a
response.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from chalicelib.models import AuditEntry
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.access.grants import Principal
from chalicelib.services.shared.errors import BadRequest, NotFound
from chalicelib.services.shared.pagination import Page, decode_cursor, encode_cursor, page_over, readable

OBJECT_TYPES = ("unit", "account", "screen", "content", "user")


def object_key(kind: str, ident: str) -> str:
    return f"{kind}#{ident}"


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[dict | None, dict | None]:
    """Only the fields that changed, so an edit's entry says what it changed."""
    if before is None or after is None:
        return before, after
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k) and k != "revision"]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(
    uow: UnitOfWork,
    actor: str,
    action: str,
    unit_id: str,
    kind: str,
    ident: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEntry:
    now = datetime.now(UTC)
    before, after = diff(before, after)
    entry = AuditEntry(
        f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{secrets.token_hex(4)}",
        unit_id=unit_id,
        object_key=object_key(kind, ident),
        action=action,
        actor=actor,
        before=before,
        after=after,
        note=note,
        at=now,
    )
    uow.put(entry, tag=f"audit:{action}")
    return entry


def for_unit(principal: Principal, unit_id: str, cursor: str | None, limit: int) -> Page:
    principal.unit(unit_id)
    return page_over(
        [
            (
                unit_id,
                lambda lek, n: AuditEntry.by_unit.query(
                    unit_id, scan_index_forward=False, limit=n, last_evaluated_key=lek
                ),
            )
        ],
        cursor,
        limit,
    )


MAX_QUERIES_PER_PAGE = 10  # DynamoDB round trips one filtered page may take; a short page keeps its cursor


def for_object(principal: Principal, kind: str, ident: str, cursor: str | None, limit: int) -> Page:
    """An object's history as far as the caller may see it, newest first.

    Every entry is checked against the caller's scope, not only the newest: an
    object can move between units, and a screen code deleted in one branch can
    be created again in another, so one history spans branches.  Entries of
    units outside every grant are left out; when none is visible the answer is
    the same 404 as for an object that never existed.
    """
    if kind not in OBJECT_TYPES:
        raise BadRequest(f"type must be one of {', '.join(OBJECT_TYPES)}", field="type")
    key = object_key(kind, ident)
    lek: dict | None = None
    if cursor:
        state = decode_cursor(cursor)
        if state.get("s") != key:
            raise BadRequest("cursor does not belong to this list", field="cursor")
        lek = state.get("k")
    items: list[AuditEntry] = []
    for _ in range(MAX_QUERIES_PER_PAGE):
        results = AuditEntry.by_object.query(
            key, scan_index_forward=False, limit=limit - len(items), last_evaluated_key=lek
        )
        items.extend(entry for entry in readable(results) if principal.visible(entry.unit_id))
        lek = results.last_evaluated_key
        if not lek or len(items) >= limit:
            break
    next_cursor = encode_cursor({"s": key, "k": lek}) if lek else None
    if not items and not next_cursor and not cursor:
        raise NotFound(kind)
    return Page(items, next_cursor)
