"""The public surfaces (WeChat callback, phone pages, screen API) run in functions without admin rights.

Checked on the built template (``chalice package`` + post-processing, the
``packaged`` fixture): every public route is integrated with a public
function, and those functions' roles, evaluated like IAM would, can neither
touch the admin tables nor write secrets or the player bucket.
"""

from __future__ import annotations

import json

import pytest

from tests.infra import iam_eval

pytestmark = pytest.mark.packaging

PUBLIC = {"WeChatCallback": "chalicelib.entries.callback.app", "PublicPages": "chalicelib.entries.public.app"}
ADMIN_TABLES = ("users", "api_keys", "role_grants", "audit")
WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
READS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:DescribeTable")


def _integrations(template):
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for path, methods in paths.items():
        for method, spec in methods.items():
            uri = spec.get("x-amazon-apigateway-integration", {}).get("uri")
            if isinstance(uri, dict):
                yield path, method, uri["Fn::Sub"].split("functions/${")[1].split(".Arn")[0]


def _role(template, lid):
    return template["Resources"][lid]["Properties"]["Role"]["Fn::GetAtt"][0]


def test_public_routes_run_in_public_functions_and_admin_routes_in_the_api_handler(packaged):
    for built in packaged.values():
        template = built.template
        for lid, handler in PUBLIC.items():
            assert template["Resources"][lid]["Properties"]["Handler"] == handler
            assert template["Resources"][f"{lid}InvokePermission"]["Properties"]["FunctionName"] == {"Ref": lid}
        routes = list(_integrations(template))
        for path, method, function in routes:
            if path.startswith("/wechat/"):
                assert function == "WeChatCallback", (path, method)
            elif path.startswith(("/m/", "/screens/")) or path == "/{file_name}":
                assert function == "PublicPages", (path, method)
            else:
                assert path.startswith("/api/") and function == "APIHandler", (path, method)
        assert {f for _p, _m, f in routes} == {"WeChatCallback", "PublicPages", "APIHandler"}
        callback = template["Resources"]["WeChatCallback"]["Properties"]
        assert callback["ReservedConcurrentExecutions"] >= 1 and callback["MemorySize"] >= 512


def test_public_roles_cannot_touch_admin_tables_secrets_writes_or_the_bucket(packaged):
    template = packaged[("prod", "aws-cn")].template
    tables = {
        lid: iam_eval.resource_arn(template, lid)
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    by_suffix = {arn.rsplit("kepuscreen-prod-", 1)[1]: arn for arn in tables.values()}
    secrets = "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/kepuscreen/prod/accounts/wx1/app_secret"
    signing = "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/kepuscreen/prod/app/signing_key"
    bucket = iam_eval.resource_arn(template, "PlayerBucket")
    admin_role = _role(template, "APIHandler")
    # the evaluator is not vacuous: the admin API's role may do all of it
    assert iam_eval.allows(template, admin_role, "dynamodb:PutItem", by_suffix["users"])
    assert iam_eval.allows(template, admin_role, "ssm:PutParameter", secrets)
    assert iam_eval.allows(template, admin_role, "s3:PutObject", f"{bucket}/media/x.jpg")
    for lid in PUBLIC:
        role = _role(template, lid)
        assert role != admin_role
        for name in ADMIN_TABLES:
            for action in (*READS, *WRITES):
                assert not iam_eval.allows(template, role, action, by_suffix[name]), (lid, action, name)
                assert not iam_eval.allows(template, role, action, f"{by_suffix[name]}/index/by-x"), (lid, name)
        for name in ("accounts", "units"):  # the directory: looked up, never changed
            for action in WRITES:
                assert not iam_eval.allows(template, role, action, by_suffix[name]), (lid, action, name)
        assert iam_eval.allows(template, role, "dynamodb:GetItem", by_suffix["accounts"])
        for parameter in (secrets, signing):
            for action in ("ssm:PutParameter", "ssm:DeleteParameter"):
                assert not iam_eval.allows(template, role, action, parameter), (lid, action)
        assert not iam_eval.allows(template, role, "kms:Encrypt", "arn:aws-cn:kms:cn-north-1:123456789012:key/k")
        for key in ("media/x.jpg", "screens/s1/manifest.json", "player/index.html"):
            for action in ("s3:PutObject", "s3:DeleteObject"):
                assert not iam_eval.allows(template, role, action, f"{bucket}/{key}"), (lid, action, key)
        text = json.dumps(iam_eval.statements(template, role))
        assert "sqs:SendMessage" not in text or lid != "WeChatCallback" or "push" not in text
    callback_tables = template["Resources"][_role(template, "WeChatCallback")]["Metadata"]["kepuscreen"]["tables"]
    assert "callbacks" in callback_tables and "subscriptions" in callback_tables
