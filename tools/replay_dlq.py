"""Move messages from a queue's dead-letter queue back to the queue: ``python -m tools.replay_dlq``.

    python -m tools.replay_dlq --queue push|send|manifest [--max N] [--method auto|move-task|receive]

Works against the local emulator (``make dev``) and against AWS with the
operator's credentials, for the stage in ``STAGE`` (queue names from
``chalicelib.resources``).  Consumers are idempotent (per-job and per-batch
records), so replaying a message that partly succeeded sends nothing twice.

Two ways to move:

``move-task``
    SQS's own ``StartMessageMoveTask`` (DLQ redrive): SQS moves the messages
    server-side, keeping their attributes; the command waits for the task and
    reports what moved.  The default against AWS.
``receive``
    Receive, send to the source queue, delete — ten at a time.  Used when
    ``--max`` limits the count (a move task cannot), and against the local
    emulator: moto 5.2 does not implement ``StartMessageMoveTask`` (it answers
    HTTP 500), which ``auto`` detects from ``AWS_ENDPOINT_URL`` being set.
    A crash between send and delete leaves a message in both queues; the
    consumers' idempotency makes that harmless.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from chalicelib.aws import client
from chalicelib.resources import QueueSpec, queue_specs
from chalicelib.settings import get_settings

RECEIVE_VISIBILITY = 120
COPIED_ATTRIBUTES = ("MessageGroupId", "MessageDeduplicationId")


@dataclass
class ReplayResult:
    method: str
    moved: int
    failed: int = 0
    task_handle: str | None = None


def _spec(key: str) -> QueueSpec:
    specs = {spec.key: spec for spec in queue_specs(get_settings())}
    if key not in specs:
        raise SystemExit(f"unknown queue {key!r}; one of {sorted(specs)}")
    return specs[key]


def _url_and_arn(sqs: Any, name: str) -> tuple[str, str]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def replay_by_receive(spec: QueueSpec, limit: int | None = None) -> ReplayResult:
    """Receive from the DLQ, send to the source queue, delete: at most ``limit`` messages."""
    sqs = client("sqs")
    source_url, _ = _url_and_arn(sqs, spec.name)
    dlq_url, _ = _url_and_arn(sqs, spec.dlq_name)
    moved = failed = 0
    while limit is None or moved < limit:
        want = 10 if limit is None else max(1, min(10, limit - moved))
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=want,
            WaitTimeSeconds=1,
            VisibilityTimeout=RECEIVE_VISIBILITY,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        entries = []
        for i, message in enumerate(messages):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": message["Body"]}
            if message.get("MessageAttributes"):
                entry["MessageAttributes"] = message["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=source_url, Entries=entries)
        ok = {item["Id"] for item in sent.get("Successful", [])}
        failed += len(sent.get("Failed", []))
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in ok]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
        moved += len(done)
        if failed and not done:
            break  # the source queue refuses messages: stop rather than spin
    return ReplayResult("receive", moved, failed)


def replay_by_move_task(spec: QueueSpec, *, rate: int | None = None, wait_seconds: float = 300) -> ReplayResult:
    """SQS ``StartMessageMoveTask`` from the DLQ to its source queue; waits for it to finish."""
    sqs = client("sqs")
    _, source_arn = _url_and_arn(sqs, spec.name)
    _, dlq_arn = _url_and_arn(sqs, spec.dlq_name)
    kwargs: dict[str, Any] = {"SourceArn": dlq_arn, "DestinationArn": source_arn}
    if rate:
        kwargs["MaxNumberOfMessagesPerSecond"] = rate
    handle = sqs.start_message_move_task(**kwargs)["TaskHandle"]
    deadline = time.monotonic() + wait_seconds
    moved = 0
    while time.monotonic() < deadline:
        tasks = sqs.list_message_move_tasks(SourceArn=dlq_arn, MaxResults=1).get("Results", [])
        task = tasks[0] if tasks else {}
        moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if task.get("Status") in ("COMPLETED", "CANCELLED", "FAILED"):
            failed = 0 if task.get("Status") == "COMPLETED" else 1
            return ReplayResult("move-task", moved, failed, handle)
        time.sleep(2)
    return ReplayResult("move-task", moved, 0, handle)  # still running; SQS finishes it on its own


def replay(queue_key: str, *, limit: int | None = None, method: str = "auto", rate: int | None = None) -> ReplayResult:
    spec = _spec(queue_key)
    if method == "auto":
        emulated = bool(os.environ.get("AWS_ENDPOINT_URL"))
        method = "receive" if (limit is not None or emulated) else "move-task"
    if method == "move-task":
        if limit is not None:
            raise SystemExit("--max needs --method receive: a move task cannot stop after N messages")
        return replay_by_move_task(spec, rate=rate)
    return replay_by_receive(spec, limit)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Replay a dead-letter queue into its source queue")
    parser.add_argument("--queue", required=True, choices=["push", "send", "manifest"])
    parser.add_argument("--max", type=int, default=None, help="move at most N messages")
    parser.add_argument("--method", choices=["auto", "move-task", "receive"], default="auto")
    parser.add_argument("--rate", type=int, default=None, help="move-task: messages per second")
    args = parser.parse_args(argv)
    if args.max is not None and args.max <= 0:
        parser.error("--max must be positive")
    result = replay(args.queue, limit=args.max, method=args.method, rate=args.rate)
    print(
        f"{args.queue}: moved {result.moved} message(s) back from the DLQ by {result.method}"
        + (f", {result.failed} failed" if result.failed else "")
        + (f" (task {result.task_handle})" if result.task_handle else "")
    )
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
