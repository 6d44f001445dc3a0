"""Committing an admin change and its audit entry together, with optimistic locking.

Every admin write is one DynamoDB transaction: the object (conditioned on its
``revision``, or on not existing yet) plus its audit entry.  A failed
condition on the object is a concurrent edit (409) or a duplicate (409).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from pynamodb.expressions.update import Action
from pynamodb.models import Model

from chalicelib.dal.items import next_revision, unchanged
from chalicelib.models.unit_of_work import TransactionConflict, UnitOfWork
from chalicelib.services.shared.errors import ApiError, Conflict, PreconditionFailed

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


def revise(uow: UnitOfWork, item: Model, actions: list[Action], *, locked: bool = True) -> None:
    """Add ``actions`` to ``uow`` as the item's next revision (the optimistic lock of every admin edit).

    The revision is bumped and ``updated_at`` stamped; ``locked`` conditions
    the write on the revision the caller read, so a concurrent edit fails it
    (409 ``edit_conflict`` from ``commit``).  The caller's copy keeps the old
    revision number.
    """
    uow.update(
        item, [*actions, *next_revision(item, now())], condition=unchanged(item) if locked else None, tag=OBJECT_TAG
    )


def commit(uow: UnitOfWork, conflict: ApiError | None = None) -> None:
    try:
        uow.commit()
    except TransactionConflict as exc:
        if exc.failed_on(OBJECT_TAG):
            raise conflict or Conflict(
                "the object was changed by someone else; reload and retry", code="edit_conflict"
            ) from None
        raise Conflict("a related object changed; retry", code="conflict") from None


def delete_with_audit(
    model: Model,
    actor: str,
    action: str,
    unit_id: str,
    kind: str,
    ident: str,
    before: dict,
    also: Callable[[UnitOfWork], None] | None = None,
) -> None:
    """Delete (conditioned on the revision the caller saw), its audit entry and ``also``'s writes: one transaction.

    A concurrent edit fails the revision condition (409) and nothing is
    written; the entry and the derived items (``also``: the home feed's) can
    no longer be lost or left behind by a crash between separate writes.
    """
    from chalicelib.services.access import audit

    uow = UnitOfWork()
    uow.delete(model, condition=unchanged(model), tag=OBJECT_TAG)
    audit.record(uow, actor, action, unit_id, kind, ident, before, None)
    if also is not None:
        also(uow)
    commit(uow)
