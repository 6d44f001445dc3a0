"""The one place boto3 clients are made.

Clients are created once per process (Lambda reuses the process between
invocations) with no explicit endpoint: boto3's standard endpoint resolution
reads ``AWS_ENDPOINT_URL`` when it is set (local emulator) and otherwise
reaches the region's real endpoint, ``aws-cn`` partition included.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from chalicelib.observability import stamp
from chalicelib.settings import get_settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    """A shared boto3 client for ``service`` in the configured region."""
    return boto3.session.Session().client(service, region_name=get_settings().region, config=_CONFIG)


@cache
def queue_url(queue_name: str) -> str:
    """Resolve a queue's URL once per process."""
    return client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]


def send_json(
    queue_name: str, payload: dict[str, Any], *, delay_seconds: int = 0, dedup_attribute: str | None = None
) -> str:
    """Enqueue one JSON message; returns its MessageId."""
    attributes = {}
    if dedup_attribute:
        attributes["dedup"] = {"DataType": "String", "StringValue": dedup_attribute}
    stamp(payload)  # correlation id of the request being handled (chalicelib.observability)
    response = client("sqs").send_message(
        QueueUrl=queue_url(queue_name),
        MessageBody=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        DelaySeconds=max(0, min(int(delay_seconds), 900)),
        MessageAttributes=attributes,
    )
    return response["MessageId"]


def send_json_batch(queue_name: str, payloads: list[dict[str, Any]]) -> list[str]:
    """Enqueue up to any number of JSON messages, ten per SendMessageBatch call.

    Raises when SQS reports any entry failed, so the caller's own retry (or the
    Lambda redelivery) covers it; entries carry their index as Id so a partial
    failure is reported precisely.
    """
    ids: list[str] = []
    sqs = client("sqs")
    url = queue_url(queue_name)
    for start in range(0, len(payloads), 10):
        chunk = [stamp(p) for p in payloads[start : start + 10]]
        entries = [
            {
                "Id": str(i),
                "MessageBody": json.dumps(p, ensure_ascii=False, separators=(",", ":")),
                "DelaySeconds": int(p.get("_delay", 0)) if isinstance(p, dict) else 0,
            }
            for i, p in enumerate(chunk)
        ]
        response = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if response.get("Failed"):
            failed = response["Failed"]
            raise RuntimeError(f"SQS rejected {len(failed)} of {len(entries)} messages: {failed[:3]}")
        ids.extend(item["MessageId"] for item in response.get("Successful", []))
    return ids
