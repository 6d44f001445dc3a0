"""AWS on one machine: moto in server mode, and the resources created in it.

Why server mode rather than ``mock_aws``: the app, ``chalice local``, the
pump, a simulator and a developer's ``aws`` CLI may live in different threads
or processes, and all of them must see the same tables and queues.  A real
HTTP endpoint reached through ``AWS_ENDPOINT_URL`` gives exactly that without
any code path that exists only for local runs.

Endpoint resolution
    Nothing here passes ``endpoint_url=``.  botocore (>= 1.31) resolves the
    global ``AWS_ENDPOINT_URL`` variable for every service, and pynamodb 6.1
    builds its client with ``session.create_client(..., endpoint_url=Meta.host)``
    -- with ``Meta.host`` unset that is ``None`` and botocore's standard
    resolution applies, so pynamodb honours ``AWS_ENDPOINT_URL`` too (checked
    against pynamodb 6.1.0 / botocore 1.44).  The one catch is timing: pynamodb
    caches its connection on the model class and boto3 clients capture the
    endpoint when created, so :func:`configure_env` must run before the first
    client or model connection is made.

China regions
    moto 5.2.5 accepts ``cn-north-1``: SQS and DynamoDB return ``arn:aws-cn:``
    ARNs, a redrive policy naming an ``aws-cn`` DLQ ARN works, and S3 accepts
    ``LocationConstraint=cn-north-1`` (path-style addressing, because the
    endpoint is an IP address).  So the local default is the production
    default, ``cn-north-1``, and no fallback to ``us-east-1`` is needed.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import boto3
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from chalicelib.resources import QueueSpec

log = logging.getLogger(__name__)

DEFAULT_REGION = "cn-north-1"
DUMMY_CREDENTIAL = "testing"


class QueueUrls(NamedTuple):
    """Where one work queue and its dead-letter queue live."""

    url: str
    dlq_url: str


_dynamodb_lock = threading.RLock()


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
        with _dynamodb_lock:
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


class TransactionCopies:
    """What the emulator's transactions copied: items snapshotted, and whole tables (should stay 0)."""

    def __init__(self) -> None:
        self.transactions = 0
        self.items = 0
        self.tables = 0

    def reset(self) -> None:
        self.__init__()


transaction_copies = TransactionCopies()
_copy_scope = threading.local()


class _TableCopyGuard:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend.

    moto's ``transact_write_items`` starts with ``copy.deepcopy(table)`` of
    every table it touches and restores those copies on a cancelled
    transaction: each transaction costs time and memory proportional to the
    *tables'* size (an emulator grew to 14 GB in a 5,000-fan push).  While one
    of our shimmed transactions runs on this thread, a deep copy of a
    ``Table`` returns the table itself (the "restore" becomes a no-op) and
    the shim restores exactly the items the transaction names instead.
    Every other ``deepcopy`` (items in ``update_item``) is the real one.
    """

    def __init__(self, real) -> None:
        self._real = real

    def deepcopy(self, value, memo=None):
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table) and getattr(_copy_scope, "active", False):
            return value
        if isinstance(value, Table):
            transaction_copies.tables += 1
        return self._real.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _touched(backend, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(table, hash value, range value) of every item a transaction may write."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        if op_type == "ConditionCheck" or op.get("TableName") not in backend.tables:
            continue
        table = backend.tables[op["TableName"]]
        key = op["Item"] if op_type == "Put" else op.get("Key", {})
        if table.hash_key_attr not in key:
            continue  # moto raises a validation error for it, before writing anything
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
        touched.append((table, hash_value, range_value))
    return touched


def _snapshot(touched: list[tuple[Any, Any, Any]]) -> list[tuple[Any, Any, Any, Any, int]]:
    saved = []
    for table, hash_value, range_value in touched:
        bucket = table.items.get(hash_value)  # not get_item: the defaultdict would grow a bucket
        current = (bucket or {}).get(range_value) if table.has_range_key else bucket
        stream_length = len(table.stream_shard.items) if table.stream_shard is not None else 0
        saved.append((table, hash_value, range_value, copy.deepcopy(current), stream_length))
        transaction_copies.items += current is not None
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any, int]]) -> None:
    for table, hash_value, range_value, item, stream_length in reversed(saved):
        if table.has_range_key:
            bucket = table.items.get(hash_value)
            if item is not None:
                table.items[hash_value][range_value] = item
            elif bucket is not None:
                bucket.pop(range_value, None)
                if not bucket:
                    del table.items[hash_value]
        elif item is not None:
            table.items[hash_value] = item
        else:
            table.items.pop(hash_value, None)
        if table.stream_shard is not None:
            del table.stream_shard.items[stream_length:]  # a cancelled transaction leaves no stream records


def count_table_copies() -> None:
    """Count moto's whole-table deep copies in ``transaction_copies.tables`` (idempotent)."""
    from moto.dynamodb import models as dynamodb_models

    if not isinstance(dynamodb_models.copy, _TableCopyGuard):
        dynamodb_models.copy = _TableCopyGuard(copy)


