"""Concurrency, the API stage, tracing, alarms and the dashboard, checked on the built template."""

from __future__ import annotations

import pytest

from infra import operations

pytestmark = pytest.mark.packaging


def _functions(template):
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def _queue_key(template, queue_lid):
    name = template["Resources"][queue_lid]["Properties"]["QueueName"]
    return name.rsplit("-", 1)[1]


def test_every_sqs_event_source_has_a_maximum_concurrency_and_the_callback_reserved_capacity(packaged):
    for built in packaged.values():
        template = built.template
        sources = 0
        for function in _functions(template).values():
            for event in (function["Properties"].get("Events") or {}).values():
                if event["Type"] != "SQS":
                    continue
                sources += 1
                maximum = event["Properties"]["ScalingConfig"]["MaximumConcurrency"]
                key = _queue_key(template, event["Properties"]["Queue"]["Fn::GetAtt"][0])
                assert 2 <= maximum <= 1000 and maximum == operations.maximum_concurrency(key)
        assert sources >= 3
        callback = template["Resources"]["WeChatCallback"]["Properties"]
        assert callback["ReservedConcurrentExecutions"] >= 5


def test_the_api_stage_is_throttled_traced_logged_and_has_no_extra_stage(packaged):
    for built in packaged.values():
        template = built.template
        api = template["Resources"]["RestAPI"]
        props = api["Properties"]
        assert props["OpenApiVersion"] == "2.0"  # SAM adds no stage named "Stage" when this is set
        assert props["TracingEnabled"] is True
        (settings,) = props["MethodSettings"]
        assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
        assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}
        assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurst"}
        assert template["Parameters"]["ApiThrottleRate"]["Default"] > 0
        log_group = props["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
        assert template["Resources"][log_group]["Type"] == "AWS::Logs::LogGroup"
        assert "$context.requestId" in props["AccessLogSetting"]["Format"]
        assert "ApiGatewayAccountReady" in api["DependsOn"]
        assert all(f["Properties"]["Tracing"] == "Active" for f in _functions(template).values())
