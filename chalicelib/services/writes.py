"""Committing an admin change and its audit entry together, with optimistic locking.

Every admin write is one DynamoDB transaction: the object (conditioned on its
``revision``, or on not existing yet) plus its audit entry.  A failed
condition on the object is a concurrent edit (409) or a duplicate (409).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork
from chalicelib.services.errors import ApiError, Conflict, PreconditionFailed

OBJECT_TAG = "object"


def new_id(prefix: str) -> str:
    """Short, unguessable ids (ids are not secrets, but need not be enumerable)."""
    return f"{prefix}_{secrets.token_hex(6)}"


def now() -> datetime:
    return datetime.now(UTC)


def snap(view: dict) -> dict:
    """A public view made JSON-ready for the audit log (timestamps dropped: the entry has its own)."""
    out = {}
    for key, value in view.items():
        if key in ("created_at", "updated_at"):
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, set | frozenset):
            value = sorted(value)
        out[key] = value
    return out


def check_if_match(if_match: int | None, current: float) -> None:  # a NumberAttribute
    """412 when the client's ETag names another revision than the stored one."""
    if if_match is not None and if_match != current:
        raise PreconditionFailed(f"revision {if_match} is not current (now {current})", field="If-Match")


def commit(uow: UnitOfWork, conflict: ApiError | None = None) -> None:
    try:
        uow.commit()
    except TransactionConflict as exc:
        if exc.failed_on(OBJECT_TAG):
            raise conflict or Conflict("the object was changed by someone else; reload and retry",
                                       code="edit_conflict") from None
        raise Conflict("a related object changed; retry", code="conflict") from None


def delete_with_audit(model, condition, actor: str, action: str, unit_id: str, kind: str, ident: str,
                      before: dict) -> None:
    """Delete (conditioned on the revision the caller saw) and log it.

    ``UnitOfWork`` has no delete operation, so the entry is written right
    after the delete; a crash between the two loses only the log line.
    """
    from pynamodb.exceptions import DeleteError

    from chalicelib.services import audit

    try:
        model.delete(condition=condition)
    except DeleteError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("the object was changed by someone else; reload and retry", code="edit_conflict") from None
        raise
    uow = UnitOfWork()
    audit.record(uow, actor, action, unit_id, kind, ident, before, None)
    uow.commit()