def bounded_transactions() -> None:
    """Make the emulator's TransactWriteItems cost independent of table size.  Idempotent.

    Why: see :class:`_TableCopyGuard`.  The shim snapshots only the items the
    transaction names (Put/Update/Delete keys; ConditionChecks write
    nothing), lets moto run the transaction with whole-table copies turned
    into no-ops, and on any failure puts exactly those items back (and drops
    stream records the cancelled writes emitted), as moto's own rollback
    would have.  Requests must be serialised (:func:`serialise_dynamodb`),
    which both make true.  ``transaction_copies`` counts what was copied.
    Worth offering upstream: the same change fits moto's
    ``transact_write_items`` in a few lines.
    """
    from moto.dynamodb import models as dynamodb_models

    backend_cls = dynamodb_models.DynamoDBBackend
    count_table_copies()
    if getattr(backend_cls.transact_write_items, "_kepuscreen_bounded", False):
        return
    original = backend_cls.transact_write_items

    def transact_write_items(self, transact_items):
        with _dynamodb_lock:
            transaction_copies.transactions += 1
            saved = _snapshot(_touched(self, transact_items))
            _copy_scope.active = True
            try:
                return original(self, transact_items)
            except BaseException:
                _restore(saved)
                raise
            finally:
                _copy_scope.active = False

    transact_write_items._kepuscreen_bounded = True
    backend_cls.transact_write_items = transact_write_items


class _IndexQueryCount:
    bounded = 0  # index Queries answered without sorting the whole table


index_query_scans = _IndexQueryCount()


def bounded_index_queries() -> None:
    """Make the emulator's Query on an index cost the matching items, not the whole table.  Idempotent.

    Why: moto's ``Table.query`` on an index starts from ``all_items()``, which
    *sorts every item of the table*, for every page.  The planner pages
    through ``active_by_screen`` for each targeted screen, so at 100,000
    subscriptions each page cost seconds and a planner run outlived Lambda's
    60 s (its cursor was never saved: a livelock only the emulator has).  The
    shim hands moto, for the duration of one index Query with key equality
    conditions, only the items that match them, unsorted: moto sorts the
    matches by the index keys itself, so pages, order and LastEvaluatedKey
    are unchanged.  Requests are serialised (:func:`serialise_dynamodb`), so
    the per-call override is safe.  ``KEPU_MOTO_FULL_QUERIES=1`` keeps moto's
    own behaviour.
    """
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_kepuscreen_bounded", False):
        return
    original = Table.query

    def query(self, *args, **kwargs):
        index_name = args[7] if len(args) > 7 else kwargs.get("index_name")
        conditions = kwargs.get("hash_key_conditions") or []
        if not index_name or not conditions:
            return original(self, *args, **kwargs)

        def matching() -> list[Any]:
            found = []
            for hash_set in self.items.values():
                for item in hash_set.values() if self.range_key_attr else (hash_set,):
                    attrs = item.attrs
                    if all(attrs.get(name) is not None and attrs[name] == value for name, value in conditions):
                        found.append(item)
            return found

        index_query_scans.bounded += 1
        self.all_items = matching
        try:
            return original(self, *args, **kwargs)
        finally:
            del self.all_items

    query._kepuscreen_bounded = True
    Table.query = query


def start_moto(host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> tuple[ThreadedMotoServer, str]:
    """Start moto's HTTP server in a daemon thread; returns it and its endpoint URL.

    ``port=0`` lets the OS choose a free port, so parallel test runs and a
    running ``make dev`` never collide.  ``quiet`` raises werkzeug's logger to
    WARNING: otherwise every request of every poll is printed.  Stop the
    server with ``server.stop()``.
    """
    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    serialise_dynamodb()
    if os.environ.get("KEPU_MOTO_RACY_SQS") != "1":  # only to show moto's own behaviour
        serialise_sqs_receives()
    if os.environ.get("KEPU_MOTO_WHOLE_TABLE_COPIES") != "1":  # only to measure moto's own behaviour
        bounded_transactions()
    if os.environ.get("KEPU_MOTO_FULL_QUERIES") != "1":
        bounded_index_queries()
    count_table_copies()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=not quiet)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    endpoint_url = f"http://{bound_host}:{bound_port}"
    log.info("moto server listening on %s", endpoint_url)
    return server, endpoint_url


