"""Locks that give the emulator the ordering guarantees of DynamoDB and SQS.

moto serves each request on its own thread and, where AWS promises an order,
takes no lock: a cancelled DynamoDB transaction can undo another thread's
committed one, and two SQS receivers can both take the same message.  The
product relies on both guarantees, so :func:`~devstack.moto_server.start_moto`
installs these shims before it serves a request.  They patch moto's classes
in this process only; nothing outside the local emulator is affected.
"""

from __future__ import annotations

import threading
import time

dynamodb_lock = threading.RLock()


def serialise_dynamodb() -> None:
    """Make the emulator's DynamoDB serialise requests, as DynamoDB's transactions are serialisable.

    moto runs requests on concurrent threads and implements TransactWriteItems
    by deep-copying the tables and restoring that copy when a condition fails:
    a transaction cancelled on one thread can then undo another thread's
    committed transaction (seen in tests: a de-duplication record vanished and
    a fan was counted twice).  Real DynamoDB never does that.  One lock around
    moto's DynamoDB request handling restores the guarantee the product relies
    on; it only affects the local emulator.  Idempotent.
    """
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "_kepuscreen_serialised", False):
        return
    original = DynamoHandler.call_action

    def call_action(self):
        with dynamodb_lock:
            return original(self)

    call_action._kepuscreen_serialised = True
    DynamoHandler.call_action = call_action


_sqs_lock = threading.RLock()
_SQS_SERIALISED = (
    "send_message",
    "send_message_batch",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
)


def serialise_sqs_receives() -> None:
    """Make the emulator's SQS hand a message to one receiver at a time, as SQS does within its visibility timeout.

    moto's ``receive_message`` checks ``message.visible`` and marks the message
    received with no lock: two threads long-polling one queue could both take the
    same message (seen in ``bench.push_scale``: 52 concurrent deliveries of one send
    batch in a 30,000-fan run, ~250 duplicate pushes, and moto's own
    ``list.remove(x): x not in list`` when two of them moved one message to the DLQ).
    Each receive pass now runs under one lock, without waiting inside it: a long
    poll waits on the queue's own condition between passes.  Sends, deletes and
    visibility changes take the same lock, so a pass never sees a half-updated
    queue.  Only the local emulator is affected.  Idempotent.
    """
    from moto.sqs.models import SQSBackend

    if getattr(SQSBackend.receive_message, "_kepuscreen_serialised", False):
        return
    receive = SQSBackend.receive_message

    def receive_message(
        self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None
    ):
        polling_end = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with _sqs_lock:
                got = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = polling_end - time.monotonic()
            if got or left <= 0:
                return got
            self.get_queue(queue_name).wait_for_messages(min(1.0, left))

    receive_message._kepuscreen_serialised = True
    SQSBackend.receive_message = receive_message
    for name in _SQS_SERIALISED:
        setattr(SQSBackend, name, _under_sqs_lock(getattr(SQSBackend, name)))


def _under_sqs_lock(method):
    def locked(self, *args, **kwargs):
        with _sqs_lock:
            return method(self, *args, **kwargs)

    locked.__name__ = method.__name__
    return locked
