"""Provisioning into the moto server: tables from pynamodb models, queues with DLQs, the bucket."""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.request

import boto3
import pytest

from devstack.moto_server import configure_env, start_moto
from devstack.provisioning import provision, queue_arn
from tests.devstack.toy import toy_models, toy_spec


def test_start_moto_listens_on_a_free_local_port() -> None:
    server, endpoint_url = start_moto()
    try:
        assert endpoint_url.startswith("http://127.0.0.1:")
        assert int(endpoint_url.rsplit(":", 1)[1]) > 0
        with urllib.request.urlopen(f"{endpoint_url}/moto-api/data.json", timeout=5) as response:
            assert response.status == 200
    finally:
        server.stop()


def test_configure_env_keeps_region_and_replaces_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "environ", dict(os.environ))  # everything set below is undone
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "cn-northwest-1",
            "AWS_ACCESS_KEY_ID": "AKIAREAL",
            "AWS_SESSION_TOKEN": "real",
            "AWS_ENDPOINT_URL_SQS": "http://elsewhere",
        }
    )
    values = configure_env("http://127.0.0.1:1")
    assert values["AWS_DEFAULT_REGION"] == os.environ["AWS_REGION"] == "cn-northwest-1"
    assert os.environ["AWS_ACCESS_KEY_ID"] == os.environ["AWS_SECRET_ACCESS_KEY"] == "testing"
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert "AWS_SESSION_TOKEN" not in os.environ and "AWS_ENDPOINT_URL_SQS" not in os.environ


def test_configure_env_defaults_to_china(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        os, "environ", {k: v for k, v in os.environ.items() if k not in {"AWS_DEFAULT_REGION", "AWS_REGION"}}
    )
    assert configure_env("http://127.0.0.1:1")["AWS_DEFAULT_REGION"] == "cn-north-1"


def test_provision_twice_creates_everything_once(moto_endpoint: str, unique: str) -> None:
    models = toy_models(unique)
    specs = [toy_spec("push", unique, max_receive_count=4, consumer_timeout=20), toy_spec("send", unique)]
    bucket = f"toy-player-{unique}"

    first = provision(models, specs, bucket)
    second = provision(models, specs, bucket)  # "can be started again without errors"

    assert first == second
    assert set(first) == {"push", "send"}
    ddb = boto3.client("dynamodb")
    screens = ddb.describe_table(TableName=models[0].Meta.table_name)["Table"]
    assert screens["TableArn"].startswith("arn:aws-cn:dynamodb:cn-north-1:")
    assert screens["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert [g["IndexName"] for g in screens["GlobalSecondaryIndexes"]] == ["by_unit"]
    ttl = ddb.describe_time_to_live(TableName=models[0].Meta.table_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    no_ttl = ddb.describe_time_to_live(TableName=models[1].Meta.table_name)["TimeToLiveDescription"]
    assert no_ttl["TimeToLiveStatus"] == "DISABLED"

    sqs = boto3.client("sqs")
    attrs = sqs.get_queue_attributes(QueueUrl=first["push"].url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "120"
    redrive = json.loads(attrs["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == queue_arn(first["push"].dlq_url)
    assert redrive["deadLetterTargetArn"] == f"arn:aws-cn:sqs:cn-north-1:123456789012:toy-push-{unique}-dlq"
    assert int(redrive["maxReceiveCount"]) == 4

    s3 = boto3.client("s3")
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "cn-north-1"


def test_models_reach_moto_through_aws_endpoint_url(
    moto_endpoint: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # the tests' own calls stay in-process without it
    screen_model, _ = toy_models(unique)
    provision([screen_model], [], f"toy-b-{unique}")
    screen_model(screen_id="s1", unit_id="u1", created=1).save()
    assert [s.screen_id for s in screen_model.by_unit.query("u1")] == ["s1"]
    # pynamodb 6.1 leaves endpoint_url=None when Meta.host is unset; botocore fills it in.
    assert screen_model._get_connection().connection.client.meta.endpoint_url == moto_endpoint


def test_provision_converges_changed_queue_spec(moto_endpoint: str, unique: str) -> None:
    provision([], [toy_spec("push", unique, max_receive_count=3)], f"toy-b-{unique}")
    urls = provision([], [toy_spec("push", unique, max_receive_count=7, consumer_timeout=5)], f"toy-b-{unique}")
    attrs = boto3.client("sqs").get_queue_attributes(QueueUrl=urls["push"].url, AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"])["maxReceiveCount"] == 7
    assert attrs["VisibilityTimeout"] == "30"


def test_recreate_starts_empty(moto_endpoint: str, unique: str) -> None:
    models, specs, bucket = toy_models(unique), [toy_spec("push", unique)], f"toy-b-{unique}"
    urls = provision(models, specs, bucket)
    models[0](screen_id="s1", unit_id="u1", created=1).save()
    boto3.client("sqs").send_message(QueueUrl=urls["push"].url, MessageBody="x")
    boto3.client("s3").put_object(Bucket=bucket, Key="manifest.json", Body=b"{}")

    urls = provision(models, specs, bucket, recreate=True)

    assert models[0].count() == 0
    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=urls["push"].url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"
    assert boto3.client("s3").list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=models[0].Meta.table_name)
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


def test_concurrent_receivers_never_get_the_same_message(
    moto_endpoint: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQS hands a message to one receiver within its visibility timeout; moto alone did not (two threads could
    both take it), which made the push benches count duplicates the product does not make.

    moto's window between "is it visible?" and "mark it received" is widened to 2 ms, as a loaded machine does.
    """
    from moto.sqs.models import Message

    mark_received = Message.mark_received

    def slow_mark_received(self, *args, **kwargs):
        time.sleep(0.002)
        return mark_received(self, *args, **kwargs)

    monkeypatch.setattr(Message, "mark_received", slow_mark_received)
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    url = sqs.create_queue(QueueName=f"race-{unique}")["QueueUrl"]
    for start in range(0, 200, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(start + i)} for i in range(10)])
    received: list[str] = []
    lock = threading.Lock()

    def drain() -> None:
        client = boto3.client("sqs", endpoint_url=moto_endpoint)
        while True:
            got = client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=120
            ).get("Messages", [])
            if not got:
                return
            with lock:
                received.extend(m["Body"] for m in got)

    threads = [threading.Thread(target=drain) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(received, key=int) == [str(i) for i in range(200)]
