"""The pump against a real moto server: Lambda-shaped events, deletion rules, redrive to the DLQ."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsModel
from chalice import Chalice

from devstack.provisioning import QueueUrls, provision
from devstack.sqs_events import failed_ids
from devstack.sqs_pump import SqsPump
from tests.devstack.toy import toy_spec


def send(url: str, *bodies: str, **attributes: Any) -> None:
    sqs = boto3.client("sqs")
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes=attributes)


def counts(url: str) -> tuple[int, int]:
    attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def dlq_bodies(urls: QueueUrls) -> list[str]:
    got = boto3.client("sqs").receive_message(QueueUrl=urls.dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    return sorted(m["Body"] for m in got)


@pytest.fixture
def queue(moto_endpoint: str, unique: str) -> tuple[Any, QueueUrls]:
    spec = toy_spec("work", unique, max_receive_count=3, batch_size=5)
    return spec, provision([], [spec], f"toy-b-{unique}")["work"]


def test_batches_are_lambda_events_and_successes_are_deleted(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")
    seen: list[dict[str, Any]] = []
    contexts: list[Any] = []

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> None:
        seen.append(event.to_dict())
        contexts.append(event.context)
        assert [r.body for r in event]  # chalice's SQSEvent iterates records

    send(
        urls.url,
        *[f"m{i}" for i in range(7)],
        kind={"DataType": "String", "StringValue": "notice"},
        raw={"DataType": "Binary", "BinaryValue": b"\x00\x01"},
    )
    pump = SqsPump(app, specs=[spec])

    assert pump.drain(timeout=10) == 7
    assert sorted(len(e["Records"]) for e in seen) == [2, 5]
    record = seen[0]["Records"][0]
    SqsModel.model_validate(seen[0])  # powertools' schema of the real Lambda event
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == f"arn:aws-cn:sqs:cn-north-1:123456789012:{spec.name}"
    assert record["awsRegion"] == "cn-north-1"
    assert set(record["attributes"]) == {
        "ApproximateReceiveCount",
        "SentTimestamp",
        "SenderId",
        "ApproximateFirstReceiveTimestamp",
    }
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "notice",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["raw"]["binaryValue"] == "AAE="
    assert record["md5OfBody"] and record["md5OfMessageAttributes"]
    context = contexts[0]
    assert context.function_name == "toy-dev-work"
    assert context.invoked_function_arn == "arn:aws-cn:lambda:cn-north-1:123456789012:function:toy-dev-work"
    assert 0 < context.get_remaining_time_in_millis() <= spec.consumer_timeout * 1000
    assert counts(urls.url) == (0, 0)
    assert dlq_bodies(urls) == []


def test_batch_item_failures_redeliver_only_the_failed(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")
    deliveries: Counter[str] = Counter()

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> dict[str, Any]:
        failures = []
        for record in event:
            deliveries[record.body] += 1
            if record.body.startswith("bad"):
                failures.append({"itemIdentifier": record.to_dict()["messageId"]})
        return {"batchItemFailures": failures}

    send(urls.url, "ok1", "bad1", "ok2")
    pump = SqsPump(app, specs=[spec], visibility_override=0)

    assert pump.drain(timeout=10, max_rounds=1) == 3
    assert counts(urls.url) == (1, 0)  # only bad1 is back

    pump.drain(timeout=10)
    assert deliveries == {"ok1": 1, "ok2": 1, "bad1": spec.max_receive_count}
    assert counts(urls.url) == (0, 0)
    assert dlq_bodies(urls) == ["bad1"]  # moved by SQS's redrive policy, not by the pump


def test_raising_handler_redelivers_the_whole_batch(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")
    receive_counts: list[list[str]] = []

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> None:
        receive_counts.append([r.to_dict()["attributes"]["ApproximateReceiveCount"] for r in event])
        if len(receive_counts) == 1:
            raise RuntimeError("transient")

    send(urls.url, "a", "b", "c")
    assert SqsPump(app, specs=[spec], visibility_override=0).drain(timeout=10) == 6
    assert receive_counts == [["1", "1", "1"], ["2", "2", "2"]]
    assert counts(urls.url) == (0, 0)


def test_messages_reach_the_dlq_after_max_receive_count(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")
    calls: Counter[str] = Counter()

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> None:
        calls.update(r.body for r in event)
        raise ValueError("poison")

    send(urls.url, "p1", "p2")
    SqsPump(app, specs=[spec], visibility_override=0).drain(timeout=10)
    assert calls == {"p1": spec.max_receive_count, "p2": spec.max_receive_count}
    assert dlq_bodies(urls) == ["p1", "p2"]
    assert counts(urls.url) == (0, 0)


def test_without_override_failures_wait_for_the_visibility_timeout(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> None:
        raise ValueError("down")

    send(urls.url, "x")
    started = time.monotonic()
    assert SqsPump(app, specs=[spec]).drain(timeout=10) == 1
    assert time.monotonic() - started < 5  # drain does not wait out a 60 s visibility timeout
    assert counts(urls.url) == (0, 1)


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"wrong": "key"}]},
        {"not json": object()},
    ],
)
def test_invalid_batch_response_fails_the_whole_batch(queue: tuple[Any, QueueUrls], response: Any) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> Any:
        return response

    send(urls.url, "a", "b")
    SqsPump(app, specs=[spec]).drain(timeout=10, max_rounds=1)
    assert counts(urls.url) == (0, 2)


def test_without_report_batch_item_failures_everything_is_deleted(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": r.to_dict()["messageId"]} for r in event]}

    send(urls.url, "a", "b")
    SqsPump(app, specs=[spec], report_batch_item_failures=False).drain(timeout=10)
    assert counts(urls.url) == (0, 0)


def test_powertools_batch_processor_sees_valid_records(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")
    processor = BatchProcessor(event_type=EventType.SQS)
    handled: list[str] = []

    def record_handler(record: Any) -> None:
        if json.loads(record.body)["n"] == 2:
            raise ValueError("bad record")
        handled.append(record.body)

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> dict[str, Any]:
        return process_partial_response(
            event=event.to_dict(), record_handler=record_handler, processor=processor, context=event.context
        )

    send(urls.url, *[json.dumps({"n": n}) for n in range(4)])
    SqsPump(app, specs=[spec], visibility_override=0).drain(timeout=10)
    assert sorted(handled) == [json.dumps({"n": n}) for n in (0, 1, 3)]
    assert dlq_bodies(urls) == [json.dumps({"n": 2})]


def test_handlers_are_found_by_queue_arn_too(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")
    bodies: list[str] = []

    @app.on_sqs_message(queue_arn=f"arn:aws-cn:sqs:cn-north-1:123456789012:{spec.name}")
    def work(event: Any) -> None:
        bodies.extend(r.body for r in event)

    send(urls.url, "via-arn")
    assert SqsPump(app).drain(timeout=10) == 1
    assert bodies == ["via-arn"]


def test_drain_terminates_on_empty_queues(queue: tuple[Any, QueueUrls]) -> None:
    spec, _ = queue
    app = Chalice(app_name="toy")
    app.on_sqs_message(queue=spec.name)(lambda event: None)
    started = time.monotonic()
    assert SqsPump(app, visibility_override=0).drain(timeout=10) == 0
    assert time.monotonic() - started < 2


def test_run_forever_delivers_in_the_background(queue: tuple[Any, QueueUrls]) -> None:
    spec, urls = queue
    app = Chalice(app_name="toy")
    delivered = threading.Event()

    @app.on_sqs_message(queue=spec.name, batch_size=5)
    def work(event: Any) -> None:
        delivered.set()

    stop = threading.Event()
    threads = SqsPump(app, specs=[spec], wait_seconds=1).run_forever(stop)
    try:
        send(urls.url, "bg")
        assert delivered.wait(10)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert not any(t.is_alive() for t in threads)
    assert counts(urls.url) == (0, 0)


def test_run_forever_survives_a_missing_queue(moto_endpoint: str, caplog: pytest.LogCaptureFixture) -> None:
    app = Chalice(app_name="toy")
    app.on_sqs_message(queue="toy-does-not-exist")(lambda event: None)
    stop = threading.Event()
    threads = SqsPump(app).run_forever(stop)
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(5)
    assert not any(t.is_alive() for t in threads)
    assert any(r.exc_info and "toy-does-not-exist" in r.getMessage() for r in caplog.records)


def test_failed_ids_follows_lambda_rules() -> None:
    ids = ["m1", "m2"]
    assert failed_ids(None, ids) == set()
    assert failed_ids({}, ids) == set()
    assert failed_ids({"batchItemFailures": []}, ids) == set()
    assert failed_ids({"batchItemFailures": None}, ids) == set()
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids) == {"m2"}
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": None}]}, ids) is None
    assert failed_ids({"batchItemFailures": "m1"}, ids) is None
