"""A batch's retry message keeps the publish's tracing fields (ops' correlation id and first enqueue time).

The sender rebuilds retries from ``SendMessage`` (``model_copy``), whose
``extra="ignore"`` dropped any field it did not declare: ``enqueued_at`` was
then re-stamped at the retry, so the publish-to-send time restarted (this test
failed so before the fields were declared).  The correlation id survived only
because ``stamp`` re-adds the sending thread's current id; now it is carried.
"""

from __future__ import annotations

import json

from chalicelib.aws import client, queue_url
from chalicelib.services.push import invocation as push_invocation
from chalicelib.settings import get_settings
from tests.push.conftest import TEMPLATE_PATH, seed_fans, sqs_event
from tests.support import PLAIN_APPID


def test_a_retry_keeps_the_correlation_id_and_the_first_enqueue_time(push):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], ["o-trace1"])
    push.standin.inject_failure(-1, path=TEMPLATE_PATH, count=1)  # transient: one retry message
    body = {
        "type": "send",
        "job_id": "c_trace:1",
        "batch_id": "b000000",
        "appid": PLAIN_APPID,
        "content": {"content_id": "c_trace", "title": "追踪"},
        "recipients": [{"openid": "o-trace1"}],
        "correlation_id": "corr-publish-1",
        "enqueued_at": 1_700_000_000_000,
    }
    assert push_invocation.handle_records(sqs_event(body)) == {"batchItemFailures": []}

    url = queue_url(get_settings().send_queue_name)
    got = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
    retries = [json.loads(m["Body"]) for m in got.get("Messages", [])]
    assert [(r["attempt"], r["correlation_id"], r["enqueued_at"]) for r in retries] == [
        (1, "corr-publish-1", 1_700_000_000_000)
    ], retries
