"""One poison-message policy for every SQS consumer: a message that fails its contract ends in the DLQ.

Formerly the planner and the sender dropped such a message (logged, deleted,
gone: a producer bug or a bad DLQ replay left nothing to inspect or replay),
while the manifest consumer left it for the DLQ.  Now all three report it in
``batchItemFailures``: SQS's redrive moves it to the DLQ after the queue's
``maxReceiveCount`` receives (the pump delivers as Lambda does, moto applies
the redrive), an error log names it, and the rest of its batch is processed.
"""

from __future__ import annotations

import json
import logging
import time

import boto3
import pytest

from chalicelib.aws import client, queue_url
from chalicelib.logs import logger
from chalicelib.models.push import PLANNED, PushJob
from chalicelib.resources import queue_specs
from chalicelib.settings import get_settings
from tests.push.conftest import TEMPLATE_PATH, seed_fans
from tests.support import PLAIN_APPID

NOT_JSON = "{not json"


def _spec(key: str):
    return {s.key: s for s in queue_specs(get_settings())}[key]


def _put(key: str, *bodies: str) -> None:
    """Several messages at once, so that one receive can hand them to the consumer as one batch."""
    entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
    client("sqs").send_message_batch(QueueUrl=queue_url(_spec(key).name), Entries=entries)


def _dead_letters(key: str, expected: int, push, timeout: float = 60.0) -> list[str]:
    """Drain until ``expected`` messages reached the queue's DLQ (one receive a second, five receives each)."""
    url = queue_url(_spec(key).dlq_name)
    sqs = client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        depth = int(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
        )
        if depth >= expected:
            break
        push.drain(timeout=10)
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return sorted(m["Body"] for m in got)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def errors():
    """The service logger's error lines of the test."""
    handler = _Records()
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def _contract_errors(records: list[logging.LogRecord], contract: str) -> set[str]:
    """Ids of the messages an error line named as failing ``contract``."""
    return {
        getattr(r, "message_id", "")
        for r in records
        if r.getMessage().startswith("queue message fails its contract") and getattr(r, "contract", "") == contract
    }


def test_a_malformed_publish_message_reaches_the_dlq_and_the_next_publish_is_planned(push, errors):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], ["o-poison-p"])
    wrong = json.dumps({"type": "publish", "job_id": "no revision here"})
    _put("push", NOT_JSON, wrong)
    job_id = push.publish(["NJ001"])
    assert _dead_letters("push", 2, push) == sorted([NOT_JSON, wrong])
    push.drain()
    assert PushJob.get(job_id).status == PLANNED
    assert len(push.received("o-poison-p")) == 1
    assert len(_contract_errors(errors, "PublishMessage")) == 2


def test_a_malformed_send_message_reaches_the_dlq_and_the_rest_of_its_batch_is_sent(push, errors):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], ["o-poison-s"])
    good = json.dumps(
        {
            "type": "send",
            "job_id": "c_poison:1",
            "batch_id": "b000000",
            "appid": PLAIN_APPID,
            "content": {"content_id": "c_poison", "title": "毒消息"},
            "recipients": [{"openid": "o-poison-s"}],
        }
    )
    wrong = json.dumps(
        {
            "type": "send",
            "job_id": "c_poison:1",
            "batch_id": "b000001",
            "appid": PLAIN_APPID,
            "content": {"content_id": "c_poison"},
            "recipients": [],
        }
    )  # no recipients: not a batch
    _put("send", NOT_JSON, good, wrong)
    assert _dead_letters("send", 2, push) == sorted([NOT_JSON, wrong])
    assert len(push.received("o-poison-s")) == 1
    assert len(push.calls_for(TEMPLATE_PATH, "o-poison-s")) == 1  # sent once, although its batch kept failing
    assert len(_contract_errors(errors, "SendMessage")) == 2


def test_a_malformed_rebuild_message_reaches_the_dlq_and_the_rest_of_its_batch_is_rebuilt(push, errors):
    wrong = json.dumps({"type": "rebuild", "screen_ids": ["bad id!"], "reason": "x"})
    good = json.dumps({"type": "rebuild", "screen_ids": ["NJ002"], "reason": "screen_updated"})
    s3, bucket, key = boto3.client("s3"), get_settings().player_bucket, "screens/NJ002/manifest.json"
    assert s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0
    _put("manifest", NOT_JSON, wrong, good)
    assert _dead_letters("manifest", 2, push) == sorted([NOT_JSON, wrong])
    manifest = s3.get_object(Bucket=bucket, Key=key)
    assert json.loads(manifest["Body"].read())["version"]
    assert len(_contract_errors(errors, "RebuildMessage")) == 2
