"""Create the app's tables, queues and bucket in the emulator, and converge them when run again.

``make dev``, the test suite and the benches all start from an empty moto and
need what the deployment has: every pynamodb model's table (keys, indexes,
TTL), each work queue with its dead-letter queue and redrive policy
(``chalicelib.resources.queue_specs``), and the player bucket.  They are built
from those same definitions, so a local run cannot drift from production's
shape, and :func:`provision` converges instead of failing on what exists, so a
long-lived emulator can be provisioned again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import boto3
from botocore.exceptions import ClientError

from chalicelib.resources import QueueSpec
from devstack.moto_server import DEFAULT_REGION

log = logging.getLogger(__name__)


class QueueUrls(NamedTuple):
    """Where one work queue and its dead-letter queue live."""

    url: str
    dlq_url: str


def _region() -> str:
    return boto3.session.Session().region_name or DEFAULT_REGION


def queue_url(name: str, sqs_client: Any = None) -> str:
    """The URL of an existing queue, by name."""
    sqs = sqs_client or boto3.client("sqs")
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]


def queue_arn(url: str, sqs_client: Any = None) -> str:
    """The ARN of a queue, as SQS reports it (``arn:aws-cn:...`` in China regions)."""
    sqs = sqs_client or boto3.client("sqs")
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def provision(
    models: Iterable[type], queue_specs: Sequence[QueueSpec], bucket_name: str, *, recreate: bool = False
) -> dict[str, QueueUrls]:
    """Create the tables, queues and bucket; safe to run again on a running emulator.

    Re-running converges instead of failing: existing tables are kept (and
    get TTL switched on if it is missing), existing queues get their
    attributes reset to the spec, an existing bucket is kept.  ``recreate``
    deletes everything first, giving empty tables and queues -- fine locally;
    real SQS would refuse to recreate a queue name for 60 seconds.
    ``models`` are pynamodb ``Model`` classes (normally
    ``chalicelib.models.ALL_MODELS``); it is a parameter so tests can pass toy
    models.  Returns queue key -> :class:`QueueUrls`.
    """
    models = list(models)
    if recreate:
        _delete_all(models, queue_specs, bucket_name)
    for model in models:
        ensure_table(model)
    urls = {spec.key: ensure_queue(spec) for spec in queue_specs}
    ensure_bucket(bucket_name)
    return urls


def ensure_table(model: Any) -> None:
    """Create ``model``'s table from its own pynamodb definition (keys, GSIs, LSIs) and enable its TTL."""
    if not model.exists():
        # pynamodb's create_table also tries to enable TTL; its errors are
        # ignored here only because ensure_ttl below does the same thing
        # idempotently and raises if it fails.
        model.create_table(billing_mode="PAY_PER_REQUEST", wait=True, ignore_update_ttl_errors=True)
        log.info("created table %s", model.Meta.table_name)
    ensure_ttl(model)


def ensure_ttl(model: Any) -> bool:
    """Enable TTL on the model's ``TTLAttribute``, if it has one; returns whether it has one.

    DynamoDB rejects ``UpdateTimeToLive`` when TTL is already enabled, so the
    current state is read first -- that is what makes re-provisioning safe.
    """
    ttl_attribute = model._ttl_attribute()  # pynamodb has no public accessor for it
    if ttl_attribute is None:
        return False
    ddb = boto3.client("dynamodb")
    table = model.Meta.table_name
    current = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        if current.get("AttributeName") != ttl_attribute.attr_name:
            raise RuntimeError(
                f"table {table} has TTL on {current.get('AttributeName')!r}, "
                f"model says {ttl_attribute.attr_name!r}; recreate the table"
            )
        return True
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute.attr_name}
    )
    log.info("enabled TTL on %s.%s", table, ttl_attribute.attr_name)
    return True


def ensure_queue(spec: QueueSpec) -> QueueUrls:
    """Create (or reset) the DLQ, then the queue redriving to it after ``max_receive_count`` receives."""
    dlq_url = _upsert_queue(spec.dlq_name, {"MessageRetentionPeriod": str(14 * 24 * 3600)})
    attributes = {
        "VisibilityTimeout": str(spec.visibility_timeout),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": queue_arn(dlq_url), "maxReceiveCount": spec.max_receive_count}
        ),
    }
    return QueueUrls(_upsert_queue(spec.name, attributes), dlq_url)


def _upsert_queue(name: str, attributes: dict[str, str]) -> str:
    # CreateQueue with attributes differing from an existing queue's fails in
    # real SQS (QueueAlreadyExists), so an existing queue is updated instead.
    sqs = boto3.client("sqs")
    try:
        url = queue_url(name, sqs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}:
            raise
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        log.info("created queue %s", name)
        return url
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def ensure_bucket(name: str) -> None:
    """Create the bucket in the configured region; an existing one of ours is fine."""
    s3 = boto3.client("s3")
    region = _region()
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**kwargs)
        log.info("created bucket %s in %s", name, region)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def _delete_all(models: Sequence[Any], queue_specs: Sequence[QueueSpec], bucket_name: str) -> None:
    for model in models:
        if model.exists():
            model.delete_table()
    sqs = boto3.client("sqs")
    for spec in queue_specs:
        for name in (spec.name, spec.dlq_name):
            try:
                sqs.delete_queue(QueueUrl=queue_url(name, sqs))
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in {
                    "AWS.SimpleQueueService.NonExistentQueue",
                    "QueueDoesNotExist",
                }:
                    raise
    bucket = boto3.resource("s3").Bucket(bucket_name)
    try:
        bucket.objects.all().delete()
        bucket.delete()
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NoSuchBucket":
            raise
