"""Data access for the roll-up tables (``AnalyticsRollup``, ``FanScope``), low-level because names are dynamic.

Writes go out as TransactWriteItems of at most 100 items with a
``ClientRequestToken`` derived from the stream batch: when Lambda retries a
batch whose first transactions had committed, DynamoDB recognises the
token and does not add the same counts twice (within its 10-minute window),
and a token reused with other parameters means "already applied" too.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import aws
from chalicelib.models.rollups import LIVE, AnalyticsRollup, FanScope
from chalicelib.models.stats import DailyStat

logger = logging.getLogger(__name__)
MAX_ITEMS = 100
MAX_READ = 100

Counters = dict[str, int]


class MembershipConflict(Exception):
    """Another batch changed a person's membership between our read and our write: read and decide again."""


def _ddb() -> Any:
    return aws.client("dynamodb")


def _number(raw: dict[str, Any]) -> float:
    value = Decimal(raw["N"])
    return int(value) if value == value.to_integral_value() else float(value)


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, raw in item.items():
        if "N" in raw:
            out[name] = _number(raw)
        elif "S" in raw:
            out[name] = raw["S"]
        elif "SS" in raw:
            out[name] = set(raw["SS"])
        elif "M" in raw:
            out[name] = _plain(raw["M"])
    return out


def _token(base: str, index: int) -> str:
    return hashlib.sha256(f"{base}#{index}".encode()).hexdigest()[:36]


