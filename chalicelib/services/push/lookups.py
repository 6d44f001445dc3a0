"""What the sender reads before it sends: the account (cached per process) and one consistent read per batch.

The account comes from the one account cache (``chalicelib.dal.accounts``),
re-read when the planner saw a newer revision, so an account edit applies to
the next job.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pynamodb.models import Model

from chalicelib.aws import client
from chalicelib.dal import accounts as account_repo
from chalicelib.models.accounts import Account

READ_KEYS = 100


class AccountMissing(Exception):
    """The batch names an account that does not exist (deleted after planning)."""


def account(appid: str, min_revision: int = 0) -> Account:
    """The account, from the one account cache; re-read when the planner saw a newer revision."""
    found = account_repo.find(appid, min_revision=min_revision, consistent=True)
    if found is None:
        raise AccountMissing(appid)
    return found


def _key_names(model_cls: type[Model]) -> tuple[str, str | None]:
    attrs = model_cls.get_attributes()
    hash_name = next(a.attr_name for a in attrs.values() if a.is_hash_key)
    range_name = next((a.attr_name for a in attrs.values() if a.is_range_key), None)
    return hash_name, range_name


def _request_items(keys: Sequence[tuple[type[Model], str, str | None]]) -> dict[str, dict[str, Any]]:
    request_items: dict[str, dict[str, Any]] = {}
    for model_cls, hash_key, range_key in keys:
        hash_name, range_name = _key_names(model_cls)
        key = {hash_name: {"S": hash_key}}
        if range_name and range_key is not None:
            key[range_name] = {"S": range_key}
        table = request_items.setdefault(model_cls.Meta.table_name, {"Keys": [], "ConsistentRead": True})
        table["Keys"].append(key)
    return request_items


def _read_chunk(
    pending: dict[str, dict[str, Any]], models: dict[str, type[Model]], found: dict[tuple[str, str, str | None], Any]
) -> None:
    delay = 0.05
    for _round in range(8):
        response = client("dynamodb").batch_get_item(RequestItems=pending)
        for table, items in response.get("Responses", {}).items():
            model_cls = models[table]
            hash_name, range_name = _key_names(model_cls)
            for raw in items:
                key = (table, raw[hash_name]["S"], raw[range_name]["S"] if range_name else None)
                found[key] = model_cls.from_raw_data(raw)
        pending = response.get("UnprocessedKeys") or {}
        if not pending:
            return
        time.sleep(delay)
        delay *= 2
    raise RuntimeError("BatchGetItem left keys unprocessed")


def read_batch(requests: Sequence[tuple[type[Model], str, str | None]]) -> list[Any]:
    """Strongly consistent read of items of several tables, 100 keys per BatchGetItem.

    Half the read cost of TransactGetItems and, unlike it, 100 items in the
    local emulator too (moto caps TransactGetItems at the old limit of 25).
    Unprocessed keys (throttling) are read again, with a short back-off.
    """
    found: dict[tuple[str, str, str | None], Any] = {}
    models = {m.Meta.table_name: m for m, _h, _r in requests}
    unique = list(dict.fromkeys(requests))
    for start in range(0, len(unique), READ_KEYS):
        _read_chunk(_request_items(unique[start : start + READ_KEYS]), models, found)
    return [found.get((m.Meta.table_name, h, r)) for m, h, r in requests]
