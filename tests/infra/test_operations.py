"""Concurrency, the API stage, tracing, alarms and the dashboard, checked on the built template."""

from __future__ import annotations

import json

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


def _alarms(template):
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]


def _dims(alarm):
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}


def test_every_dead_letter_queue_and_every_function_has_its_alarms_to_the_topic(packaged):
    for built in packaged.values():
        template = built.template
        resources = template["Resources"]
        alarms = _alarms(template)
        assert alarms and all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
        assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
        subscription = resources["AlarmEmailSubscription"]
        assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"} and subscription["Condition"]
        dlqs = [
            lid
            for lid, r in resources.items()
            if r["Type"] == "AWS::SQS::Queue"
            and any(
                q["Properties"].get("RedrivePolicy", {}).get("deadLetterTargetArn", {}).get("Fn::GetAtt", [None])[0]
                == lid
                for q in resources.values()
                if q["Type"] == "AWS::SQS::Queue"
            )
        ]
        assert len(dlqs) >= 3
        for dlq in dlqs:
            watching = [
                a
                for a in alarms
                if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
                and _dims(a).get("QueueName") == {"Fn::GetAtt": [dlq, "QueueName"]}
            ]
            assert len(watching) == 1, dlq
            assert watching[0]["Threshold"] == 0 and watching[0]["ComparisonOperator"] == "GreaterThanThreshold"
        for lid in _functions(template):
            for metric in ("Errors", "Throttles"):
                assert [
                    a
                    for a in alarms
                    if a.get("Namespace") == "AWS/Lambda"
                    and a["MetricName"] == metric
                    and _dims(a) == {"FunctionName": {"Ref": lid}}
                ], (lid, metric)


def test_product_alarms_and_the_dashboard(packaged):
    template = packaged[("prod", "aws-cn")].template
    resources = template["Resources"]
    latency = resources["CallbackLatencyAlarm"]["Properties"]
    assert latency["ExtendedStatistic"] == "p99" and latency["Threshold"] == 2000
    assert _dims(resources["WeChatQuotaAlarm"]["Properties"]) == {"stage": "prod", "errcode": "45009"}
    assert _dims(resources["TokenRefreshFailureAlarm"]["Properties"])["outcome"] == "failed"
    assert resources["ScreensOfflineAlarm"]["Properties"]["Threshold"] == {"Ref": "ScreensOfflinePercent"}
    rate = resources["Api5xxRateAlarm"]["Properties"]
    assert rate["Threshold"] == {"Ref": "Api5xxPercent"}
    assert {m["Id"] for m in rate["Metrics"]} == {"errors", "requests", "rate"}
    assert resources["RestAPI"]["Properties"]["Name"] == "kepuscreen-prod"
    body, subs = resources["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    assert len(widgets) >= 10
    assert sorted(v["Ref"] for v in subs.values()) == sorted(_functions(template))


def test_the_api_has_an_optional_custom_domain_mapped_at_api_and_at_the_root(packaged):
    for built in packaged.values():
        template = built.template
        resources = template["Resources"]
        assert {"ApiDomainName", "ApiCertificateArn"} <= set(template["Parameters"])
        domain = resources["ApiDomain"]
        assert domain["Condition"] == "HasApiDomain"
        assert domain["Properties"]["RegionalCertificateArn"] == {"Ref": "ApiCertificateArn"}
        mappings = {
            r["Properties"].get("BasePath", "/")
            for r in resources.values()
            if r["Type"] == "AWS::ApiGateway::BasePathMapping"
        }
        assert mappings == {"api", "/"}  # /api/... as PUBLIC_BASE_URL names it; /MP_verify_*.txt at the root
        assert template["Outputs"]["ApiDomainTarget"]["Condition"] == "HasApiDomain"


def test_event_functions_run_their_thin_entries_and_keep_their_own_roles(packaged):
    """Handlers point at chalicelib/entries/<function>.py (infra.event_entries); roles are still per function."""
    expected = {
        "PushPlanner": "push_planner",
        "PushSender": "push_sender",
        "PushDigest": "push_digest",
        "RebuildManifests": "rebuild_manifests",
        "ScreenHealth": "screen_health",
    }
    for built in packaged.values():
        functions = _functions(built.template)
        for lid, name in expected.items():
            assert functions[lid]["Properties"]["Handler"] == f"chalicelib.entries.{name}.handler"
        for lid in ("ProbeBuilder", "ProbeSender"):  # the probe's consumers have no entry: Chalice's handler
            assert functions[lid]["Properties"]["Handler"].startswith("chalicelib.handlers.probe_consumer.")
        sender_role = built.template["Resources"][functions["PushSender"]["Properties"]["Role"]["Fn::GetAtt"][0]]
        modules = sender_role["Metadata"]["kepuscreen"]["modules"]
        assert "chalicelib.services.push.sender" in modules and "chalicelib.services.push.planner" not in modules


def test_a_stream_batch_that_keeps_failing_is_set_aside_in_an_alarmed_queue_not_lost(packaged):
    """Formerly a bad roll-up record blocked its shard for the stream's 24 h and was then dropped unseen."""
    for built in packaged.values():
        resources = built.template["Resources"]
        sources = [
            (lid, event["Properties"])
            for lid, fn in resources.items()
            if fn["Type"] == "AWS::Serverless::Function"
            for event in (fn["Properties"].get("Events") or {}).values()
            if event["Type"] == "DynamoDB"
        ]
        assert len(sources) >= 3
        for lid, props in sources:
            assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
                "Fn::GetAtt": ["StreamFailuresDlq", "Arn"]
            }, lid
            assert props["BisectBatchOnFunctionError"] is True and 0 < props["MaximumRetryAttempts"] <= 10
            role = resources[resources[lid]["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
            statements = role["Policies"][0]["PolicyDocument"]["Statement"]
            assert any(
                st["Action"] == ["sqs:SendMessage"] and st["Resource"] == [{"Fn::GetAtt": ["StreamFailuresDlq", "Arn"]}]
                for st in statements
            ), lid
        watching = [
            a
            for a in _alarms(built.template)
            if a.get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and _dims(a).get("QueueName") == {"Fn::GetAtt": ["StreamFailuresDlq", "QueueName"]}
        ]
        assert len(watching) == 1 and watching[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