def _add_update(table: str, key: dict[str, Any], counters: Mapping[str, int]) -> dict[str, Any]:
    names = {f"#a{i}": name for i, name in enumerate(counters)}
    values = {f":a{i}": {"N": str(int(v))} for i, v in enumerate(counters.values())}
    return {
        "Update": {
            "TableName": table,
            "Key": key,
            "UpdateExpression": "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(counters))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def rollup_adds(updates: Mapping[tuple[str, str], Counters]) -> list[dict[str, Any]]:
    """Transaction items adding ``counters`` to each (scope, day) item; zero counters are left out."""
    table = AnalyticsRollup.Meta.table_name
    items = []
    for (scope, day), counters in sorted(updates.items()):
        nonzero = {k: v for k, v in sorted(counters.items()) if v}
        if nonzero:
            items.append(_add_update(table, {"scope": {"S": scope}, "day": {"S": day}}, nonzero))
    return items


def commit(items: list[dict[str, Any]], token_base: str) -> int:
    """Commit transaction items in chunks of 100, each chunk once; returns the requests made."""
    requests = 0
    for index, start in enumerate(range(0, len(items), MAX_ITEMS)):
        chunk = items[start : start + MAX_ITEMS]
        requests += 1
        try:
            _ddb().transact_write_items(TransactItems=chunk, ClientRequestToken=_token(token_base, index))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "IdempotentParameterMismatchException":
                logger.info("roll-up chunk already applied by an earlier delivery of this batch")
                continue
            if code == "TransactionCanceledException" and any(
                r.get("Code") == "ConditionalCheckFailed" for r in exc.response.get("CancellationReasons", [])
            ):
                raise MembershipConflict() from exc
            raise
    return requests


def memberships(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Strongly consistent read of (scope, person) membership items; absent ones are left out."""
    table = FanScope.Meta.table_name
    wanted = sorted(set(keys))
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(wanted), MAX_READ):
        request = {
            table: {
                "Keys": [{"scope": {"S": s}, "person": {"S": p}} for s, p in wanted[start : start + MAX_READ]],
                "ConsistentRead": True,
            }
        }
        while request:
            response = _ddb().batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                plain = _plain(item)
                found[(plain["scope"], plain["person"])] = plain
            request = response.get("UnprocessedKeys") or {}
    return found


def membership_write(
    scope: str, person: str, old: dict[str, Any] | None, screens: set[str], since: str | None
) -> dict[str, Any]:
    """A conditional write of one person's membership in a scope (version check against what was read).

    A membership left without screens is deleted, not kept at zero: it names a
    person (``appid#openid``) who no longer follows anything in the scope, and
    an erased resident must leave no trace (PIPL, ``docs/data.md``).  A later
    subscription creates it afresh; the version condition still guards races.
    """
    version = int(old.get("v", 0)) if old else 0
    key = {"scope": {"S": scope}, "person": {"S": person}}
    if not screens:
        if not old:
            return {
                "ConditionCheck": {
                    "TableName": FanScope.Meta.table_name,
                    "Key": key,
                    "ConditionExpression": "attribute_not_exists(#v)",
                    "ExpressionAttributeNames": {"#v": "v"},
                }
            }
        return {
            "Delete": {
                "TableName": FanScope.Meta.table_name,
                "Key": key,
                "ConditionExpression": "#v = :old",
                "ExpressionAttributeNames": {"#v": "v"},
                "ExpressionAttributeValues": {":old": {"N": str(version)}},
            }
        }
    values: dict[str, Any] = {":v": {"N": str(version + 1)}}
    sets = ["#v = :v", "n = :n"]
    values[":n"] = {"N": str(len(screens))}
    names = {"#v": "v"}
    removes = []
    if screens:
        sets.append("screens = :s")
        values[":s"] = {"SS": sorted(screens)}
    else:
        removes.append("screens")
    if since:
        sets.append("since = :since")
        values[":since"] = {"S": since}
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    if old:
        condition, values[":old"] = "#v = :old", {"N": str(version)}
    else:
        condition = "attribute_not_exists(#v)"
    return {
        "Update": {
            "TableName": FanScope.Meta.table_name,
            "Key": {"scope": {"S": scope}, "person": {"S": person}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def scope_items(scope: str, first_day: str, last_day: str = LIVE) -> dict[str, dict[str, Any]]:
    """One scope's day items from ``first_day`` through ``last_day`` (default: up to and including the levels)."""
    return _days(AnalyticsRollup.Meta.table_name, "scope", scope, first_day, last_day)


def stat_items(subject: str, first_day: str) -> dict[str, dict[str, Any]]:
    """One subject's ``DailyStat`` days from ``first_day`` on, every numeric attribute (dynamic names included)."""
    return _days(DailyStat.Meta.table_name, "subject", subject, first_day, "~")


def _days(table: str, hash_name: str, ident: str, first_day: str, last_day: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "#s = :s AND #d BETWEEN :a AND :b",
        "ExpressionAttributeNames": {"#s": hash_name, "#d": "day"},
        "ExpressionAttributeValues": {":s": {"S": ident}, ":a": {"S": first_day}, ":b": {"S": last_day}},
    }
    while True:
        response = _ddb().query(**kwargs)
        for item in response.get("Items", []):
            plain = _plain(item)
            out[plain.pop("day")] = plain
            plain.pop(hash_name, None)
        if "LastEvaluatedKey" not in response:
            return out
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def get_item(scope: str, day: str) -> dict[str, Any] | None:
    response = _ddb().get_item(
        TableName=AnalyticsRollup.Meta.table_name, Key={"scope": {"S": scope}, "day": {"S": day}}, ConsistentRead=True
    )
    return _plain(response["Item"]) if "Item" in response else None


def put_item(scope: str, day: str, values: Mapping[str, Any]) -> None:
    """Overwrite one roll-up item (the daily job's snapshots and the rebuild)."""
    item: dict[str, Any] = {"scope": {"S": scope}, "day": {"S": day}}
    for name, value in values.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float)):
            item[name] = {"N": str(value)}
        elif isinstance(value, str):
            item[name] = {"S": value}
    _ddb().put_item(TableName=AnalyticsRollup.Meta.table_name, Item=item)


def set_attributes(scope: str, day: str, values: Mapping[str, Any]) -> None:
    """SET (not ADD) a few numeric attributes on one item, leaving the rest: the day's closing snapshot."""
    names = {f"#a{i}": k for i, k in enumerate(values)}
    vals = {f":a{i}": {"N": str(v)} for i, v in enumerate(values.values())}
    _ddb().update_item(
        TableName=AnalyticsRollup.Meta.table_name,
        Key={"scope": {"S": scope}, "day": {"S": day}},
        UpdateExpression="SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(values))),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=vals,
    )
