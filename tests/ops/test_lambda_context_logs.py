"""Every log line of a Lambda invocation names the function, the request id and whether it was a cold start.

CloudWatch Logs Insights finds one invocation's lines by ``function_request_id``
(what ``Logger.inject_lambda_context`` adds); a line without it cannot be tied
to the invocation that wrote it.  Each case calls a deployed function's real
handler, as Lambda does (``handler(event, context)``) with a context object
shaped like Lambda's, and reads back the JSON lines the Powertools Logger writes.
None of these invocations reaches AWS: each is refused or skipped before any call.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from chalicelib.logs import logger
from tests.support import fresh_python


@dataclass
class FakeLambdaContext:
    """The attributes of Lambda's Python context object that the logs read."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws-cn:lambda:cn-north-1:123456789012:function:kepuscreen-test-fn"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@contextmanager
def captured_lines() -> Iterator[list[dict[str, Any]]]:
    """The Logger's JSON lines written inside the block, at INFO and above."""
    stream = io.StringIO()
    lines: list[dict[str, Any]] = []
    previous_level = logger.log_level
    # Only the Logger's own handler: pytest's capture and live-logging handlers may sit beside it in a full run.
    streams = [logger.registered_handler]
    previous_streams = [handler.setStream(stream) for handler in streams]
    logger.setLevel("INFO")
    try:
        yield lines
    finally:
        logger.setLevel(previous_level)
        for handler, previous in zip(streams, previous_streams, strict=True):
            handler.setStream(previous)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines() if line.strip())


def _invoke(handler: Callable[[dict, Any], Any], event: dict, name: str, request_id: str) -> list[dict[str, Any]]:
    with captured_lines() as lines:
        handler(event, FakeLambdaContext(function_name=name, aws_request_id=request_id))
    assert lines, "the invocation wrote no log line"
    return lines


def _assert_context(lines: list[dict[str, Any]], name: str, request_id: str) -> None:
    for line in lines:
        assert line["function_request_id"] == request_id, line
        assert line["function_name"] == name, line
        assert isinstance(line["cold_start"], bool), line
        assert line["function_memory_size"] == 256, line


def _sqs_event(body: str) -> dict:
    return {
        "Records": [
            {
                "messageId": "m-1",
                "body": body,
                "receiptHandle": "r",
                "attributes": {},
                "messageAttributes": {},
                "eventSourceARN": "arn:aws-cn:sqs:cn-north-1:1:q",
            }
        ]
    }


def http_get(path: str, resource: str, params: dict[str, str]) -> dict:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": "api.example.cn"},
        "multiValueHeaders": {"Host": ["api.example.cn"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": "GET",
            "path": path,
            "requestId": "apigw-request-1",
            "stage": "api",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_a_queue_invocation_logs_its_lambda_request_id():
    from chalicelib.entries.push_planner import handler

    first = _invoke(handler, _sqs_event("not json"), "kepuscreen-test-push_planner", "req-sqs-1")
    _assert_context(first, "kepuscreen-test-push_planner", "req-sqs-1")
    second = _invoke(handler, _sqs_event("not json"), "kepuscreen-test-push_planner", "req-sqs-2")
    _assert_context(second, "kepuscreen-test-push_planner", "req-sqs-2")  # never the previous invocation's id
    assert second[0]["cold_start"] is False
    with captured_lines() as local:  # a local run has no context: no line may carry the last invocation's id
        handler(_sqs_event("not json"), None)
    assert local and all("function_request_id" not in line for line in local), local


def test_a_manifest_queue_invocation_logs_its_lambda_request_id():
    from chalicelib.entries.rebuild_manifests import handler

    lines = _invoke(handler, _sqs_event("{"), "kepuscreen-test-rebuild_manifests", "req-manifest-1")
    _assert_context(lines, "kepuscreen-test-rebuild_manifests", "req-manifest-1")


def test_a_stream_invocation_logs_its_lambda_request_id():
    """A record of a table the roll-ups do not read is skipped; the batch's summary line names the invocation."""
    from chalicelib.entries.analytics_stats_stream import handler

    record = {
        "eventID": "e-1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "awsRegion": "cn-north-1",
        "eventSourceARN": "arn:aws-cn:dynamodb:cn-north-1:1:table/other/stream/2026",
        "dynamodb": {
            "ApproximateCreationDateTime": 1764547200,
            "Keys": {"pk": {"S": "x"}},
            "SequenceNumber": "1",
            "SizeBytes": 1,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    event = {"Records": [record]}
    lines = _invoke(handler, event, "kepuscreen-test-analytics_stats_stream", "req-stream-1")
    _assert_context(lines, "kepuscreen-test-analytics_stats_stream", "req-stream-1")
    assert any(line["message"] == "roll-ups applied" for line in lines)


HTTP_SCRIPT = """
import json, sys
from {module} import app
from tests.ops.test_lambda_context_logs import FakeLambdaContext, http_get
appid = "x" * 40
event = http_get(f"/wechat/{{appid}}", "/wechat/{{appid}}", {{"appid": appid}})
response = app(event, FakeLambdaContext(function_name="kepuscreen-test-fn", aws_request_id="req-http-1"))
print(json.dumps({{"status": response["statusCode"]}}))
"""


@pytest.mark.parametrize("module", ["chalicelib.entries.callback", "app"])
def test_an_http_invocation_logs_its_lambda_request_id(module):
    """The WeChat callback refuses an appid that cannot exist, before any lookup, and logs it; through the callback's
    own function and through the main app.  A fresh interpreter each: a Chalice blueprint registers in one app only."""
    env = {
        "PATH": "/usr/bin:/bin",
        "STAGE": "test",
        "AWS_DEFAULT_REGION": "cn-north-1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    printed = fresh_python(HTTP_SCRIPT.format(module=module), env)
    assert printed[-1] == {"status": 404}
    lines = printed[:-1]
    assert any(line["message"] == "callback verification refused" for line in lines), lines
    _assert_context(lines, "kepuscreen-test-fn", "req-http-1")
    assert all(line["correlation_id"] == "apigw-request-1" for line in lines)
    assert lines[0]["cold_start"] is True
