"""Deliver SQS messages to the Chalice app's ``@app.on_sqs_message`` handlers, as Lambda would.

Locally there is no Lambda event source mapping, so this module plays its
part: receive a batch, build the exact Lambda SQS event, call the handler with
a Lambda-like context, and delete what succeeded.  Failures are *not* retried
here: they are left in the queue, SQS redelivers them after the visibility
timeout and its redrive policy moves them to the DLQ after
``maxReceiveCount`` receives -- the same machinery as in production (moto
implements redrive in server mode; ``tests/devstack`` checks it).

Result handling follows the event source mapping with
``FunctionResponseTypes=["ReportBatchItemFailures"]``:

* handler raises, times out, or returns something that is not JSON -> no
  message is deleted (whole batch retried);
* handler returns ``{"batchItemFailures": [{"itemIdentifier": id}, ...]}`` ->
  all but those are deleted; an empty/null/unknown identifier fails the whole
  batch, as Lambda does;
* anything else (``None``, ``{}``, empty list) -> all deleted.

Chalice 1.34 does **not** set ``FunctionResponseTypes`` on the mappings it
generates; without it Lambda ignores ``batchItemFailures`` and deletes the
whole batch.  The deployment template must add it; pass
``report_batch_item_failures=False`` to reproduce the unconfigured behaviour.

Lambda's hard kill at the timeout is emulated with ``kill_at_timeout=True``
and failures are injected with :data:`~devstack.lambda_runtime.faults`; both
are described in :mod:`devstack.lambda_runtime`.  Without ``kill_at_timeout``
a slow handler runs to completion, then counts as failed.  The event records
and the reading of ``batchItemFailures`` are in :mod:`devstack.sqs_events`.

Not emulated: ``maximum_batching_window_in_seconds`` (batches are whatever
one receive round returns) and concurrency limits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3
from chalice import Chalice
from chalice.app import SQSEventConfig

from chalicelib.resources import QueueSpec
from devstack.lambda_runtime import FakeLambdaContext, LambdaKilled, faults
from devstack.sqs_events import failed_ids, lambda_record, queue_of, sqs_consumers

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 60  # Chalice's default lambda_timeout


@dataclass
class _Consumer:
    """One event source mapping: a queue and the handler it invokes."""

    config: SQSEventConfig
    handler: Any
    queue_name: str
    timeout: int


class SqsPump:
    """Polls every queue the app listens on and invokes its handlers, Lambda-style.

    ``specs`` (normally ``queue_specs(settings)``) give each consumer its
    Lambda timeout, used for the context's remaining time; queues without a
    spec get Chalice's default of 60 s.  ``visibility_override`` makes failed
    messages visible again after that many seconds instead of the queue's
    visibility timeout (6x the consumer timeout): Lambda never does this, it
    exists so tests and demos need not wait minutes for a retry.
    """

    def __init__(
        self,
        app: Chalice,
        *,
        sqs_client: Any = None,
        wait_seconds: int = 1,
        specs: Iterable[QueueSpec] = (),
        visibility_override: int | None = None,
        report_batch_item_failures: bool = True,
        stage: str = "dev",
        kill_at_timeout: bool = False,
        timeouts: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.sqs = sqs_client or boto3.client("sqs")
        self.region = self.sqs.meta.region_name
        self.wait_seconds = wait_seconds
        self.visibility_override = visibility_override
        self.report_batch_item_failures = report_batch_item_failures
        self.stage = stage
        self.kill_at_timeout = kill_at_timeout
        timeouts = {**{spec.name: spec.consumer_timeout for spec in specs}, **(timeouts or {})}
        self.consumers = [
            _Consumer(config, handler, queue_of(config), timeouts.get(queue_of(config), DEFAULT_TIMEOUT_SECONDS))
            for config, handler in sqs_consumers(app)
        ]
        self._urls: dict[str, str] = {}
        self._arns: dict[str, str] = {}
        self.over_time = 0  # invocations that ran past their Lambda timeout (their whole batch counted failed)

    @property
    def queue_names(self) -> list[str]:
        return sorted({c.queue_name for c in self.consumers})

    def queue_url(self, name: str) -> str:
        """The queue's URL, resolved once."""
        if name not in self._urls:
            self._urls[name] = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._urls[name]

    def queue_arn(self, name: str) -> str:
        if name not in self._arns:
            attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url(name), AttributeNames=["QueueArn"])
            self._arns[name] = attrs["Attributes"]["QueueArn"]
        return self._arns[name]

    def pump_once(self, consumer: _Consumer, wait_seconds: int | None = None) -> int:
        """Receive one batch for ``consumer`` and invoke its handler; returns messages received."""
        url = self.queue_url(consumer.queue_name)
        messages = self._receive(
            url, consumer.config.batch_size, self.wait_seconds if wait_seconds is None else wait_seconds
        )
        if not messages:
            return 0
        arn = self.queue_arn(consumer.queue_name)
        event = {"Records": [lambda_record(m, arn, self.region) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        failed = self._invoke(consumer, event, ids)
        done = [m for m in messages if failed is not None and m["MessageId"] not in failed]
        retry = [m for m in messages if failed is None or m["MessageId"] in failed]
        self._delete(url, done)
        if retry and self.visibility_override is not None:
            self._change_visibility(url, retry, self.visibility_override)
        log.info(
            "sqs pump: %s -> %s: received=%d deleted=%d left_for_retry=%d",
            consumer.queue_name,
            consumer.config.name,
            len(messages),
            len(done),
            len(retry),
        )
        return len(messages)

    def _receive(self, url: str, batch_size: int, wait_seconds: int) -> list[dict[str, Any]]:
        # batch_size may exceed SQS's 10 per receive; Lambda gathers up to it.
        messages: list[dict[str, Any]] = []
        while len(messages) < batch_size:
            want = min(10, batch_size - len(messages))
            got = self.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=want,
                WaitTimeSeconds=wait_seconds if not messages else 0,
                AttributeNames=["All"],
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages.extend(got)
            if len(got) < want:
                break
        return messages

    def _invoke(self, consumer: _Consumer, event: dict[str, Any], ids: list[str]) -> set[str] | None:
        name = f"{self.app.app_name}-{self.stage}-{consumer.config.name}"
        context = FakeLambdaContext(name, consumer.timeout, self.region, partition=self.sqs.meta.partition)
        started = time.monotonic()
        invocation = faults.begin()
        timer = None
        if self.kill_at_timeout:
            timer = threading.Timer(consumer.timeout, invocation.kill, args=(f"{name} timed out",))
            timer.daemon = True
            timer.start()
        try:
            response = consumer.handler(event, context)
        except (Exception, LambdaKilled) as exc:
            if isinstance(exc, LambdaKilled) or invocation.killed:
                log.warning("sqs pump: handler %s was killed; %d message(s) left for retry", name, len(ids))
            else:
                log.exception("sqs pump: handler %s raised; %d message(s) left for retry", name, len(ids))
            return None
        finally:
            if timer is not None:
                timer.cancel()
            faults.end(invocation)
        if invocation.killed:
            log.warning("sqs pump: handler %s was killed; its answer is lost", name)
            return None
        elapsed = time.monotonic() - started
        if elapsed > consumer.timeout:
            self.over_time += 1
            log.error(
                "sqs pump: handler %s took %.1fs, over its %ss Lambda timeout; batch counts as failed",
                name,
                elapsed,
                consumer.timeout,
            )
            return None
        if not self.report_batch_item_failures:
            return set()
        failed = failed_ids(response, ids)
        if failed is None:
            log.error("sqs pump: handler %s returned an invalid batch response %r; whole batch failed", name, response)
        return failed

    def _delete(self, url: str, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            result = self.sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            )
            for failure in result.get("Failed", []):
                log.error("sqs pump: could not delete a message from %s: %s", url, failure)

    def _change_visibility(self, url: str, messages: list[dict[str, Any]], seconds: int) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            self.sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": seconds}
                    for i, m in enumerate(chunk)
                ],
            )

    def queue_counts(self, name: str) -> tuple[int, int]:
        """(visible + delayed, in flight) messages of a queue, as SQS approximates them."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(name),
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesDelayed",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        waiting = int(attrs["ApproximateNumberOfMessages"]) + int(attrs.get("ApproximateNumberOfMessagesDelayed", 0))
        return waiting, int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def drain(self, timeout: float = 30.0, max_rounds: int | None = None) -> int:
        """Pump every queue until nothing is left to deliver; returns messages delivered.

        Stops after a round that received nothing when no queue has visible or
        delayed messages and no in-flight message is due back soon.  In-flight
        messages are only waited for when ``visibility_override`` is set (they
        then return within that many seconds); otherwise they stay invisible
        for the queue's full visibility timeout, which a test should not wait
        for.  Also stops at ``timeout`` seconds or after ``max_rounds`` rounds.
        Short polling is used: a drain should not sleep on empty queues.
        """
        deadline = time.monotonic() + timeout
        total = rounds = 0
        while time.monotonic() < deadline and (max_rounds is None or rounds < max_rounds):
            rounds += 1
            received = sum(self.pump_once(consumer, wait_seconds=0) for consumer in self.consumers)
            total += received
            if received:
                continue
            counts = [self.queue_counts(name) for name in self.queue_names]
            waiting = sum(c[0] for c in counts)
            in_flight = sum(c[1] for c in counts)
            if not waiting and (not in_flight or self.visibility_override is None):
                break
            time.sleep(0.1)
        log.info("sqs pump: drain delivered %d message(s) in %d round(s)", total, rounds)
        return total

    def run_forever(self, stop_event: threading.Event) -> list[threading.Thread]:
        """Start one daemon thread per consumer, long-polling until ``stop_event`` is set.

        Errors (a missing queue, the emulator restarting) are logged with
        their traceback and retried after a second, so one bad queue never
        stops the others.  Returns the threads so callers can join them.
        """
        threads = [
            threading.Thread(
                target=self._loop, args=(consumer, stop_event), daemon=True, name=f"sqs-pump-{consumer.config.name}"
            )
            for consumer in self.consumers
        ]
        for thread in threads:
            thread.start()
        return threads

    def _loop(self, consumer: _Consumer, stop_event: threading.Event) -> None:
        while not stop_event.is_set():
            try:
                self.pump_once(consumer)
            except Exception:
                log.exception("sqs pump: polling %s failed; retrying in 1s", consumer.queue_name)
                stop_event.wait(1.0)
