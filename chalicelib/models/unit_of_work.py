"""Many item writes, one DynamoDB transaction.

Event handling and subscription changes touch several items (the dedup
record, the subscription, the screen's counter, the fan, a daily stat) that
must change together or not at all.  ``UnitOfWork`` collects those writes —
merging several updates of one item into a single operation, as
TransactWriteItems requires — commits them in one request, and on
cancellation tells the caller *which* of its writes failed, with the old item
where it asked for it (``ReturnValuesOnConditionCheckFailure=ALL_OLD``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

MAX_TRANSACTION_ITEMS = 100
_ORDER = {"check": 0, "delete": 1, "put": 2, "update": 3}  # the order pynamodb sends them in


def _key_of(model: Model) -> tuple[str, Any, Any]:
    meta = model.Meta
    attrs = model.get_attributes()
    hash_name = next(n for n, a in attrs.items() if a.is_hash_key)
    range_name = next((n for n, a in attrs.items() if a.is_range_key), None)
    return (meta.table_name, getattr(model, hash_name), getattr(model, range_name) if range_name else None)


@dataclass
class _Op:
    kind: str
    model: Model
    tag: str
    actions: list[Action] = field(default_factory=list)
    condition: Condition | None = None
    return_old: bool = False


@cache
def _connection(region: str) -> Connection:
    """One pynamodb connection (one botocore client) per process, as Lambda wants."""
    return Connection(region=region)


class TransactionConflict(Exception):
    """The transaction was cancelled; ``failed`` maps tag → old item (or None)."""

    def __init__(self, failed: dict[str, dict | None], codes: dict[str, str]):
        super().__init__(f"transaction cancelled by: {sorted(codes.items())}")
        self.failed = failed
        self.codes = codes

    def failed_on(self, tag: str) -> bool:
        return tag in self.failed


class UnitOfWork:
    """Collects writes and commits them atomically; see the module docstring."""

    def __init__(self) -> None:
        self._ops: dict[tuple[str, Any, Any], _Op] = {}

    def __len__(self) -> int:
        return len(self._ops)

    def put(
        self, model: Model, *, condition: Condition | None = None, tag: str | None = None, return_old: bool = False
    ) -> None:
        key = _key_of(model)
        if key in self._ops:
            raise ValueError(f"item written twice in one unit of work: {key}")
        self._ops[key] = _Op("put", model, tag or str(key), condition=condition, return_old=return_old)

    def update(
        self, model: Model, actions: Sequence[Action], *, condition: Condition | None = None, tag: str | None = None
    ) -> None:
        """Add update actions for an item; repeated calls on one item merge."""
        key = _key_of(model)
        op = self._ops.get(key)
        if op is None:
            self._ops[key] = _Op("update", model, tag or str(key), list(actions), condition)
            return
        if op.kind != "update":
            raise ValueError(f"item both put and updated in one unit of work: {key}")
        op.actions.extend(actions)
        if condition is not None:
            op.condition = condition if op.condition is None else (op.condition & condition)

    def delete(self, model: Model, *, condition: Condition | None = None, tag: str | None = None) -> None:
        """Delete an item (a resident's erasure); conditions keep a concurrent change from being lost."""
        key = _key_of(model)
        if key in self._ops:
            raise ValueError(f"item deleted and written in one unit of work: {key}")
        self._ops[key] = _Op("delete", model, tag or str(key), condition=condition)

    def check(
        self, model_cls: type[Model], hash_key: Any, range_key: Any = None, *, condition: Condition, tag: str
    ) -> None:
        probe = model_cls(hash_key, range_key) if range_key is not None else model_cls(hash_key)
        key = _key_of(probe)
        if key in self._ops:
            raise ValueError(f"condition check on an item already written: {key}")
        self._ops[key] = _Op("check", probe, tag, condition=condition)

    def _effective_ops(self) -> list[_Op]:
        """The operations DynamoDB is sent: an update whose actions all merged away (e.g. a counter
        that nets to zero) is no write -- DynamoDB refuses an Update without an UpdateExpression --
        but its condition, if any, still guards the transaction as a condition check."""
        ops = []
        for op in self._ops.values():
            if op.kind == "update" and not op.actions:
                if op.condition is None:
                    continue
                op = _Op("check", op.model, op.tag, condition=op.condition)
            ops.append(op)
        return ops

    def commit(self) -> None:
        """One TransactWriteItems call; raises ``TransactionConflict`` on cancellation."""
        if not self._ops:
            return
        if len(self._ops) > MAX_TRANSACTION_ITEMS:
            raise ValueError(f"{len(self._ops)} items exceed DynamoDB's transaction limit")
        ordered = sorted(self._effective_ops(), key=lambda op: _ORDER[op.kind])
        if not ordered:
            return
        connection = _connection(ordered[0].model.Meta.region)
        try:
            with TransactWrite(connection=connection) as transaction:
                for op in ordered:
                    _add(transaction, op)
        except TransactWriteError as exc:
            conflict = _conflict(exc, ordered)
            if conflict is None:
                raise
            raise conflict from exc


def _add(transaction: TransactWrite, op: _Op) -> None:
    """One operation of the transaction, as pynamodb spells it."""
    ret = "ALL_OLD" if op.return_old else None
    if op.kind == "put":
        transaction.save(op.model, condition=op.condition, return_values=ret)
    elif op.kind == "update":
        transaction.update(op.model, op.actions, condition=op.condition, return_values=ret)
    elif op.kind == "delete":
        transaction.delete(op.model, condition=op.condition)
    else:
        hash_key, range_key = _key_of(op.model)[1:]
        transaction.condition_check(type(op.model), hash_key, range_key, condition=op.condition)


def _conflict(exc: TransactWriteError, ordered: list[_Op]) -> TransactionConflict | None:
    """The conflict to report when only conditions cancelled the transaction; None for any other failure."""
    reasons = exc.cancellation_reasons
    if not reasons:
        return None
    failed: dict[str, dict | None] = {}
    codes: dict[str, str] = {}
    for op, reason in zip(ordered, reasons, strict=False):
        if reason is not None and reason.code not in (None, "None"):
            codes[op.tag] = reason.code
            failed[op.tag] = reason.raw_item
    if not codes or any(code != "ConditionalCheckFailed" for code in codes.values()):
        return None
    return TransactionConflict(failed, codes)


def read_many(requests: list[tuple[type[Model], Any, Any]]) -> list[Model | None]:
    """Strongly consistent read of up to 100 items of any tables, in one request."""
    if not requests:
        return []
    connection = _connection(requests[0][0].Meta.region)
    with TransactGet(connection=connection) as transaction:
        futures = [transaction.get(cls, h, r) for cls, h, r in requests]
    results: list[Model | None] = []
    for future in futures:
        try:
            results.append(future.get())
        except DoesNotExist:
            results.append(None)
    return results
