"""The generated resources against what the code defines, without running ``chalice package``."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import boto3
import pytest

from chalicelib.models import ALL_MODELS
from chalicelib.resources import queue_specs
from infra import access, data
from infra.postprocess import BuildError, postprocess
from infra.stage import PROJECT_DIR, Target
from infra.template import merge_template


def _gsis(indexes: list[dict]) -> dict[str, tuple]:
    return {
        index["IndexName"]: (
            sorted((k["AttributeName"], k["KeyType"]) for k in index["KeySchema"]),
            index["Projection"]["ProjectionType"],
            sorted(index["Projection"].get("NonKeyAttributes", [])),
        )
        for index in indexes
    }


def test_tables_equal_those_the_models_create(aws):
    """Every model's table, as pynamodb creates it in the emulator, is the table the template declares."""
    template = merge_template(Target("prod", "aws-cn"), ALL_MODELS)
    tables = {
        r["Properties"]["TableName"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    }
    assert len(tables) == len(ALL_MODELS)
    ddb = boto3.client("dynamodb")
    for model in ALL_MODELS:
        created = ddb.describe_table(TableName=model.Meta.table_name)["Table"]
        declared = tables.pop(f"kepuscreen-prod-{data.table_suffix(model)}")
        assert sorted(map(tuple, (d.values() for d in declared["KeySchema"]))) == sorted(
            map(tuple, (d.values() for d in created["KeySchema"]))
        )
        assert declared["KeySchema"][0]["KeyType"] == "HASH"
        assert {(a["AttributeName"], a["AttributeType"]) for a in declared["AttributeDefinitions"]} == {
            (a["AttributeName"], a["AttributeType"]) for a in created["AttributeDefinitions"]
        }
        assert _gsis(declared.get("GlobalSecondaryIndexes", [])) == _gsis(created.get("GlobalSecondaryIndexes", []))
        assert _gsis(declared.get("LocalSecondaryIndexes", [])) == _gsis(created.get("LocalSecondaryIndexes", []))
        ttl = ddb.describe_time_to_live(TableName=model.Meta.table_name)["TimeToLiveDescription"]
        if ttl.get("TimeToLiveStatus") == "ENABLED":
            assert declared["TimeToLiveSpecification"] == {"AttributeName": ttl["AttributeName"], "Enabled": True}
        else:
            assert "TimeToLiveSpecification" not in declared
        assert declared["BillingMode"] == "PAY_PER_REQUEST"
        assert declared["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert tables == {}
    assert any(
        "TimeToLiveSpecification" in r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    ), "at least one model expires items"


def test_every_queue_has_a_dead_letter_queue_and_six_times_its_consumer_timeout():
    target = Target("dev", "aws")
    resources = merge_template(target, ALL_MODELS)["Resources"]
    for spec in queue_specs(target.settings):
        queue_id, dlq_id = data.queue_logical_ids(spec)
        queue = resources[queue_id]["Properties"]
        assert queue["QueueName"] == spec.name and resources[dlq_id]["Properties"]["QueueName"] == spec.dlq_name
        assert queue["VisibilityTimeout"] >= 6 * spec.consumer_timeout
        assert queue["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": spec.max_receive_count,
        }
        assert resources[dlq_id]["DeletionPolicy"] == "Retain"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


class FakeModel:
    pass


def _model(module: str, name: str) -> type:
    return type(name, (FakeModel,), {"__module__": module})


def test_grants_follow_what_each_handler_reaches(tmp_path):
    _write(
        tmp_path,
        {
            "app.py": "from chalicelib.handlers import work\n",
            "chalicelib/__init__.py": "",
            "chalicelib/settings.py": "def get_settings(): ...\n",
            "chalicelib/secrets.py": "def store_account_secrets(): ...\ndef load_account_secrets(): ...\n",
            "chalicelib/models/__init__.py": "",
            "chalicelib/models/jobs.py": "class Job: ...\n",
            "chalicelib/models/tokens.py": "class Token: ...\n",
            "chalicelib/wechat/__init__.py": "",
            "chalicelib/wechat/client.py": "from chalicelib.secrets import load_account_secrets\n",
            "chalicelib/services/__init__.py": "",
            "chalicelib/services/uploads.py": """
            from chalicelib.settings import get_settings
            def url(s3): return s3.generate_presigned_url("put_object", Params={"Bucket": get_settings().player_bucket})
        """,
            "chalicelib/handlers/__init__.py": "",
            "chalicelib/handlers/work.py": """
            from chalicelib.models.jobs import Job
            from chalicelib.services import uploads
            from chalicelib.settings import get_settings
            def helper():
                return Job
            @bp.on_sqs_message(queue=get_settings().push_queue_name)
            def planner(event):
                helper()
            @bp.on_sqs_message(queue=get_settings().send_queue_name)
            def sender(event):
                from chalicelib.models.tokens import Token
                from chalicelib.wechat.client import client_for
                return Token, client_for
            def admin_upload():
                from chalicelib.secrets import store_account_secrets
                return uploads.url, store_account_secrets
        """,
        },
    )
    target = Target("dev", "aws")
    specs = queue_specs(target.settings)
    queue_settings = {"push_queue_name": "push", "send_queue_name": "send", "manifest_queue_name": "manifest"}
    models = [_model("chalicelib.models.jobs", "Job"), _model("chalicelib.models.tokens", "Token")]

    def grants(function):
        return access.derive_grants(tmp_path, [("chalicelib.handlers.work", function)], models, specs, queue_settings)

    planner, sender, admin = grants("planner"), grants("sender"), grants("admin_upload")
    assert [m.__name__ for m in planner.models] == ["Job"]
    assert [q.key for q in planner.send_queues] == ["push"]
    assert not planner.calls_wechat and not planner.secrets_read and not planner.bucket_read
    assert [m.__name__ for m in sender.models] == ["Token"]
    assert [q.key for q in sender.send_queues] == ["send"]
    assert sender.calls_wechat and sender.secrets_read and sender.secrets_write == []
    assert admin.bucket_read and admin.bucket_write
    assert admin.secrets_write == ["accounts/*"]
    assert admin.models == [] and admin.send_queues == []


def _project_with_config(tmp_path: Path, **functions: dict) -> Path:
    shutil.copytree(PROJECT_DIR / ".chalice", tmp_path / ".chalice", ignore=shutil.ignore_patterns("deployments"))
    config = json.loads((tmp_path / ".chalice" / "config.json").read_text())
    config["lambda_functions"].update(functions)
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(config))
    _write(tmp_path, {"chalicelib/handlers/jobs.py": "def worker(event):\n    return {'batchItemFailures': []}\n"})
    return tmp_path


def _chalice_like(queue_name: str) -> dict:
    """A template shaped like ``chalice package`` output for one SQS handler."""
    return {
        "Resources": {
            "Worker": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "chalicelib.handlers.jobs.worker",
                    "Timeout": 60,
                    "MemorySize": 128,
                    "Role": {"Fn::GetAtt": ["WorkerRole", "Arn"]},
                    "Events": {
                        "WorkerSqsEventSource": {
                            "Type": "SQS",
                            "Properties": {
                                "Queue": {
                                    "Fn::Sub": f"arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{queue_name}"  # noqa: E501 - one ARN template
                                },
                                "BatchSize": 5,
                            },
                        }
                    },
                },
            },
            "WorkerRole": {"Type": "AWS::IAM::Role", "Properties": {"Policies": []}},
        },
        "Outputs": {},
    }


