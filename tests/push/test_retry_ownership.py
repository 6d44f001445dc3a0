"""Concurrent deliveries of one batch: a recipient handed to a retry message is never orphaned.

SQS delivers at least once, and a sender stopped by its deadline sends its
batch back, so two or three processings of one batch can overlap.  Each one
that meets transient failures hands those recipients to a retry message and
marks them ``pending`` in the batch record; a pending recipient is left to
the message that carries it.  The interleaving below once orphaned a
recipient (19 fans in a 30,000-fan bench run were never sent): its record
said "pending" for a generation no message carrying it belonged to.
"""

from __future__ import annotations

import json
import threading

import pytest

from chalicelib.aws import client, queue_url
from chalicelib.models.push import PushBatch
from chalicelib.services.push import invocation as push_invocation
from chalicelib.settings import get_settings
from devstack.lambda_runtime import faults
from tests.push.conftest import TEMPLATE_PATH, seed_fans, sqs_event
from tests.support import PLAIN_APPID

A, B, C, D, E = (f"o-own-{x}" for x in "abcde")
BATCH = {
    "type": "send",
    "job_id": "c_own:1",
    "batch_id": "b000000",
    "appid": PLAIN_APPID,
    "content": {"content_id": "c_own", "title": "重叠投递"},
    "recipients": [{"openid": o} for o in (A, B, C, D, E)],
}


def _until_calls(standin, more: int):
    """A Lambda "remaining time" that runs out once the stand-in has seen ``more`` further template calls."""
    limit = len(standin.calls(TEMPLATE_PATH)) + more
    return lambda: 900_000 if len(standin.calls(TEMPLATE_PATH)) < limit else 0


@pytest.fixture
def batch_fans(push):
    seed_fans(push.standin, PLAIN_APPID, ["NJ001"], [A, B, C, D, E])
    yield
    faults.clear()


def test_three_overlapping_deliveries_leave_no_recipient_without_a_message(push, batch_fans, monkeypatch):
    """W, X and R process the same batch message; W's last write lands after the other two.

    * W reads the (empty) record, sends all five, E fails; W hands E to a retry message and stalls at its write.
    * X reads the empty record too, sends A and B (A fails), hands A to a retry and stops at its deadline.
    * R reads X's record, leaves A to X's retry, sends C (fails), hands C to a retry, stops at its deadline.
    * W's write merges with theirs.

    Formerly R's retry was a newer generation that took over "the batch's pending recipients" as R had read
    them (A); W's E, merged in afterwards, then belonged to R's generation, which did not carry it, while W's
    own retry message, an older generation, skipped it: E was never sent.
    """
    standin = push.standin
    w_thread: list[threading.Thread] = []
    w_at_write, release_w = threading.Event(), threading.Event()

    def stall_ws_write(service, operation, params):
        if operation == "TransactWriteItems" and threading.current_thread() in w_thread and not release_w.is_set():
            w_at_write.set()
            release_w.wait(30)
        return None

    faults.on_aws(stall_ws_write)

    def run_w():
        invocation = faults.begin()  # W is an emulated invocation: the stall applies to it alone
        try:
            push_invocation.handle_records(sqs_event(BATCH))
        finally:
            faults.end(invocation)

    standin.inject_failure(-1, path=TEMPLATE_PATH, count=1, openid=E)
    w_thread.append(threading.Thread(target=run_w))
    w_thread[0].start()
    assert w_at_write.wait(30), "W never reached its last write"
    try:
        monkeypatch.setenv("PUSH_SENDS_IN_FLIGHT", "2")  # X: one wave of two, then out of time
        standin.inject_failure(-1, path=TEMPLATE_PATH, count=1, openid=A)
        assert push_invocation.handle_records(sqs_event(BATCH), remaining_ms=_until_calls(standin, 2)) == {
            "batchItemFailures": []
        }
        monkeypatch.setenv("PUSH_SENDS_IN_FLIGHT", "1")  # R: one wave of one, then out of time
        standin.inject_failure(-1, path=TEMPLATE_PATH, count=1, openid=C)
        assert push_invocation.handle_records(sqs_event(BATCH), remaining_ms=_until_calls(standin, 1)) == {
            "batchItemFailures": []
        }
    finally:
        release_w.set()
        w_thread[0].join(30)
    monkeypatch.delenv("PUSH_SENDS_IN_FLIGHT")

    push.drain(timeout=60)  # the retries and the batches sent back by the deadline, WeChat healthy now
    lost = [o for o in (A, B, C, D, E) if not push.received(o, "c_own")]
    assert lost == []
    record = PushBatch.get("c_own:1", "b000000", consistent_read=True)
    assert set(record.done or ()) == {A, B, C, D, E} and not record.pending


def test_a_retry_stopped_by_its_deadline_keeps_the_recipients_it_did_not_start(push, batch_fans, monkeypatch):
    """The simplest form, found by the generative ledger test: no overlap at all.

    A retry message (attempt 1) carries A and B; its one wave sends A, which fails again, and the deadline stops
    it before B.  A goes to a newer retry message (attempt 2) and the message itself goes back for B.  Formerly
    B, still pending, then counted as the newer attempt's, which does not carry him: both messages skipped him.
    """
    standin = push.standin
    first = {**BATCH, "recipients": [{"openid": A}, {"openid": B}]}
    standin.inject_failure(-1, path=TEMPLATE_PATH, count=2, openid=A)
    standin.inject_failure(-1, path=TEMPLATE_PATH, count=1, openid=B)
    push_invocation.handle_records(sqs_event(first))  # A and B fail: both handed to one retry message, attempt 1
    retry = _take_the_one_queued_send()
    assert retry["attempt"] == 1 and {r["openid"] for r in retry["recipients"]} == {A, B}
    monkeypatch.setenv("PUSH_SENDS_IN_FLIGHT", "1")
    push_invocation.handle_records(sqs_event(retry), remaining_ms=_until_calls(standin, 1))  # A fails, out of time
    monkeypatch.delenv("PUSH_SENDS_IN_FLIGHT")
    push.drain(timeout=60)  # A's newer retry, and the retry sent back for B
    assert [o for o in (A, B) if not push.received(o, "c_own")] == []
    assert not PushBatch.get("c_own:1", "b000000", consistent_read=True).pending


def _take_the_one_queued_send() -> dict:
    """Receive (and delete) the one message on the send queue, as the send function's poller would."""
    sqs, url = client("sqs"), queue_url(get_settings().send_queue_name)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    assert len(messages) == 1, messages
    sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    return json.loads(messages[0]["Body"])
