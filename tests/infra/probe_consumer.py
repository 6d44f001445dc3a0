"""Throwaway SQS consumers copied into a scratch project by the packaging tests; never part of the product.

They exercise what the real consumers (push planner/sender, manifest
builder) will bring: event sources on the stage's queues, per-function
settings from config.json, and code whose reach the IAM derivation must find.
"""

from chalice import Blueprint

from chalicelib.aws import client
from chalicelib.models.screens import Screen
from chalicelib.services.screens.manifest_store import manifest_key
from chalicelib.settings import get_settings

bp = Blueprint(__name__)


@bp.on_sqs_message(queue=get_settings().manifest_queue_name, batch_size=10)
def probe_builder(event):
    for record in event:
        screen = Screen.get(record.body)
        client("s3").put_object(Bucket=get_settings().player_bucket, Key=manifest_key(screen.screen_id), Body=b"{}")
    return {"batchItemFailures": []}


@bp.on_sqs_message(queue=get_settings().send_queue_name, batch_size=5)
def probe_sender(event):
    from chalicelib.services.gateway.tokens import client_for

    for record in event:
        client_for(record.body)
    return {"batchItemFailures": []}
