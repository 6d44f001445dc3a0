"""SQS consumers of the push pipeline and the daily digest schedule.

Thin: parse the Lambda event, call ``push_planner`` / ``push_sender`` /
``push_digest``, and answer SQS with ``batchItemFailures`` so only the failed
messages come back (the event source mapping needs
``FunctionResponseTypes: [ReportBatchItemFailures]``; see docs/push.md).
Importing this module installs the shared DynamoDB token provider for the
whole app: every function of the app is built from ``app.py``, which imports
every blueprint.
"""

from __future__ import annotations

import json

from chalice import Blueprint, Cron

from chalicelib.logs import logger
from chalicelib.observability import correlate, event_handler, sqs_handler
from chalicelib.resources import queue_specs
from chalicelib.services import tokens
from chalicelib.services.push import digest as push_digest
from chalicelib.services.push import planner as push_planner
from chalicelib.services.push import sender as push_sender
from chalicelib.settings import get_settings

bp = Blueprint(__name__)
tokens.install_shared_provider()

_specs = {spec.key: spec for spec in queue_specs(get_settings())}


def _records(event) -> list[tuple[str, str]]:
    return [(record.to_dict()["messageId"], record.body) for record in event]


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
    failures = []
    for message_id, body in _records(event):
        try:
            payload = json.loads(body)
        except ValueError:
            logger.error("push message is not JSON; dropped", message_id=message_id)
            continue
        correlate(payload)
        try:
            result = push_planner.plan(payload, remaining)
            logger.info("push planner", job_id=payload.get("job_id"), status=result.status)
        except ValueError as exc:
            logger.error("invalid push message dropped", error=str(exc)[:300])
        except Exception:
            logger.exception("push planning failed; SQS will redeliver", message_id=message_id)
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


@bp.on_sqs_message(queue=_specs["send"].name, batch_size=_specs["send"].batch_size, name="push_sender")
@sqs_handler
def send_pushes(event):
    """Send batches: ≤ 100 recipients of one account each."""
    failed = push_sender.handle_records(_records(event), _remaining(event))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


@bp.schedule(Cron(0, 12, "*", "*", "?", "*"), name="push_digest")
@event_handler
def daily_digest(event):
    """20:00 China time: subscription accounts' tag digests of the day's parked items."""
    return push_digest.send_all_digests()
