"""The deploy's own steps that touch AWS, against the emulator (CloudFormation itself is not emulated here)."""

from __future__ import annotations

import json

import boto3

from infra.deploy import ensure_artifact_bucket, stage_variables, upload_artifacts
from infra.stage import Target


def test_code_is_uploaded_once_per_content_and_the_template_points_at_it(aws, tmp_path):
    (tmp_path / "deployment.zip").write_bytes(b"PK fake zip")
    template = {
        "Resources": {
            name: {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}}
            for name in ("APIHandler", "PushSender")
        }
        | {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {}}}
    }
    (tmp_path / "template.json").write_text(json.dumps(template))
    s3 = boto3.client("s3")
    bucket = ensure_artifact_bucket(s3, "kepuscreen-artifacts-123456789012-cn-north-1", "cn-north-1")
    assert ensure_artifact_bucket(s3, bucket, "cn-north-1") == bucket  # idempotent

    deployed = upload_artifacts(s3, bucket, "prod", tmp_path / "template.json")

    uris = {r["Properties"]["CodeUri"]["Key"] for r in deployed["Resources"].values() if "CodeUri" in r["Properties"]}
    assert len(uris) == 1
    key = uris.pop()
    assert key.startswith("prod/code/") and s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"PK fake zip"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]


def test_the_stage_env_for_workstation_tools_is_what_the_functions_see():
    outputs = {
        "PlayerBucketName": "kepuscreen-prod-player-123456789012",
        "PlayerBaseUrl": "https://player.example.cn",
        "EndpointURL": "https://abc.execute-api.cn-north-1.amazonaws.com.cn/api/",
    }
    env = stage_variables(Target("prod", "aws-cn"), outputs, "")
    assert env["TABLE_PREFIX"] == "kepuscreen-prod-" and env["STAGE"] == "prod"
    assert env["PLAYER_BUCKET"] == outputs["PlayerBucketName"]
    assert env["PUBLIC_BASE_URL"] == "https://abc.execute-api.cn-north-1.amazonaws.com.cn/api"
    assert env["AWS_DEFAULT_REGION"] == "cn-north-1"
