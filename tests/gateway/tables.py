"""How the gateway tests prove "nothing was written": every item, or every successful write call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.client import BaseClient

from chalicelib import aws
from chalicelib.models import ALL_MODELS

DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def every_item() -> dict[str, list[str]]:
    """Each table's items (as sorted reprs), read with consistent scans through the emulator."""
    dynamodb = aws.client("dynamodb")
    found: dict[str, list[str]] = {}
    for model in ALL_MODELS:
        name = model.Meta.table_name
        items, kwargs = [], {"TableName": name, "ConsistentRead": True}
        while True:
            page = dynamodb.scan(**kwargs)
            items += [repr(sorted(item.items())) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found[name] = sorted(items)
    return found


@contextmanager
def recording_writes() -> Iterator[list[str]]:
    """Every DynamoDB write that *succeeded* inside the block (a cancelled transaction wrote nothing).

    Hooks botocore's one call path, which boto3 and pynamodb clients alike go through.
    """
    writes: list[str] = []
    original = BaseClient._make_api_call

    def recording(client, operation_name, params):
        result = original(client, operation_name, params)
        if client.meta.service_model.service_name == "dynamodb" and operation_name in DYNAMODB_WRITES:
            writes.append(operation_name)
        return result

    BaseClient._make_api_call = recording
    try:
        yield writes
    finally:
        BaseClient._make_api_call = original
