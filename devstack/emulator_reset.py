"""Empty the in-process emulator between tests, leaving the provisioned resources in place.

Provisioning every table, queue and the bucket costs about 0.6 s against the
emulator (some 150 requests), and the suite did it before each of its ~1,300
tests: most of its wall time.  When moto runs in this process
(:func:`~devstack.moto_server.start_moto`), the data can instead be emptied in
place, leaving the provisioned resources as they are.  Anything a test did to
the resources themselves (a table or queue created or deleted, a bucket added)
makes :func:`clear_data` refuse, and the caller falls back to moto's full reset
and a new provisioning (``tests.support.reset_emulator``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from devstack.moto_locks import dynamodb_lock


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
    with dynamodb_lock:
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
