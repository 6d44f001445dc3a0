"""Messages that keep failing land in the dead-letter queue; the replay command brings them back, nothing twice."""

from __future__ import annotations

import json
import time

from chalicelib.aws import client, queue_url
from chalicelib.models.push import PushJob
from chalicelib.resources import queue_specs
from chalicelib.settings import get_settings
from tests.push.conftest import TEMPLATE_PATH, seed_fans
from tests.support import PLAIN_APPID
from tools import replay_dlq


def dlq_depth(key: str) -> int:
    spec = {s.key: s for s in queue_specs(get_settings())}[key]
    attrs = client("sqs").get_queue_attributes(
        QueueUrl=queue_url(spec.dlq_name), AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_failing_batch_goes_to_the_dlq_and_replay_delivers_it_once(push, monkeypatch, capsys, moto_endpoint):
    from chalicelib.services.push import sender as push_sender

    monkeypatch.setattr(push_sender, "MAX_TRIES", 1)
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], ["o-ok", "o-down"])
    push.standin.inject_failure(-1, path=TEMPLATE_PATH, openid="o-down", http_status=503)
    job_id = push.publish(["NJ001"])
    deadline = time.monotonic() + 60
    while dlq_depth("send") == 0 and time.monotonic() < deadline:  # five receives, one second apart
        push.drain(timeout=15)
    assert dlq_depth("send") == 1
    assert push.received("o-down") == [] and len(push.received("o-ok")) == 1

    push.standin.clear_failures()
    # as under make dev, where AWS_ENDPOINT_URL tells the command it faces the emulator (no move tasks in moto);
    # the clients already made keep reaching moto in-process
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    assert replay_dlq.main(["--queue", "send"]) == 0
    assert "moved 1 message(s) back from the DLQ by receive" in capsys.readouterr().out
    push.drain()
    assert dlq_depth("send") == 0
    assert len(push.received("o-down")) == 1 and len(push.received("o-ok")) == 1
    assert PushJob.get(job_id).sent_template == 2


def test_replay_max_moves_at_most_n(aws):
    spec = {s.key: s for s in queue_specs(get_settings())}["push"]
    sqs = client("sqs")
    for i in range(3):
        body = json.dumps({"type": "plan", "job_id": f"c_{i}:1"})
        sqs.send_message(QueueUrl=queue_url(spec.dlq_name), MessageBody=body)
    result = replay_dlq.replay("push", limit=2)
    assert (result.method, result.moved) == ("receive", 2)
    assert dlq_depth("push") == 1
    moved = sqs.receive_message(QueueUrl=queue_url(spec.name), MaxNumberOfMessages=10)["Messages"]
    assert len(moved) == 2 and all(json.loads(m["Body"])["type"] == "plan" for m in moved)