def configure_env(endpoint_url: str) -> dict[str, str]:
    """Point every AWS SDK client in this process (and its children) at ``endpoint_url``.

    Credentials are always replaced by dummies so a developer's real keys can
    never be used by a local run; session tokens, profiles and per-service
    endpoint overrides (``AWS_ENDPOINT_URL_<SERVICE>``) are removed because
    they would take precedence over, or be paired with, the values set here.
    The region keeps an existing ``AWS_DEFAULT_REGION``/``AWS_REGION`` and
    defaults to ``cn-north-1``.  Returns the variables set, e.g. to pass to a
    ``chalice local`` subprocess.
    """
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name in {
            "AWS_SESSION_TOKEN",
            "AWS_SECURITY_TOKEN",
            "AWS_PROFILE",
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        }:
            del os.environ[name]
    values = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
        "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
    os.environ.update(values)
    return values


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


# -- Fast reset between tests --------------------------------------------------
#
# Provisioning every table, queue and the bucket costs about 0.6 s against the
# emulator (some 150 requests), and the suite did it before each of its ~1,300
# tests: most of its wall time.  When moto runs in this process (``start_moto``),
# the data can instead be emptied in place, leaving the provisioned resources as
# they are.  Anything a test did to the resources themselves (a table or queue
# created or deleted, a bucket added) makes :func:`clear_data` refuse, and the
# caller falls back to moto's full reset and a new provisioning.

_DATA_SERVICES = ("dynamodb", "sqs", "s3", "ssm")


class ResourceSnapshot(NamedTuple):
    """The names of the provisioned resources, per (account, region)."""

    tables: frozenset[tuple[str, str, str]]
    queues: frozenset[tuple[str, str, str]]
    buckets: frozenset[tuple[str, str]]


def _backend_dicts() -> dict[str, Any]:
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends
    from moto.sqs.models import sqs_backends
    from moto.ssm.models import ssm_backends

    return {"dynamodb": dynamodb_backends, "sqs": sqs_backends, "s3": s3_backends, "ssm": ssm_backends}


def _regional(backend_dict: Any) -> Iterable[tuple[str, str, Any]]:
    for account_id, by_region in list(backend_dict.items()):
        for region, backend in list(by_region.items()):
            yield account_id, region, backend


def snapshot_resources() -> ResourceSnapshot:
    """What exists in the in-process emulator now (call right after provisioning)."""
    backends = _backend_dicts()
    tables = frozenset((a, r, name) for a, r, b in _regional(backends["dynamodb"]) for name in b.tables)
    queues = frozenset((a, r, name) for a, r, b in _regional(backends["sqs"]) for name in b.queues)
    buckets = frozenset((a, name) for a, _r, b in _regional(backends["s3"]) for name in b.buckets)
    return ResourceSnapshot(tables, queues, buckets)


def clear_data(snapshot: ResourceSnapshot) -> bool:
    """Empty every table, queue and bucket of ``snapshot`` in place; False if the resources changed.

    Items, stream records (each table gets a fresh shard, as after a new stream),
    queue messages, objects and every SSM parameter are removed; all other
    services' state is reset as moto's own reset would.  Only valid when moto
    runs in this process; DynamoDB is cleared under the same lock its requests
    take, so no request sees half-cleared tables.
    """
    if snapshot_resources() != snapshot:
        return False
    backends = _backend_dicts()
    with _dynamodb_lock:
        _clear_dynamodb(backends["dynamodb"])
    _clear_sqs(backends["sqs"])
    _clear_s3(backends["s3"])
    for _a, _r, backend in _regional(backends["ssm"]):
        backend._parameters.clear()
    _reset_other_services(kept={id(d) for d in backends.values()})
    return True


def _clear_dynamodb(backend_dict: Any) -> None:
    """Drop every item; a table with a stream gets a fresh shard, so no old record is replayed."""
    from moto.dynamodb.models.table import StreamShard

    for _a, _r, backend in _regional(backend_dict):
        for table in backend.tables.values():
            table.items.clear()
            if table.stream_shard is not None:
                table.stream_shard = StreamShard(table.account_id, table)


def _clear_sqs(backend_dict: Any) -> None:
    """Empty every queue under its own lock: visible, in-flight and deleted-receipt bookkeeping."""
    for _a, _r, backend in _regional(backend_dict):
        for queue in backend.queues.values():
            with queue._messages_lock:
                queue._messages = []
                queue._pending_messages = set()
                queue.deleted_messages = set()


def _clear_s3(backend_dict: Any) -> None:
    """Empty every bucket, unfinished multipart uploads included; the buckets stay."""
    for _a, _r, backend in _regional(backend_dict):
        for bucket in backend.buckets.values():
            bucket.keys.clear()
            bucket.multiparts.clear()


def _reset_other_services(kept: set[int]) -> None:
    """Reset every moto service not provisioned by us, as moto's own reset would."""
    from moto.core.base_backend import BackendDict

    for backend_dict in list(BackendDict._instances):
        # moto_api's own reset resets every service: the provisioned resources too.
        if id(backend_dict) in kept or backend_dict.service_name == "moto_api":
            continue
        for account_backends in list(backend_dict.values()):
            account_backends.reset()
        backend_dict.clear()
