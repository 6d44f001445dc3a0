"""Shims that keep the emulator's DynamoDB cost proportional to the items a request touches.

moto's TransactWriteItems deep-copies every table it touches and its Query on
an index sorts every item of the table, for every page: harmless at test size,
but at production size (a push to 100,000 fans) an emulator grew to 14 GB and a
planner run outlived Lambda's 60 s -- failures only the emulator has.  These
shims bound both by the items the request names or matches, leave every answer
as moto gives it, and count what they did (``transaction_copies``,
``index_query_scans``) so tests can show the bound holds.
:func:`~devstack.moto_server.start_moto` installs them; they rely on the
DynamoDB serialisation of :mod:`devstack.moto_locks`.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from devstack.moto_locks import dynamodb_lock


class TransactionCopies:
    """What the emulator's transactions copied: items snapshotted, and whole tables (should stay 0)."""

    def __init__(self) -> None:
        self.transactions = 0
        self.items = 0
        self.tables = 0

    def reset(self) -> None:
        self.__init__()


transaction_copies = TransactionCopies()
_copy_scope = threading.local()


class _TableCopyGuard:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend.

    moto's ``transact_write_items`` starts with ``copy.deepcopy(table)`` of
    every table it touches and restores those copies on a cancelled
    transaction: each transaction costs time and memory proportional to the
    *tables'* size (an emulator grew to 14 GB in a 5,000-fan push).  While one
    of our shimmed transactions runs on this thread, a deep copy of a
    ``Table`` returns the table itself (the "restore" becomes a no-op) and
    the shim restores exactly the items the transaction names instead.
    Every other ``deepcopy`` (items in ``update_item``) is the real one.
    """

    def __init__(self, real) -> None:
        self._real = real

    def deepcopy(self, value, memo=None):
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table) and getattr(_copy_scope, "active", False):
            return value
        if isinstance(value, Table):
            transaction_copies.tables += 1
        return self._real.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _touched(backend, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(table, hash value, range value) of every item a transaction may write."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        if op_type == "ConditionCheck" or op.get("TableName") not in backend.tables:
            continue
        table = backend.tables[op["TableName"]]
        key = op["Item"] if op_type == "Put" else op.get("Key", {})
        if table.hash_key_attr not in key:
            continue  # moto raises a validation error for it, before writing anything
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        touched.append((table, hash_value, range_value))
    return touched


def _snapshot(touched: list[tuple[Any, Any, Any]]) -> list[tuple[Any, Any, Any, Any, int]]:
    saved = []
    for table, hash_value, range_value in touched:
        bucket = table.items.get(hash_value)  # not get_item: the defaultdict would grow a bucket
        current = (bucket or {}).get(range_value) if table.has_range_key else bucket
        stream_length = len(table.stream_shard.items) if table.stream_shard is not None else 0
        saved.append((table, hash_value, range_value, copy.deepcopy(current), stream_length))
        transaction_copies.items += current is not None
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any, int]]) -> None:
    for table, hash_value, range_value, item, stream_length in reversed(saved):
        if table.has_range_key:
            bucket = table.items.get(hash_value)
            if item is not None:
                table.items[hash_value][range_value] = item
            elif bucket is not None:
                bucket.pop(range_value, None)
                if not bucket:
                    del table.items[hash_value]
        elif item is not None:
            table.items[hash_value] = item
        else:
            table.items.pop(hash_value, None)
        if table.stream_shard is not None:
            del table.stream_shard.items[stream_length:]  # a cancelled transaction leaves no stream records


def count_table_copies() -> None:
    """Count moto's whole-table deep copies in ``transaction_copies.tables`` (idempotent)."""
    from moto.dynamodb import models as dynamodb_models

    if not isinstance(dynamodb_models.copy, _TableCopyGuard):
        dynamodb_models.copy = _TableCopyGuard(copy)


def bounded_transactions() -> None:
    """Make the emulator's TransactWriteItems cost independent of table size.  Idempotent.

    Why: see :class:`_TableCopyGuard`.  The shim snapshots only the items the
    transaction names (Put/Update/Delete keys; ConditionChecks write
    nothing), lets moto run the transaction with whole-table copies turned
    into no-ops, and on any failure puts exactly those items back (and drops
    stream records the cancelled writes emitted), as moto's own rollback
    would have.  Requests must be serialised (:func:`~devstack.moto_locks.serialise_dynamodb`),
    which both make true.  ``transaction_copies`` counts what was copied.
    Worth offering upstream: the same change fits moto's
    ``transact_write_items`` in a few lines.
    """
    from moto.dynamodb import models as dynamodb_models

    backend_cls = dynamodb_models.DynamoDBBackend
    count_table_copies()
    if getattr(backend_cls.transact_write_items, "_kepuscreen_bounded", False):
        return
    original = backend_cls.transact_write_items

    def transact_write_items(self, transact_items):
        with dynamodb_lock:
            transaction_copies.transactions += 1
            saved = _snapshot(_touched(self, transact_items))
            _copy_scope.active = True
            try:
                return original(self, transact_items)
            except BaseException:
                _restore(saved)
                raise
            finally:
                _copy_scope.active = False

    transact_write_items._kepuscreen_bounded = True
    backend_cls.transact_write_items = transact_write_items


class _IndexQueryCount:
    bounded = 0  # index Queries answered without sorting the whole table


index_query_scans = _IndexQueryCount()


def bounded_index_queries() -> None:
    """Make the emulator's Query on an index cost the matching items, not the whole table.  Idempotent.

    Why: moto's ``Table.query`` on an index starts from ``all_items()``, which
    *sorts every item of the table*, for every page.  The planner pages
    through ``active_by_screen`` for each targeted screen, so at 100,000
    subscriptions each page cost seconds and a planner run outlived Lambda's
    60 s (its cursor was never saved: a livelock only the emulator has).  The
    shim hands moto, for the duration of one index Query with key equality
    conditions, only the items that match them, unsorted: moto sorts the
    matches by the index keys itself, so pages, order and LastEvaluatedKey
    are unchanged.  Requests are serialised (:func:`~devstack.moto_locks.serialise_dynamodb`), so
    the per-call override is safe.  ``KEPU_MOTO_FULL_QUERIES=1`` keeps moto's
    own behaviour.
    """
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_kepuscreen_bounded", False):
        return
    original = Table.query

    def query(self, *args, **kwargs):
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions") or []
        if not index_name or not conditions:
            return original(self, *args, **kwargs)

        def matching() -> list[Any]:
            found = []
            for hash_set in self.items.values():
                for item in hash_set.values() if self.range_key_attr else (hash_set,):
                    attrs = item.attrs
                    if all(attrs.get(name) is not None and attrs[name] == value for name, value in conditions):
                        found.append(item)
            return found

        index_query_scans.bounded += 1
        self.all_items = matching
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    query._kepuscreen_bounded = True
    Table.query = query
