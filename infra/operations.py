"""How the stack behaves under load and how an operator sees it: concurrency, the API stage, tracing.

- Every SQS event source gets ``ScalingConfig.MaximumConcurrency``
  (``SQS_MAXIMUM_CONCURRENCY``): the sender can never run more copies than
  WeChat's per-account rate allows for, and a publish storm cannot take the
  account's whole Lambda concurrency from the callback.
- The API stage is throttled (``ApiThrottleRate``/``ApiThrottleBurst``
  parameters), traced with X-Ray, and writes JSON access logs to its own log
  group; ``OpenApiVersion`` stops SAM from adding its extra stage named
  ``Stage``.  API Gateway writes logs through the account-level CloudWatch
  role, created here unless ``ApiGatewayAccountRole`` is ``existing``.
- Every function traces actively (Powertools Tracer adds its subsegments).
"""

from __future__ import annotations

from typing import Any

from infra.stage import APP_NAME, Target

# Per queue key; SQS allows 2..1000.  ``send``: each sender copy paces itself per account (push_sender), so
# the total rate towards WeChat is bounded by copies x per-copy rate.
SQS_MAXIMUM_CONCURRENCY = {"push": 2, "send": 5, "manifest": 3}
DEFAULT_MAXIMUM_CONCURRENCY = 2
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","time":"$context.requestTimeEpoch","method":"$context.httpMethod",'
    '"resource":"$context.resourcePath","status":"$context.status","bytes":"$context.responseLength",'
    '"latencyMs":"$context.responseLatency","integrationMs":"$context.integrationLatency",'
    '"error":"$context.integration.error","xray":"$context.xrayTraceId"}'
)
ACCESS_LOG_GROUP = "ApiAccessLogs"
ACCESS_LOG_RETENTION_DAYS = 30


def parameters() -> dict[str, Any]:
    return {
        "ApiThrottleRate": {
            "Type": "Number",
            "Default": 100,
            "MinValue": 1,
            "Description": "Steady requests per second the API stage accepts (all routes)",
        },
        "ApiThrottleBurst": {
            "Type": "Number",
            "Default": 200,
            "MinValue": 1,
            "Description": "Burst of requests the API stage accepts above the steady rate",
        },
        "ApiGatewayAccountRole": {
            "Type": "String",
            "Default": "create",
            "AllowedValues": ["create", "existing"],
            "Description": "API Gateway needs one account-wide CloudWatch role to write access logs; 'existing' "
            "if this account and region already has one (another stack set it)",
        },
    }


def maximum_concurrency(queue_key: str) -> int:
    return SQS_MAXIMUM_CONCURRENCY.get(queue_key, DEFAULT_MAXIMUM_CONCURRENCY)


def configure(template: dict[str, Any], target: Target) -> None:
    """Stage settings, access logs, tracing (in place)."""
    resources = template["Resources"]
    template.setdefault("Parameters", {}).update(parameters())
    template.setdefault("Conditions", {})["CreateApiGatewayAccountRole"] = {
        "Fn::Equals": [{"Ref": "ApiGatewayAccountRole"}, "create"]
    }
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["Tracing"] = "Active"
    if "RestAPI" not in resources:
        return
    api = resources["RestAPI"]["Properties"]
    api["OpenApiVersion"] = "2.0"  # any valid value: SAM then creates no extra "Stage" stage
    api["TracingEnabled"] = True
    api["MethodSettings"] = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRate"},
            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurst"},
            "MetricsEnabled": True,
            "LoggingLevel": "OFF",
            "DataTraceEnabled": False,
        }
    ]
    api["AccessLogSetting"] = {"DestinationArn": {"Fn::GetAtt": [ACCESS_LOG_GROUP, "Arn"]}, "Format": ACCESS_LOG_FORMAT}
    resources[ACCESS_LOG_GROUP] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": f"/aws/apigateway/{APP_NAME}-{target.stage}-access",
            "RetentionInDays": ACCESS_LOG_RETENTION_DAYS,
        },
    }
    resources["ApiGatewayCloudWatchRole"] = {
        "Type": "AWS::IAM::Role",
        "Condition": "CreateApiGatewayAccountRole",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "apigateway.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "ManagedPolicyArns": [
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
            ],
        },
    }
    resources["ApiGatewayAccount"] = {
        "Type": "AWS::ApiGateway::Account",
        "Condition": "CreateApiGatewayAccountRole",
        "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiGatewayCloudWatchRole", "Arn"]}},
    }
    # The stage can log only once the account role is set.  DependsOn cannot name a conditional resource; a
    # wait-condition handle that references it when it exists is the usual way to order on it.
    resources["ApiGatewayAccountReady"] = {
        "Type": "AWS::CloudFormation::WaitConditionHandle",
        "Metadata": {
            "AccountSettings": {"Fn::If": ["CreateApiGatewayAccountRole", {"Ref": "ApiGatewayAccount"}, "existing"]}
        },
    }
    resources["RestAPI"]["DependsOn"] = sorted({*resources["RestAPI"].get("DependsOn", []), "ApiGatewayAccountReady"})
