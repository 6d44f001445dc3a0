"""The built template after the SAM transform, run offline with aws-sam-translator (what CloudFormation deploys).

The checks in ``test_operations.py`` read the SAM template; these read what
SAM makes of it, for every stage and partition: the properties that matter
only if SAM carries them over (one API stage, logged and traced; reserved
concurrency; SQS scaling) and the references SAM resolves (alarm dimensions,
``RestAPI.Stage`` in the custom domain's base-path mappings).
"""

from __future__ import annotations

import copy
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.arn_generator import ArnGenerator
from samtranslator.translator.translator import Translator

from infra.stage import PARTITION_REGIONS

pytestmark = pytest.mark.packaging


def translate(template: dict[str, Any], partition: str) -> dict[str, Any]:
    """SAM -> CloudFormation offline, as ``aws cloudformation deploy`` would after ``package`` uploads the code."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://deployment-bucket/deployment.zip"  # what `package` writes
    region = PARTITION_REGIONS[partition]
    # no credentials are used: the session only names the region (and so the partition) the translator assumes;
    # an empty managed-policy map, since our functions name no managed policy (each has its own role)
    translator = Translator({}, Parser(), boto_session=boto3.session.Session(region_name=region))
    ArnGenerator.BOTO_SESSION_REGION_NAME = region
    try:
        return translator.translate(template, parameter_values={}, get_managed_policy_map=dict)
    finally:
        ArnGenerator.BOTO_SESSION_REGION_NAME = None


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in resources.items() if r["Type"] == kind}


def stage_names(resources: dict[str, Any]) -> list[str]:
    """Every API stage the template creates: Stage resources, and a Deployment's ``StageName`` -- which is how
    SAM adds its extra stage named ``Stage`` (the deployment creates it, with none of the real stage's settings)."""
    names = [r["Properties"]["StageName"] for r in _of_type(resources, "AWS::ApiGateway::Stage").values()]
    names += [
        r["Properties"]["StageName"]
        for r in _of_type(resources, "AWS::ApiGateway::Deployment").values()
        if "StageName" in r["Properties"]
    ]
    return sorted(names)


@pytest.fixture(scope="module")
def translated(packaged) -> dict[tuple[str, str], dict[str, Any]]:
    return {combo: translate(built.template, built.partition) for combo, built in packaged.items()}


def test_sam_creates_one_api_stage_logged_traced_and_throttled(packaged, translated):
    for combo, out in translated.items():
        resources = out["Resources"]
        stages = _of_type(resources, "AWS::ApiGateway::Stage")
        names = stage_names(resources)
        expected = packaged[combo].template["Resources"]["RestAPI"]["Properties"]["StageName"]
        assert names == [expected] and "Stage" not in names, (combo, names)
        (stage,) = stages.values()
        props = stage["Properties"]
        assert props["TracingEnabled"] is True
        log_group = props["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
        assert resources[log_group]["Type"] == "AWS::Logs::LogGroup"
        assert "$context.requestId" in props["AccessLogSetting"]["Format"]
        (method,) = props["MethodSettings"]
        assert method["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRate"}
        assert method["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurst"}
        # the custom domain's mappings name the one stage SAM made (``RestAPI.Stage`` resolved)
        stage_id = next(iter(stages))
        for mapping in _of_type(resources, "AWS::ApiGateway::BasePathMapping").values():
            assert mapping["Properties"]["Stage"] == {"Ref": stage_id}
        assert len(_of_type(resources, "AWS::ApiGateway::BasePathMapping")) == 2


def test_without_openapi_version_sam_would_add_the_stage_named_stage(packaged):
    """The control: the check above can fail -- this is the stage ``OpenApiVersion`` keeps away."""
    built = packaged[("dev", "aws-cn")]
    template = copy.deepcopy(built.template)
    del template["Resources"]["RestAPI"]["Properties"]["OpenApiVersion"]
    assert stage_names(translate(template, built.partition)["Resources"]) == ["Stage", "api"]


def test_functions_keep_tracing_the_callback_its_reserved_concurrency_and_sqs_sources_their_maximum(translated):
    for combo, out in translated.items():
        resources = out["Resources"]
        functions = _of_type(resources, "AWS::Lambda::Function")
        assert len(functions) >= 10
        for lid, function in functions.items():
            assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}, (combo, lid)
        assert functions["WeChatCallback"]["Properties"]["ReservedConcurrentExecutions"] >= 5
        queues = _of_type(resources, "AWS::SQS::Queue")
        sqs_sources = 0
        for lid, mapping in _of_type(resources, "AWS::Lambda::EventSourceMapping").items():
            source = mapping["Properties"]["EventSourceArn"]
            if source.get("Fn::GetAtt", [None])[0] in queues:
                sqs_sources += 1
                assert 2 <= mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"] <= 1000, (combo, lid)
                assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert sqs_sources >= 3


def _watched(alarms: list[dict[str, Any]], metric: str, dimension: str) -> list[Any]:
    """The values of ``dimension`` in the alarms on ``metric``."""
    return [
        d["Value"]
        for a in alarms
        if a["Properties"].get("MetricName") == metric
        for d in a["Properties"].get("Dimensions", [])
        if d["Name"] == dimension
    ]


def test_every_dead_letter_queue_and_every_function_has_its_alarms_after_the_transform(translated):
    for combo, out in translated.items():
        resources = out["Resources"]
        alarms = list(_of_type(resources, "AWS::CloudWatch::Alarm").values())

        queues = _of_type(resources, "AWS::SQS::Queue")
        dead_letter = {
            q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            for q in queues.values()
            if "RedrivePolicy" in q["Properties"]
        }
        assert dead_letter and dead_letter <= queues.keys()
        depth = _watched(alarms, "ApproximateNumberOfMessagesVisible", "QueueName")
        watched_queues = {v["Fn::GetAtt"][0] for v in depth}
        assert dead_letter <= watched_queues, (combo, dead_letter - watched_queues)
        functions = set(_of_type(resources, "AWS::Lambda::Function"))
        for metric in ("Errors", "Throttles"):
            refs = {v["Ref"] for v in _watched(alarms, metric, "FunctionName")}
            assert refs == functions, (combo, metric, functions ^ refs)  # every function, and nothing else
        topics = set(_of_type(resources, "AWS::SNS::Topic"))
        for alarm in alarms:
            assert {a["Ref"] for a in alarm["Properties"]["AlarmActions"]} <= topics
