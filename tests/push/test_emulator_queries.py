"""The local emulator's Query on an index: the same pages as DynamoDB's rules say, without sorting the table.

moto sorts every item of a table for each page of an index Query, which made
the planner's subscriber pages cost seconds at 100,000 subscriptions
(devstack/moto_scale.py ``bounded_index_queries``).  The shim must not change
what a Query answers: order by the index keys, pages, LastEvaluatedKey.
"""

from __future__ import annotations

import boto3

from devstack.moto_scale import index_query_scans

TABLE = "kepu-query-shim-test"


def test_index_pages_are_exact_and_skip_the_table_sort(aws):
    ddb = boto3.client("dynamodb")
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "screen", "fan")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_screen",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": "screen", "KeyType": "HASH"},
                    {"AttributeName": "fan", "KeyType": "RANGE"},
                ],
            }
        ],
    )
    rows = [(f"p{i:03d}", f"s{i % 3}", f"S{i % 4}" if i % 5 else None, f"f{(i * 37) % 211:03d}") for i in range(240)]
    for start in range(0, len(rows), 25):
        ddb.batch_write_item(
            RequestItems={
                TABLE: [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": pk},
                                "sk": {"S": sk},
                                "fan": {"S": fan},
                                **({"screen": {"S": screen}} if screen else {}),
                            }
                        }
                    }
                    for pk, sk, screen, fan in rows[start : start + 25]
                ]
            }
        )
    before = index_query_scans.bounded
    for screen in ("S1", "S3"):
        expected = sorted((fan, pk, sk) for pk, sk, s, fan in rows if s == screen)
        got, start_key, pages = [], None, 0
        while True:
            page = ddb.query(
                TableName=TABLE,
                IndexName="by_screen",
                Limit=7,
                KeyConditionExpression="screen = :s",
                ExpressionAttributeValues={":s": {"S": screen}},
                **({"ExclusiveStartKey": start_key} if start_key else {}),
            )
            got += [(i["fan"]["S"], i["pk"]["S"], i["sk"]["S"]) for i in page["Items"]]
            pages += 1
            start_key = page.get("LastEvaluatedKey")
            if not start_key:
                break
        assert got == expected and pages >= len(expected) // 7
    assert index_query_scans.bounded - before >= 10  # the shim answered them (moto would sort all 240 per page)
