"""The SQS event source mapping's contract with a handler: the event Lambda builds, and how it reads the answer.

The pump must hand the Chalice handlers the event Lambda would, field for field
(``Records`` with Lambda's attribute names and casing, base64 binary
attributes, the queue's ARN) and read their return value by Lambda's rules for
``ReportBatchItemFailures``; a handler tested against anything looser could
pass locally and fail in production.  These are pure functions of the app, a
``ReceiveMessage`` result or a handler's return value, kept apart from the
polling and invoking in :mod:`devstack.sqs_pump`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from chalice import Chalice
from chalice.app import SQSEventConfig

# System attributes Lambda copies into ``Records[].attributes``.
_LAMBDA_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def sqs_consumers(app: Chalice) -> list[tuple[SQSEventConfig, Any]]:
    """The app's SQS event sources and their invokable handlers.

    ``app.event_sources`` holds one ``SQSEventConfig`` per ``on_sqs_message``
    (blueprints included once registered) and ``app.handler_map[config.name]``
    is the wrapped handler Lambda would call -- the Chalice
    ``EventSourceHandler`` that builds the ``SQSEvent`` and runs middleware.
    """
    return [(src, app.handler_map[src.name]) for src in app.event_sources if isinstance(src, SQSEventConfig)]


def queue_of(config: SQSEventConfig) -> str:
    if config.queue:
        return config.queue
    return str(config.queue_arn).rsplit(":", 1)[-1]


def _lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    shaped = {}
    for name, attr in attributes.items():
        value: dict[str, Any] = {
            "stringListValues": list(attr.get("StringListValues", [])),
            "binaryListValues": [b64(v) for v in attr.get("BinaryListValues", [])],
            "dataType": attr["DataType"],
        }
        if "StringValue" in attr:
            value["stringValue"] = attr["StringValue"]
        if "BinaryValue" in attr:
            value["binaryValue"] = b64(attr["BinaryValue"])
        shaped[name] = value
    return shaped


def lambda_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS ``ReceiveMessage`` result in the shape of a Lambda event record."""
    attributes = message.get("Attributes", {})
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {k: attributes[k] for k in _LAMBDA_ATTRIBUTES if k in attributes},
        "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_ids(response: Any, message_ids: list[str]) -> set[str] | None:
    """Which message ids a handler reported as failed; ``None`` means the whole batch failed."""
    try:
        response = json.loads(json.dumps(response))  # Lambda serialises the return value
    except (TypeError, ValueError):
        return None
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = response["batchItemFailures"]
    if not isinstance(failures, list):
        return None
    ids = set()
    for item in failures:
        item_id = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not item_id or item_id not in message_ids:
            return None
        ids.add(item_id)
    return ids
