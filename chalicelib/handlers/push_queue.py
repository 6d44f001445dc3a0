"""SQS consumers of the push pipeline and the daily digest schedule.

Thin: the records go through ``chalicelib.sqs_batch`` (Powertools'
BatchProcessor, one poison-message policy: a message that fails its contract
or its processing is reported in ``batchItemFailures`` and reaches the DLQ
after the queue's receive limit), each to ``push.planner`` / ``push.invocation``;
the schedule calls ``push.digest`` (the event source mapping needs
``FunctionResponseTypes: [ReportBatchItemFailures]``; see docs/push.md).
Importing this module installs the shared DynamoDB token provider for the
whole app: every function of the app is built from ``app.py``, which imports
every blueprint.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice import Blueprint, Cron

from chalicelib import sqs_batch
from chalicelib.logs import logger
from chalicelib.observability import correlate, event_handler, sqs_handler
from chalicelib.resources import queue_specs
from chalicelib.services.gateway import tokens
from chalicelib.services.push import digest as push_digest
from chalicelib.services.push import invocation as push_invocation
from chalicelib.services.push import planner as push_planner
from chalicelib.services.push.messages import PublishMessage
from chalicelib.settings import get_settings

bp = Blueprint(__name__)
tokens.install_shared_provider()

_specs = {spec.key: spec for spec in queue_specs(get_settings())}


def _remaining(event):
    context = getattr(event, "context", None)
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return context.get_remaining_time_in_millis


@bp.on_sqs_message(queue=_specs["push"].name, batch_size=_specs["push"].batch_size, name="push_planner")
@sqs_handler
def plan_pushes(event):
    """Publish jobs and plan continuations: pages subscribers, emits send batches."""
    remaining = _remaining(event) or (lambda: 60_000)

    def plan_one(record: SQSRecord) -> None:
        message, body = sqs_batch.contract(record, PublishMessage)
        correlate(body)
        try:
            result = push_planner.plan(body, remaining)
        except Exception:
            logger.exception(
                "push planning failed; SQS will redeliver", message_id=record.message_id, job_id=message.job_id
            )
            raise
        logger.info("push planner", job_id=message.job_id, status=result.status)

    return sqs_batch.consume(event.to_dict(), plan_one, getattr(event, "context", None))


@bp.on_sqs_message(queue=_specs["send"].name, batch_size=_specs["send"].batch_size, name="push_sender")
@sqs_handler
def send_pushes(event):
    """Send batches: ≤ 100 recipients of one account each."""
    return push_invocation.handle_records(event.to_dict(), _remaining(event), getattr(event, "context", None))


@bp.schedule(Cron(0, 12, "*", "*", "?", "*"), name="push_digest")
@event_handler
def daily_digest(event):
    """20:00 China time: subscription accounts' tag digests of the day's parked items."""
    return push_digest.send_all_digests()
