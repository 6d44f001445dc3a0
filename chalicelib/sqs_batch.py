"""Every SQS consumer's batch handling, through Powertools' ``BatchProcessor``: one poison-message policy.

Why one module: the consumers used to disagree -- two dropped a message they
could not read, the third left it for the dead-letter queue.  Now every
consumer answers SQS the same way (the event source mappings have
``FunctionResponseTypes: [ReportBatchItemFailures]``; see infra/postprocess.py):

* a record whose handler returns is done (deleted);
* a record whose handler raises is reported in ``batchItemFailures``: SQS
  redelivers it and, after the queue's ``maxReceiveCount``, its redrive policy
  moves it to the DLQ, from where ``tools/replay_dlq.py`` brings it back;
* a body that fails its contract (not JSON, or not the queue's message model)
  is one of those, with an error log that names the message and the contract
  -- never dropped silently, so a producer bug or a bad replay can be
  inspected and replayed once fixed;
* the rest of the batch is processed regardless.

Powertools does the bookkeeping (which records failed, the response shape);
``raise_on_entire_batch_failure`` is off so that a batch whose every record
failed is still answered record by record rather than as one exception.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ValidationError

from chalicelib.logs import logger

M = TypeVar("M", bound=BaseModel)


class PoisonMessage(ValueError):
    """A queue message that fails its contract: retrying cannot help, so it is left for the DLQ."""


class ParallelBatchProcessor(BatchProcessor):
    """A ``BatchProcessor`` that runs up to ``workers`` records side by side (threads).

    For the sender, whose batches overlap one another's DynamoDB reads and
    writes with their sends.  Powertools' ``success_handler`` and
    ``failure_handler`` only append to lists, which is safe across threads.
    """

    def __init__(self, workers: int) -> None:
        super().__init__(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        self.workers = max(1, workers)

    def process(self) -> list[tuple]:
        if len(self.records) <= 1 or self.workers == 1:
            return super().process()
        with ThreadPoolExecutor(max_workers=min(self.workers, len(self.records))) as pool:
            return list(pool.map(self._process_record, self.records))


def contract(record: SQSRecord, model: type[M]) -> tuple[M, dict[str, Any]]:
    """The record's body as ``model`` (and as the plain dict it came as); ``PoisonMessage`` if it is not one."""
    try:
        body = json.loads(record.body)
        return model.model_validate(body), body
    except (ValueError, ValidationError) as exc:  # json's error and pydantic's are ValueErrors
        logger.error(
            "queue message fails its contract; reported failed, it will reach the DLQ",
            message_id=record.message_id,
            contract=model.__name__,
            error=str(exc)[:300],
        )
        raise PoisonMessage(f"message {record.message_id} is not a {model.__name__}") from exc


def consume(
    event: dict[str, Any], record_handler: Callable[[SQSRecord], Any], context: Any = None, *, workers: int = 1
) -> dict[str, Any]:
    """Run ``record_handler`` on every record of a Lambda SQS event; the partial batch response for SQS."""
    processor = ParallelBatchProcessor(workers)  # one per invocation: a processor holds its batch's state
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )


def with_failures(response: dict[str, Any], message_ids: Iterable[str]) -> dict[str, Any]:
    """``response`` with more failed messages, found after the per-record pass (batch-wide work)."""
    failures = list(response.get("batchItemFailures") or [])
    known = {f["itemIdentifier"] for f in failures}
    failures += [{"itemIdentifier": i} for i in sorted(set(message_ids) - known)]
    return {"batchItemFailures": failures}
