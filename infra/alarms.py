"""Alarms to an SNS topic, and the operator's dashboard, generated from what the template holds.

Every dead-letter queue and every function of the template gets its alarms,
so a queue or function added later is covered without anyone remembering to:

- a DLQ with any visible message (work that kept failing waits for replay);
- a function with errors, or throttles, in five minutes;
- the API's 5xx rate above ``Api5xxPercent`` (metric math over 5XXError / Count);
- the callback's p99 latency above 2 s (WeChat gives up at 5 s) -- the
  ``CallbackLatency`` EMF metric of ``chalicelib.observability``;
- WeChat's 45009 (API quota used up) and access-token refresh failures;
- more than ``ScreensOfflinePercent`` % of reporting screens without heartbeat
  for 15 minutes.

Alarms notify ``AlarmTopic``; ``AlarmEmail`` subscribes an address (confirm
the e-mail SNS sends).  Missing data is "not breaching": no traffic is no alarm.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.resources import queue_specs
from infra import data
from infra.stage import APP_NAME, Target

TOPIC = "AlarmTopic"
NAMESPACE = "kepuscreen"
PERIOD = 300
CALLBACK_P99_MS = 2000


def parameters() -> dict[str, Any]:
    return {
        "AlarmEmail": {
            "Type": "String",
            "Default": "",
            "Description": "E-mail address that receives the alarms (empty: subscribe later)",
        },
        "Api5xxPercent": {
            "Type": "Number",
            "Default": 1,
            "MinValue": 0,
            "Description": "Alarm when more than this % of API requests end in a 5xx (5 minutes)",
        },
        "ScreensOfflinePercent": {
            "Type": "Number",
            "Default": 20,
            "MinValue": 0,
            "MaxValue": 100,
            "Description": "Alarm when more than this % of reporting screens are offline",
        },
    }


def _alarm(description: str, **props: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "ActionsEnabled": True,
            "AlarmActions": [{"Ref": TOPIC}],
            "OKActions": [{"Ref": TOPIC}],
            "TreatMissingData": "notBreaching",
            "EvaluationPeriods": 1,
            **props,
        },
    }


def _metric_alarm(
    description: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, Any],
    *,
    statistic: str = "Sum",
    threshold: Any = 0,
    periods: int = 1,
) -> dict[str, Any]:
    stat = {"ExtendedStatistic": statistic} if statistic.startswith("p") else {"Statistic": statistic}
    return _alarm(
        description,
        Namespace=namespace,
        MetricName=metric,
        **stat,
        Period=PERIOD,
        EvaluationPeriods=periods,
        Threshold=threshold,
        ComparisonOperator="GreaterThanThreshold",
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
    )


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def add(template: dict[str, Any], target: Target) -> None:
    """Topic, alarms and dashboard (in place)."""
    resources = template["Resources"]
    stage = target.stage
    template.setdefault("Parameters", {}).update(parameters())
    template.setdefault("Conditions", {})["HasAlarmEmail"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    resources[TOPIC] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{APP_NAME}-{stage}-alarms"}}
    resources["AlarmEmailSubscription"] = {
        "Type": "AWS::SNS::Subscription",
        "Condition": "HasAlarmEmail",
        "Properties": {"TopicArn": {"Ref": TOPIC}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
    }
    for spec in queue_specs(target.settings):
        dlq = data.queue_logical_ids(spec)[1]
        resources[f"{dlq}NotEmptyAlarm"] = _metric_alarm(
            f"{spec.dlq_name} holds messages that kept failing: look, fix, replay (README: DLQ replay)",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": {"Fn::GetAtt": [dlq, "QueueName"]}},
            statistic="Maximum",
        )
    if "StreamFailuresDlq" in resources:
        resources["StreamFailuresDlqNotEmptyAlarm"] = _metric_alarm(
            "A roll-up stream batch kept failing and was set aside: fix the cause, then rebuild the days it covers "
            "(docs/analytics.md: stream failures)",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            {"QueueName": {"Fn::GetAtt": ["StreamFailuresDlq", "QueueName"]}},
            statistic="Maximum",
        )
    for lid, function in functions(template).items():
        name = function["Properties"]["FunctionName"]
        for metric in ("Errors", "Throttles"):
            resources[f"{lid}{metric}Alarm"] = _metric_alarm(
                f"{name}: {metric.lower()} in the last 5 minutes", "AWS/Lambda", metric, {"FunctionName": {"Ref": lid}}
            )
    own = {"stage": stage}
    if "RestAPI" in resources:
        resources["RestAPI"]["Properties"]["Name"] = f"{APP_NAME}-{stage}"
        stage_name = target.chalice_config["stages"][stage].get("api_gateway_stage", "api")
        api = {"ApiName": f"{APP_NAME}-{stage}", "Stage": stage_name}
        dims = [{"Name": k, "Value": v} for k, v in api.items()]
        resources["Api5xxRateAlarm"] = _alarm(
            "More than Api5xxPercent % of API requests ended in a server error",
            Threshold={"Ref": "Api5xxPercent"},
            ComparisonOperator="GreaterThanThreshold",
            Metrics=[
                {
                    "Id": "errors",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": "5XXError", "Dimensions": dims},
                        "Period": PERIOD,
                        "Stat": "Sum",
                    },
                },
                {
                    "Id": "requests",
                    "ReturnData": False,
                    "MetricStat": {
                        "Metric": {"Namespace": "AWS/ApiGateway", "MetricName": "Count", "Dimensions": dims},
                        "Period": PERIOD,
                        "Stat": "Sum",
                    },
                },
                {
                    "Id": "rate",
                    "Expression": "IF(requests > 0, 100 * errors / requests, 0)",
                    "Label": "5xx %",
                    "ReturnData": True,
                },
            ],
        )
    resources["CallbackLatencyAlarm"] = _metric_alarm(
        "WeChat callback p99 above 2 s (WeChat gives up at 5 s and retries)",
        NAMESPACE,
        "CallbackLatency",
        own,
        statistic="p99",
        threshold=CALLBACK_P99_MS,
    )
    resources["WeChatQuotaAlarm"] = _metric_alarm(
        "WeChat answered 45009: an account's daily API quota is used up (pushes pause until it resets)",
        NAMESPACE,
        "WeChatErrors",
        {**own, "errcode": "45009"},
    )
    resources["TokenRefreshFailureAlarm"] = _metric_alarm(
        "Access-token refresh failed: check the account's AppSecret and the IP whitelist (fixed egress IP)",
        NAMESPACE,
        "TokenRefreshes",
        {**own, "outcome": "failed"},
    )
    resources["ScreensOfflineAlarm"] = _metric_alarm(
        "Too many screens without a heartbeat for 15 minutes",
        NAMESPACE,
        "ScreensOfflinePercent",
        own,
        statistic="Maximum",
        threshold={"Ref": "ScreensOfflinePercent"},
        periods=3,
    )
    resources["OperationsDashboard"] = dashboard(template, stage)


def dashboard(template: dict[str, Any], stage: str) -> dict[str, Any]:
    """One screen for the operator: functions, API, queues, the product's own metrics."""
    fns = sorted(functions(template).items())
    subs: dict[str, Any] = {}

    def ref(name: str, value: Any) -> str:
        subs[name] = value
        return f"${{{name}}}"

    fn_names = [ref(f"Fn{i}", {"Ref": lid}) for i, (lid, _f) in enumerate(fns)]

    def widget(title: str, metrics: list[list[Any]], *, stat: str = "Sum", x: int = 0, y: int = 0) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": "${AWS::Region}",
                "stat": stat,
                "period": PERIOD,
                "metrics": metrics,
            },
        }

    dlqs = [r for lid, r in template["Resources"].items() if lid.endswith("Dlq")]
    widgets = [
        widget("Function errors", [["AWS/Lambda", "Errors", "FunctionName", n] for n in fn_names]),
        widget("Function throttles", [["AWS/Lambda", "Throttles", "FunctionName", n] for n in fn_names], x=12),
        widget(
            "Function duration p99", [["AWS/Lambda", "Duration", "FunctionName", n] for n in fn_names], stat="p99", y=6
        ),
        widget(
            "Dead-letter queues",
            [
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", r["Properties"]["QueueName"]]
                for r in dlqs
            ],
            stat="Maximum",
            x=12,
            y=6,
        ),
        widget(
            "API requests and errors",
            [["AWS/ApiGateway", m, "ApiName", f"{APP_NAME}-{stage}"] for m in ("Count", "4XXError", "5XXError")],
            y=12,
        ),
        widget(
            "Callbacks by outcome",
            [
                [NAMESPACE, "Callbacks", "stage", stage, "outcome", o]
                for o in ("success", "replied", "refused_400", "refused_403")
            ],
            x=12,
            y=12,
        ),
        widget("Callback latency p99 (ms)", [[NAMESPACE, "CallbackLatency", "stage", stage]], stat="p99", y=18),
        widget(
            "Pushes by channel",
            [
                [NAMESPACE, "Pushes", "stage", stage, "channel", c, "outcome", "sent"]
                for c in ("template", "custom", "notice")
            ],
            x=12,
            y=18,
        ),
        widget(
            "WeChat errors and token refreshes",
            [
                [NAMESPACE, "WeChatErrors", "stage", stage, "errcode", "45009"],
                [NAMESPACE, "TokenRefreshes", "stage", stage, "outcome", "ok"],
                [NAMESPACE, "TokenRefreshes", "stage", stage, "outcome", "failed"],
            ],
            y=24,
        ),
        widget(
            "Screens online / offline",
            [[NAMESPACE, "ScreensOnline", "stage", stage], [NAMESPACE, "ScreensOffline", "stage", stage]],
            stat="Maximum",
            x=12,
            y=24,
        ),
        widget(
            "Manifests: rebuilds and publish-to-manifest p90 (ms)",
            [
                [NAMESPACE, "ManifestRebuilds", "stage", stage, "outcome", "ok"],
                [NAMESPACE, "PublishToManifest", "stage", stage, {"stat": "p90"}],
            ],
            y=30,
        ),
    ]
    body = json.dumps({"widgets": widgets}, ensure_ascii=False)
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardName": f"{APP_NAME}-{stage}", "DashboardBody": {"Fn::Sub": [body, subs]}},
    }
