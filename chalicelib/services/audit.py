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
from chalicelib.services.access import Principal
from chalicelib.services.errors import BadRequest, NotFound
from chalicelib.services.pagination import Page, page_over

OBJECT_TYPES = ("unit", "account", "screen", "content", "user")


def object_key(kind: str, ident: str) -> str:
    return f"{kind}#{ident}"


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> tuple[dict | None, dict | None]:
    """Only the fields that changed, so an edit's entry says what it changed."""
    if before is None or after is None:
        return before, after
    keys = [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k) and k != "revision"]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def record(uow: UnitOfWork, actor: str, action: str, unit_id: str, kind: str, ident: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           note: str | None = None) -> AuditEntry:
    now = datetime.now(UTC)
    before, after = diff(before, after)
    entry = AuditEntry(
        f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{secrets.token_hex(4)}",
        unit_id=unit_id, object_key=object_key(kind, ident), action=action, actor=actor,
        before=before, after=after, note=note, at=now,
    )
    uow.put(entry, tag=f"audit:{action}")
    return entry


def for_unit(principal: Principal, unit_id: str, cursor: str | None, limit: int) -> Page:
    principal.unit(unit_id)
    return page_over([(unit_id, lambda lek, n: AuditEntry.by_unit.query(
        unit_id, scan_index_forward=False, limit=n, last_evaluated_key=lek))], cursor, limit)


def for_object(principal: Principal, kind: str, ident: str, cursor: str | None, limit: int) -> Page:
    """An object's history; 404 unless its (latest) unit is in the caller's scope."""
    if kind not in OBJECT_TYPES:
        raise BadRequest(f"type must be one of {', '.join(OBJECT_TYPES)}", field="type")
    key = object_key(kind, ident)
    latest = next(iter(AuditEntry.by_object.query(key, scan_index_forward=False, limit=1)), None)
    if latest is None or not principal.visible(latest.unit_id):
        raise NotFound(kind)
    return page_over([(key, lambda lek, n: AuditEntry.by_object.query(
        key, scan_index_forward=False, limit=n, last_evaluated_key=lek))], cursor, limit)
