"""Every item in every table: how the gateway tests prove "nothing was written"."""

from __future__ import annotations

from chalicelib import aws
from chalicelib.models import ALL_MODELS


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
