"""Deliver DynamoDB stream records to the app's ``@app.on_dynamodb_record`` handlers, as Lambda would.

Locally there is no event source mapping, so this plays its part: for each
handler, find its table's stream (moto implements DynamoDB Streams), read
every shard from where the last round stopped with GetRecords, build the
Lambda event (``Records`` with ``eventID``, ``eventName``,
``eventSourceARN``, ``dynamodb.{Keys,NewImage,OldImage,SequenceNumber,
ApproximateCreationDateTime}``, ...) in batches of the handler's
``batch_size`` and call the handler.  A handler that raises gets the same
batch again next round (Lambda retries a stream batch until it succeeds;
records behind it wait, as on a real shard).

Handlers are matched to tables by the table name in their ``stream_arn``
(``arn:...:table/<name>/stream/...``), so the deployment's ARNs and the
emulator's (whose stream labels differ) need not agree.

Not emulated: ``maximum_batching_window_in_seconds``, parallelisation
factor, bisect-on-error, and on-failure destinations.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
from chalice import Chalice
from chalice.app import DynamoDBEventConfig

from devstack.lambda_runtime import FakeLambdaContext

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_SECONDS = 60
DESCRIBE_EVERY_SECONDS = 5.0


@dataclass
class _Consumer:
    config: DynamoDBEventConfig
    handler: Any
    table: str
    stream_arn: str | None = None
    iterators: dict[str, str | None] = field(default_factory=dict)  # shard id -> next iterator (None: closed)
    pending: list[dict[str, Any]] = field(default_factory=list)  # read but not yet delivered successfully
    attached_at: float = float("-inf")  # when the stream and its shards were last described


def table_of(stream_arn: str) -> str:
    return stream_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]


def stream_consumers(app: Chalice) -> list[tuple[DynamoDBEventConfig, Any]]:
    return [(src, app.handler_map[src.name]) for src in app.event_sources if isinstance(src, DynamoDBEventConfig)]


def _lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = created.timestamp()  # Lambda sends epoch seconds
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


class StreamPump:
    """Polls the streams of every table the app listens on and invokes its handlers, Lambda-style."""

    def __init__(
        self,
        app: Chalice,
        *,
        ddb_client: Any = None,
        streams_client: Any = None,
        stage: str = "dev",
        starting_position: str = "TRIM_HORIZON",
        describe_every: float = DESCRIBE_EVERY_SECONDS,
    ) -> None:
        self.app = app
        self.ddb = ddb_client or boto3.client("dynamodb")
        self.streams = streams_client or boto3.client("dynamodbstreams")
        self.region = self.ddb.meta.region_name
        self.stage = stage
        self.starting_position = starting_position
        self.consumers = [
            _Consumer(config, handler, table_of(config.stream_arn)) for config, handler in stream_consumers(app)
        ]
        self.delivered = 0
        self.describe_every = describe_every

    def _attach(self, consumer: _Consumer) -> None:
        """Find the table's stream and its shards; at most every ``describe_every`` seconds while attached.

        Polling four times a second, describing three tables and streams on
        every round cost the emulator six requests per round beside the
        GetRecords: under a burst it spent its time on those.  Lambda's poller
        likewise keeps its shard iterators and only re-lists shards now and then.
        """
        now = time.monotonic()
        if consumer.iterators and now - consumer.attached_at < self.describe_every:
            return
        consumer.attached_at = now
        arn = self.ddb.describe_table(TableName=consumer.table)["Table"].get("LatestStreamArn")
        if arn is None:
            raise RuntimeError(f"table {consumer.table} has no stream; set Meta.stream_view_type on its model")
        if arn != consumer.stream_arn:  # a new table (e.g. the emulator was reset): start over
            consumer.stream_arn, consumer.iterators, consumer.pending = arn, {}, []
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"].get("Shards", [])
        for shard in shards:
            if shard["ShardId"] not in consumer.iterators:
                consumer.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType=self.starting_position,
                )["ShardIterator"]

    def _read(self, consumer: _Consumer) -> None:
        for shard_id, iterator in list(consumer.iterators.items()):
            while iterator:
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records = response.get("Records", [])
                consumer.pending.extend(records)
                iterator = response.get("NextShardIterator")
                consumer.iterators[shard_id] = iterator
                if not records:
                    break

    def pump_once(self, consumer: _Consumer) -> int:
        """Read what is new on the consumer's stream and deliver it in batches; returns records delivered."""
        self._attach(consumer)
        self._read(consumer)
        delivered = 0
        while consumer.pending:
            batch = consumer.pending[: consumer.config.batch_size]
            event = {"Records": [_lambda_record(r, consumer.stream_arn or "", self.region) for r in batch]}
            name = f"{self.app.app_name}-{self.stage}-{consumer.config.name}"
            try:
                consumer.handler(
                    event,
                    FakeLambdaContext(name, DEFAULT_TIMEOUT_SECONDS, self.region, partition=self.ddb.meta.partition),
                )
            except Exception:
                log.exception("stream pump: handler %s raised; its batch of %d is retried next round", name, len(batch))
                break
            del consumer.pending[: len(batch)]
            delivered += len(batch)
        self.delivered += delivered
        return delivered

    def drain(self, timeout: float = 30.0) -> int:
        """Deliver until a round finds nothing new on any stream; returns records delivered."""
        deadline = time.monotonic() + timeout
        total = 0
        while time.monotonic() < deadline:
            got = sum(self.pump_once(consumer) for consumer in self.consumers)
            total += got
            if not got and not any(c.pending for c in self.consumers):
                break
        return total

    def run_forever(self, stop_event: threading.Event, interval: float = 1.0) -> threading.Thread:
        """One daemon thread polling every stream each ``interval`` seconds until ``stop_event`` is set."""

        def loop() -> None:
            while not stop_event.is_set():
                try:
                    for consumer in self.consumers:
                        self.pump_once(consumer)
                except Exception:
                    log.exception("stream pump: polling failed; retrying")
                stop_event.wait(interval)

        thread = threading.Thread(target=loop, daemon=True, name="stream-pump")
        thread.start()
        return thread