HANDLERS = {"chalicelib.handlers.jobs.worker": ("worker", [("chalicelib.handlers.jobs", "worker")])}


def test_a_consumer_gets_its_queue_timeout_partial_batch_responses_and_its_own_role(tmp_path):
    target = Target("dev", "aws", project_dir=_project_with_config(tmp_path, worker={"reserved_concurrency": 2}))
    template = postprocess(_chalice_like("kepuscreen-dev-send"), target, HANDLERS, ALL_MODELS)
    props = template["Resources"]["Worker"]["Properties"]
    event = props["Events"]["WorkerSqsEventSource"]["Properties"]
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Queue"] == {"Fn::GetAtt": ["QueueSend", "Arn"]}
    assert props["Timeout"] == dict((s.key, s.consumer_timeout) for s in queue_specs(target.settings))["send"]
    assert props["ReservedConcurrentExecutions"] == 2 and props["MemorySize"] == 256
    assert props["FunctionName"] == "kepuscreen-dev-worker"
    statements = template["Resources"]["WorkerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert {s["Sid"] for s in statements} == {"OwnLogs", "ConsumeQueue"}


def test_a_consumer_of_an_undescribed_queue_fails_the_build(tmp_path):
    target = Target("dev", "aws", project_dir=_project_with_config(tmp_path))
    with pytest.raises(BuildError, match="queue_specs does not describe"):
        postprocess(_chalice_like("kepuscreen-dev-elsewhere"), target, HANDLERS, ALL_MODELS)


def test_a_consumer_timeout_longer_than_its_queue_allows_fails_the_build(tmp_path):
    target = Target("dev", "aws", project_dir=_project_with_config(tmp_path, worker={"lambda_timeout": 900}))
    with pytest.raises(BuildError, match="exceeds the send queue's consumer_timeout"):
        postprocess(_chalice_like("kepuscreen-dev-send"), target, HANDLERS, ALL_MODELS)


def test_china_targets_need_a_china_region():
    with pytest.raises(ValueError, match="not in partition"):
        Target("prod", "aws-cn", "us-east-1")
    assert Target("prod", "aws-cn").region == "cn-north-1"


def operation(view):
    """A view wrapper in the style of the admin API's ``@operation``: Chalice only ever sees ``chalice_view``."""

    def chalice_view(**params):
        return view(**params)

    return chalice_view


def user_view():
    return "the code that really runs"


def test_a_wrapped_view_is_attributed_to_the_wrapper_and_to_the_view_it_holds():
    from infra.postprocess import code_roots

    assert code_roots(operation(user_view)) == {(__name__, "operation"), (__name__, "user_view")}
