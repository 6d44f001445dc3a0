"""Shared bench plumbing: an in-process emulated AWS and a counter of AWS requests.

Requests are counted at botocore's ``_make_api_call``: every boto3 and pynamodb
call passes through it, so the count is exactly what AWS would bill.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from contextlib import contextmanager

import botocore.client


def start_local_aws() -> str:
    """moto server on a free port in this process, the environment pointed at it, everything provisioned."""
    os.environ.setdefault("STAGE", "bench")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    from devstack.moto_server import start_moto

    _server, endpoint = start_moto()
    provision_local_aws(endpoint)
    return endpoint


def provision_local_aws(endpoint: str) -> None:
    """Point this process at the emulator at ``endpoint`` and create every table, queue and the bucket."""
    from chalicelib.models import ALL_MODELS
    from chalicelib.resources import queue_specs
    from chalicelib.secrets import ensure_app_signing_key
    from chalicelib.settings import get_settings
    from devstack.moto_server import configure_env
    from devstack.provisioning import provision

    configure_env(endpoint)
    get_settings.cache_clear()
    settings = get_settings()
    provision(ALL_MODELS, queue_specs(settings), settings.player_bucket)
    ensure_app_signing_key()


class AwsRequestCounter:
    """Counts AWS API calls by (service, operation) while active."""

    def __init__(self, classify=None) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.kinds: Counter[str] = Counter()  # by ``classify(service, operation, params)``, when given
        self.kind_seconds: Counter[str] = Counter()  # wall time waiting on AWS, by the same labels
        self._classify = classify
        self.seconds = 0.0  # wall time spent waiting on AWS (the emulator, here)
        self._lock = threading.Lock()
        self._original = botocore.client.BaseClient._make_api_call

    def install(self) -> None:
        counter = self

        def counting(client, operation_name, api_params):
            started = time.perf_counter()
            result = None
            try:
                result = counter._original(client, operation_name, api_params)
                return result
            finally:
                service = client.meta.service_model.service_name
                kind = counter._classify(service, operation_name, api_params) if counter._classify else None
                if kind and operation_name == "ReceiveMessage" and not (result or {}).get("Messages"):
                    kind += ", empty (idle long poll)"
                with counter._lock:
                    counter.calls[(service, operation_name)] += 1
                    counter.seconds += time.perf_counter() - started
                    if kind:
                        counter.kinds[kind] += 1
                        counter.kind_seconds[kind] += time.perf_counter() - started

        botocore.client.BaseClient._make_api_call = counting

    def uninstall(self) -> None:
        botocore.client.BaseClient._make_api_call = self._original

    @contextmanager
    def measure(self):
        before = Counter(self.calls)
        result: Counter[tuple[str, str]] = Counter()
        yield result
        result.update({k: v - before.get(k, 0) for k, v in self.calls.items() if v - before.get(k, 0)})

    @contextmanager
    def measure_kinds(self):
        """Like ``measure``, for the ``classify`` labels."""
        before = Counter(self.kinds)
        result: Counter[str] = Counter()
        yield result
        result.update({k: v - before.get(k, 0) for k, v in self.kinds.items() if v - before.get(k, 0)})

    @staticmethod
    def total(counts: Counter, service: str | None = None) -> int:
        return sum(v for (svc, _op), v in counts.items() if service in (None, svc))


def push_request_kind(service: str, operation: str, params: dict) -> str:
    """What a push pipeline's AWS request is for: the breakdown the fan-out and scale benches print."""

    def table_of(name: str) -> str:
        return name.rsplit("-", 1)[-1] if name else "?"

    if service == "dynamodb":
        if operation == "TransactWriteItems":
            tables = {table_of(next(iter(op.values())).get("TableName", "")) for op in params.get("TransactItems", [])}
            if tables & {"push_jobs", "push_quota", "daily_stats", "push_msg_routes"}:
                return "ddb flush (progress + hot counters, one transaction)"
            if "push_batches" in tables:
                return "ddb checkpoint (wave progress)"
            return "ddb transaction (other: " + ",".join(sorted(tables)) + ")"
        if operation == "BatchGetItem":
            tables = {table_of(t) for t in params.get("RequestItems", {})}
            return "ddb batch read (record, quota, fans)" if "push_batches" in tables else "ddb batch read (other)"
        table = table_of(params.get("TableName", ""))
        if table == "access_tokens":
            return "ddb token read/write"
        if table == "accounts":
            return "ddb account read"
        if table == "push_jobs":
            return f"ddb planner job {operation}"
        if operation == "Query":
            return "ddb planner subscriber query"
        return f"ddb {operation} {table}"
    if service == "sqs":
        return f"sqs {operation}"
    return f"{service} {operation}"
