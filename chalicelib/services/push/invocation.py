"""One invocation of the push sender function: the SQS event in, the partial batch response out.

An invocation's batches share what bounds it as a whole: the Lambda deadline
(``pacing.Deadline``: no wave starts that could not be sent and recorded in
time) and one ``SendWindow``, the duplicate bound, however many batches run
side by side.  A batch the deadline stopped, or never started, goes back to
the send queue as it is; a batch that must be redelivered is reported in
``batchItemFailures``.  What happens to one batch is ``sender.process``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib import observability, sqs_batch
from chalicelib.aws import send_json_batch
from chalicelib.logs import logger
from chalicelib.services.push import metrics, sender
from chalicelib.services.push.channels import RetryLater
from chalicelib.services.push.ledger import LedgerWriteFailed
from chalicelib.services.push.messages import SendMessage
from chalicelib.services.push.pacing import Deadline, SendWindow, sends_in_flight
from chalicelib.settings import get_settings

BATCHES_IN_PARALLEL = 5


class _Invocation:
    """One sender invocation: its deadline, its send window (the duplicate bound) and the batches sent back.

    The batches of one invocation run side by side (one's DynamoDB reads and
    writes overlap another's sends) while the invocation's unrecorded sends
    stay within one ``SendWindow``.
    """

    def __init__(self, remaining_ms: Callable[[], int] | None, sends: ThreadPoolExecutor, window: SendWindow) -> None:
        self.deadline = Deadline(remaining_ms)
        self.window, self.sends = window, sends
        self.back: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def handle(self, record: SQSRecord) -> None:
        """One batch message; raises (so the processor reports it failed) when SQS must redeliver it."""
        _message, body = sqs_batch.contract(record, SendMessage)
        observability.correlate(body)  # this worker thread's batch
        if not self.deadline.can_start_wave():
            self._send_back(record.message_id, body)
            return
        try:
            sender.process(body, slots=self.window, deadline=self.deadline, pool=self.sends)
        except sender.DeadlineReached:
            self._send_back(record.message_id, body)
        except RetryLater as exc:
            logger.warning("push batch left for SQS redelivery", reason=str(exc))
            raise
        except LedgerWriteFailed as exc:
            logger.error("push batch could not be recorded; SQS will redeliver it", reason=str(exc))
            raise
        except Exception:
            logger.exception("push batch failed; SQS will redeliver it")
            raise

    def _send_back(self, message_id: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.back.append((message_id, body))

    def re_enqueue(self) -> list[str]:
        """Batches the deadline stopped (or never started), re-enqueued as they are; the ids that could not be.

        Re-enqueued rather than failed: a failure would count a receive
        towards the DLQ for a batch that did nothing wrong.
        """
        if not self.back:
            return []
        try:
            send_json_batch(get_settings().send_queue_name, [body for _id, body in self.back])
        except Exception:
            logger.exception("could not re-enqueue batches stopped by the deadline; SQS will redeliver them")
            return [message_id for message_id, _body in self.back]
        return []


def handle_records(
    event: dict[str, Any], remaining_ms: Callable[[], int] | None = None, context: Any = None
) -> dict[str, Any]:
    """A Lambda SQS event of send messages → the partial batch response (``batchItemFailures``).

    Through ``sqs_batch`` (Powertools' BatchProcessor): a message that fails
    the ``SendMessage`` contract, a batch that must be redelivered
    (``RetryLater``: transient failures past ``sender.MAX_TRIES``, or counts
    the batch could not yet flush into the job) and a batch that could not
    be recorded are reported failed; the rest of the batch goes on.
    """
    window = SendWindow(sends_in_flight())  # shared by the invocation's batches: the duplicate bound
    with ThreadPoolExecutor(max_workers=window.size) as sends:
        run = _Invocation(remaining_ms, sends, window)
        response = sqs_batch.consume(event, run.handle, context, workers=BATCHES_IN_PARALLEL)
    response = sqs_batch.with_failures(response, run.re_enqueue())
    metrics.flush()
    return response
