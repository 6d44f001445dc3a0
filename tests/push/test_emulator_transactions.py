"""The local emulator's TransactWriteItems: exact rollback, and a cost that does not grow with the tables.

moto deep-copies every table a transaction touches (devstack/moto_scale.py
``bounded_transactions`` explains why that made a 5,000-fan push grow the
emulator to 14 GB); the shim snapshots only the items the transaction names.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from devstack.moto_scale import transaction_copies

TABLE = "kepu-shim-test"


@pytest.fixture
def table(aws):
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    return ddb


def _fill(ddb, n: int) -> None:
    for start in range(0, n, 25):
        ddb.batch_write_item(
            RequestItems={
                TABLE: [
                    {"PutRequest": {"Item": {"pk": {"S": f"filler{i}"}, "sk": {"S": "x"}, "pad": {"S": "p" * 200}}}}
                    for i in range(start, min(n, start + 25))
                ]
            }
        )


def _transaction(n: int) -> list[dict]:
    return [
        {
            "Update": {
                "TableName": TABLE,
                "Key": {"pk": {"S": "counter"}, "sk": {"S": str(i)}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        }
        for i in range(n)
    ]


def _item(ddb, pk: str, sk: str) -> dict | None:
    return ddb.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")


def test_a_failing_condition_rolls_back_exactly_the_transactions_writes(table):
    ddb = table
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "n": {"N": "5"}, "tags": {"SS": ["x"]}})
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "guard"}, "sk": {"S": "1"}, "v": {"N": "1"}})
    before = _item(ddb, "a", "1")
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                        "UpdateExpression": "ADD n :k, tags :t",
                        "ExpressionAttributeValues": {":k": {"N": "3"}, ":t": {"SS": ["y"]}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "a"}, "sk": {"S": "2"}},
                        "UpdateExpression": "SET n = :k",
                        "ExpressionAttributeValues": {":k": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "guard"}, "sk": {"S": "1"}},
                        "ConditionExpression": "v = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
            ]
        )
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _item(ddb, "a", "1") == before
    assert _item(ddb, "new", "1") is None and _item(ddb, "a", "2") is None
    assert ddb.scan(TableName=TABLE, ConsistentRead=True)["Count"] == 2
    # The same transaction with a true condition applies every write.
    ddb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "guard"}, "sk": {"S": "1"}},
        UpdateExpression="SET v = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    ddb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                    "UpdateExpression": "ADD n :k",
                    "ExpressionAttributeValues": {":k": {"N": "3"}},
                }
            },
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "sk": {"S": "1"}}}},
        ]
    )
    assert _item(ddb, "a", "1")["n"] == {"N": "8"} and _item(ddb, "new", "1") is not None


def test_a_transaction_copies_only_its_items_however_large_the_table(table):
    ddb = table
    copies = []
    for filler in (10, 1500):
        _fill(ddb, filler)
        ddb.transact_write_items(TransactItems=_transaction(3))  # creates the three items
        transaction_copies.reset()
        ddb.transact_write_items(TransactItems=_transaction(3))
        with pytest.raises(ClientError):  # a cancelled one (same items plus a failing check)
            ddb.transact_write_items(
                TransactItems=[
                    *_transaction(3),
                    {
                        "ConditionCheck": {
                            "TableName": TABLE,
                            "Key": {"pk": {"S": "missing"}, "sk": {"S": "1"}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            )
        copies.append((transaction_copies.transactions, transaction_copies.items, transaction_copies.tables))
    assert copies == [(2, 6, 0), (2, 6, 0)]  # 3 items per transaction, never a table, at 10 and 1,500 items
    assert all(_item(ddb, "counter", str(i))["n"] == {"N": str(2 * 2)} for i in range(3))
