"""``chalice package`` + post-processing for both stages and both partitions, checked as deployed.

The scratch project carries two throwaway SQS consumers (``probe_consumer``)
so the SQS rules are exercised before the product's own consumers exist; the
product's handlers are checked the same way once they are registered.
"""

from __future__ import annotations

import json
import re

import pytest

from chalicelib.models import ALL_MODELS
from chalicelib.resources import queue_specs
from infra import data
from infra.stage import Target
from infra.template import merge_template
from tests.infra.conftest import COMBOS, PROBE_FUNCTIONS

pytestmark = pytest.mark.packaging

DATA_SERVICES = ("dynamodb:", "sqs:", "s3:", "ssm:", "kms:", "secretsmanager:")


def _functions(template):
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def _role_statements(template):
    for lid, resource in template["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                for statement in policy["PolicyDocument"]["Statement"]:
                    yield lid, statement


def _listify(value):
    return value if isinstance(value, list) else [value]


def test_every_stage_and_partition_packages_offline_and_passes_cfn_lint(packaged):
    assert set(packaged) == set(COMBOS)
    for built in packaged.values():
        assert "template:" in built.output and "cfn-lint found errors" not in built.output
        print(f"{built.stage}/{built.partition}: {built.seconds:.1f}s")  # shown with -s; CI budget is ~2 minutes


def test_tables_in_the_package_are_the_generated_ones(packaged):
    for (stage, partition), built in packaged.items():
        expected = {
            lid: r
            for lid, r in merge_template(Target(stage, partition), ALL_MODELS)["Resources"].items()
            if r["Type"] == "AWS::DynamoDB::Table"
        }
        actual = {lid: r for lid, r in built.template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"}
        assert actual == expected
        assert {r["Properties"]["TableName"] for r in actual.values()} == {
            f"kepuscreen-{stage}-{data.table_suffix(m)}" for m in ALL_MODELS
        }


def test_every_sqs_event_source_reports_batch_item_failures_within_the_visibility_budget(packaged):
    for built in packaged.values():
        resources = built.template["Resources"]
        consumers = 0
        for function in _functions(built.template).values():
            for event in (function["Properties"].get("Events") or {}).values():
                if event["Type"] != "SQS":
                    continue
                consumers += 1
                props = event["Properties"]
                assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
                queue = resources[props["Queue"]["Fn::GetAtt"][0]]["Properties"]
                assert queue["VisibilityTimeout"] >= 6 * function["Properties"]["Timeout"]
                dlq_id = queue["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                assert resources[dlq_id]["Type"] == "AWS::SQS::Queue"
        assert consumers >= 2, "the probe consumers must be packaged, or this test proves nothing"


def test_a_prod_package_consumes_the_prod_queues(packaged):
    """Chalice imports app.py to find handlers: it must do so with the stage's settings."""
    raw = packaged[("prod", "aws")].raw
    queues = [
        e["Properties"]["Queue"]["Fn::Sub"]
        for f in _functions(raw).values()
        for e in (f["Properties"].get("Events") or {}).values()
        if e["Type"] == "SQS"
    ]
    prod_queues = ("kepuscreen-prod-manifest", "kepuscreen-prod-send", "kepuscreen-prod-push")
    assert queues and all(q.endswith(prod_queues) for q in queues)


def test_no_iam_statement_grants_data_actions_on_star(packaged):
    for built in packaged.values():
        checked = 0
        for role, statement in _role_statements(built.template):
            actions = _listify(statement["Action"])
            if not any(a.startswith(DATA_SERVICES) for a in actions):
                continue
            checked += 1
            assert all(isinstance(a, str) and "*" not in a for a in actions), (role, statement["Sid"])
            for resource in _listify(statement["Resource"]):
                text = json.dumps(resource)
                assert resource != "*" and '"*"' not in text, (role, statement)
                if statement["Sid"] == "SecretsKeyViaSsm":  # any key, but only via SSM for our parameters
                    assert "kms:ViaService" in statement["Condition"]["StringEquals"]
        assert checked >= 5


def test_each_function_has_its_own_role_with_only_what_its_code_reaches(packaged):
    template = packaged[("prod", "aws-cn")].template
    resources = template["Resources"]
    roles = {
        f["Properties"]["FunctionName"]: resources[f["Properties"]["Role"]["Fn::GetAtt"][0]]
        for f in _functions(template).values()
    }
    assert len({id(r) for r in roles.values()}) == len(roles)

    def sids(function):
        return {s["Sid"] for s in roles[function]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]}

    meta = {name: role["Metadata"]["kepuscreen"] for name, role in roles.items()}
    builder, sender = meta["kepuscreen-prod-probe_builder"], meta["kepuscreen-prod-probe_sender"]
    assert builder["tables"] == ["screens"] and builder["consumes"] == "manifest" and not builder["calls_wechat"]
    assert "WritePlayerData" in sids("kepuscreen-prod-probe_builder")
    assert "ReadSecrets" not in sids("kepuscreen-prod-probe_builder")
    # a function that calls WeChat shares the access-token table (the token provider installs at import)
    assert sender["tables"] == ["access_tokens"] and sender["consumes"] == "send" and sender["calls_wechat"]
    assert {"ReadSecrets", "SecretsKeyViaSsm"} <= sids("kepuscreen-prod-probe_sender")
    api = meta["kepuscreen-prod-api_handler"]
    assert api["consumes"] == "" and "callbacks" in api["tables"]
    assert "chalicelib.handlers.probe_consumer" not in api["modules"], "the API does not run the consumers"
    functions = {f["Properties"]["FunctionName"]: f["Properties"] for f in _functions(template).values()}
    assert "VpcConfig" in functions["kepuscreen-prod-probe_sender"]
    assert "VpcConfig" not in functions["kepuscreen-prod-probe_builder"]


def test_function_settings_come_from_config_json(packaged):
    template = packaged[("dev", "aws")].template
    functions = {f["Properties"]["FunctionName"]: f["Properties"] for f in _functions(template).values()}
    timeouts = {s.key: s.consumer_timeout for s in queue_specs(Target("dev", "aws").settings)}
    builder, sender = functions["kepuscreen-dev-probe_builder"], functions["kepuscreen-dev-probe_sender"]
    assert builder["MemorySize"] == PROBE_FUNCTIONS["probe_builder"]["lambda_memory_size"]
    assert sender["ReservedConcurrentExecutions"] == PROBE_FUNCTIONS["probe_sender"]["reserved_concurrency"]
    assert builder["Timeout"] == timeouts["manifest"] and sender["Timeout"] == timeouts["send"]
    api = functions["kepuscreen-dev-api_handler"]
    assert (api["MemorySize"], api["Timeout"]) == (512, 15)
    assert api["Environment"]["Variables"]["PLAYER_BUCKET"] == {"Ref": "PlayerBucket"}
    for props in functions.values():
        log_group = template["Resources"][props_log_group(template, props)]
        assert log_group["Properties"]["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"


def props_log_group(template, props):
    name = f"/aws/lambda/{props['FunctionName']}"
    return next(
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::Logs::LogGroup" and r["Properties"]["LogGroupName"] == name
    )


def test_arns_are_partition_aware_and_the_cdn_fits_each_partition(packaged):
    for (_stage, partition), built in packaged.items():
        text = json.dumps(built.template)
        assert not re.search(r"arn:aws(-cn)?:", text), "hard-coded partition in an ARN"
        types = {r["Type"] for r in built.template["Resources"].values()}
        assert built.template["Resources"]["RestAPI"]["Properties"]["EndpointConfiguration"] == "REGIONAL"
        bucket = built.template["Resources"]["PlayerBucket"]["Properties"]
        assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
        assert all(bucket["PublicAccessBlockConfiguration"].values())
        policy = built.template["Resources"]["PlayerBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
        if partition == "aws-cn":  # China's CloudFront has no Origin Access Control; OAI it is
            assert "AWS::CloudFront::OriginAccessControl" not in types
            assert "CanonicalUser" in policy["Principal"]
            assert "Default" not in built.template["Parameters"]["PlayerDomainName"]
        else:
            assert "AWS::CloudFront::CloudFrontOriginAccessIdentity" not in types
            assert policy["Principal"] == {"Service": "cloudfront.amazonaws.com"}
            assert "AWS:SourceArn" in policy["Condition"]["StringEquals"]
        behaviours = built.template["Resources"]["PlayerDistribution"]["Properties"]["DistributionConfig"]
        policies = {b["PathPattern"]: b["CachePolicyId"]["Ref"] for b in behaviours["CacheBehaviors"]}
        ttl = {p: built.template["Resources"][ref]["Properties"]["CachePolicyConfig"] for p, ref in policies.items()}
        assert ttl["media/*"]["MinTTL"] >= 86400 and ttl["screens/*"]["MaxTTL"] <= 60
