from __future__ import annotations

import pytest
import requests
from chalice.test import Client

from app import app
from tests import support
from tests.admin.world import Api, build


@pytest.fixture
def world(aws, standin_server):
    standin_server.reset()
    return build(standin_server)


@pytest.fixture
def api(world):
    with Client(app) as client:
        yield Api(client, world.root_key)


TRACING_FIELDS = ("correlation_id", "enqueued_at")  # optional fields every message carries (chalicelib.observability)


def drain(queue: str, *, keep_tracing: bool = False) -> list[dict]:
    """Every message now on a queue ("push" or "manifest"), removed from it (without the tracing fields unless
    ``keep_tracing``)."""
    import json

    from chalicelib.aws import client, queue_url
    from chalicelib.settings import get_settings

    name = {"push": get_settings().push_queue_name, "manifest": get_settings().manifest_queue_name}[queue]
    sqs, url, out = client("sqs"), queue_url(name), []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return out
        for m in got:
            body = json.loads(m["Body"])
            out.append(body if keep_tracing else {k: v for k, v in body.items() if k not in TRACING_FIELDS})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def queues(world):
    drain("push"), drain("manifest")
    return drain


@pytest.fixture
def wechat_like_logs():
    """Powertools at DEBUG for the test: every line the service could write is written."""
    from chalicelib.logs import logger

    logger.setLevel("DEBUG")
    yield
    logger.setLevel("WARNING")


@pytest.fixture(scope="module")
def matrix_world(moto_endpoint, standin_server):
    """One world for a whole module of read-mostly cases (each case makes its own fresh objects)."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    support.reset_process_caches()
    support.provision()
    standin_server.reset()
    world = build(standin_server)
    with Client(app) as client:
        yield world, Api(client)
