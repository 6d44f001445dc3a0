"""Each Lambda function's role as infra generates it, and the AWS calls a function really makes.

``function_policies`` builds every function's policy document with the very
code ``infra.postprocess`` uses for the template (``infra.access``), without
``chalice package``: the grants come from the same import-closure analysis,
the statements from the same ``policy_document``.  CloudFormation references
are then resolved to concrete ARNs for one made-up account.

``CallRecorder`` hooks botocore's single call path (boto3, pynamodb and
Powertools clients all go through ``BaseClient._make_api_call``) and, while a
function is "running", turns each call into the IAM actions and resources AWS
would authorise it against.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from botocore.client import BaseClient

from chalicelib.models import ALL_MODELS
from chalicelib.resources import queue_specs
from chalicelib.settings import get_settings
from infra import access, data, player
from infra.postprocess import app_functions

PARTITION, ACCOUNT = "aws-cn", "123456789012"
PROJECT_DIR = Path(__file__).resolve().parents[2]


def _region() -> str:
    return get_settings().region


def table_arn(name: str) -> str:
    return f"arn:{PARTITION}:dynamodb:{_region()}:{ACCOUNT}:table/{name}"


def queue_arn(name: str) -> str:
    return f"arn:{PARTITION}:sqs:{_region()}:{ACCOUNT}:{name}"


def lambda_functions(app: Any) -> dict[str, list]:
    """Chalice function name -> the code roots it runs: the API handler and every event source."""
    by_name = {name: roots for name, roots in app_functions(app).values()}
    names = ["api_handler", *(source.name for source in app.event_sources)]
    return {name: by_name[name] for name in names}


def function_policies(app: Any) -> dict[str, list[dict[str, Any]]]:
    """Chalice function name -> its role's statements, with every reference resolved."""
    settings = get_settings()
    specs = queue_specs(settings)
    queue_settings = {
        attr: spec.key
        for spec in specs
        for attr, value in vars(settings).items()
        if attr.endswith("_queue_name") and value == spec.name
    }
    queue_ids = {spec.key: data.queue_logical_ids(spec)[0] for spec in specs}
    consumed = {source.name: getattr(source, "queue", None) for source in app.event_sources}
    by_queue_name = {spec.name: spec for spec in specs}
    references = {player.BUCKET: f"arn:{PARTITION}:s3:::{settings.player_bucket}"}
    for model in ALL_MODELS:
        references[data.logical_id("Table", data.table_suffix(model))] = table_arn(model.Meta.table_name)
    for spec in specs:
        queue_id, dlq_id = data.queue_logical_ids(spec)
        references[queue_id], references[dlq_id] = queue_arn(spec.name), queue_arn(spec.dlq_name)
    policies = {}
    for name, roots in lambda_functions(app).items():
        grants = access.derive_grants(PROJECT_DIR, roots, ALL_MODELS, specs, queue_settings)
        grants.consume_queue = by_queue_name.get(consumed.get(name))
        document = access.policy_document(
            grants,
            function_name=f"kepuscreen-test-{name}",
            table_arns=data.table_arns(ALL_MODELS),
            queue_ids=queue_ids,
            bucket_id=player.BUCKET,
            secrets_prefix=settings.secrets_prefix,
        )
        policies[name] = [_resolve(statement, references) for statement in document["Statement"]]
    return policies


def _resolve(value: Any, references: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [_resolve(v, references) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::GetAtt"}:
        lid, attribute = value["Fn::GetAtt"]
        assert attribute == "Arn", value
        return references[lid]
    if set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]
        for key, arn in references.items():
            text = text.replace(f"${{{key}.Arn}}", arn)
        text = (
            text.replace("${AWS::Partition}", PARTITION)
            .replace("${AWS::Region}", _region())
            .replace("${AWS::AccountId}", ACCOUNT)
            .replace("${AWS::URLSuffix}", "amazonaws.com.cn")
        )
        assert "${" not in text, text
        return text
    return {k: _resolve(v, references) for k, v in value.items()}


def allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's matching for Allow statements without conditions (wildcards in actions and resources)."""
    for statement in statements:
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions) and any(
            fnmatch.fnmatchcase(resource, r) for r in resources
        ):
            return True
    return False


# ------------------------------------------------------------------ what a call needs

_TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
_SQS_BATCH = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def _dynamodb(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    if operation == "TransactWriteItems":
        return [
            (f"dynamodb:{_TRANSACT[kind]}", table_arn(body["TableName"]))
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if operation == "TransactGetItems":
        return [("dynamodb:GetItem", table_arn(item["Get"]["TableName"])) for item in params["TransactItems"]]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", table_arn(name)) for name in params["RequestItems"]]
    arn = table_arn(params["TableName"])
    if params.get("IndexName"):
        arn += f"/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", arn)]


def _sqs(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    if operation == "GetQueueUrl":
        name = params["QueueName"]
    else:
        name = unquote(params["QueueUrl"].rstrip("/").rsplit("/", 1)[1])
    return [(f"sqs:{_SQS_BATCH.get(operation, operation)}", queue_arn(name))]


def _s3(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    bucket = f"arn:{PARTITION}:s3:::{params['Bucket']}"
    if operation in ("ListObjectsV2", "ListObjects"):
        return [("s3:ListBucket", bucket)]
    if operation == "HeadObject":
        return [("s3:GetObject", f"{bucket}/{params['Key']}")]
    if operation == "DeleteObjects":
        return [("s3:DeleteObject", f"{bucket}/{o['Key']}") for o in params["Delete"]["Objects"]]
    if operation == "CopyObject":
        source = params["CopySource"]
        source = f"{source['Bucket']}/{source['Key']}" if isinstance(source, dict) else source.lstrip("/")
        return [("s3:PutObject", f"{bucket}/{params['Key']}"), ("s3:GetObject", f"arn:{PARTITION}:s3:::{source}")]
    return [(f"s3:{operation}", f"{bucket}/{params['Key']}")]


def _ssm(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    def arn(name: str) -> str:
        return f"arn:{PARTITION}:ssm:{_region()}:{ACCOUNT}:parameter/{name.lstrip('/')}"

    if operation == "GetParameters":
        return [("ssm:GetParameters", arn(n)) for n in params["Names"]]
    if operation == "GetParametersByPath":
        return [("ssm:GetParametersByPath", arn(params["Path"]))]
    return [(f"ssm:{operation}", arn(params["Name"]))]


_NEEDS = {"dynamodb": _dynamodb, "sqs": _sqs, "s3": _s3, "ssm": _ssm}


def needs(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (action, resource) pairs IAM authorises one call against; unknown services need ``*``."""
    handler = _NEEDS.get(service)
    return handler(operation, params) if handler else [(f"{service}:{operation}", "*")]


class CallRecorder:
    """Records every AWS call made while a function runs, by function (all threads: one function at a time)."""

    def __init__(self) -> None:
        self.calls: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
        self.current: str | None = None
        self._lock = threading.Lock()
        self._original = BaseClient._make_api_call

    def install(self) -> None:
        recorder, original = self, self._original

        def recording(client, operation_name, params):
            function = recorder.current
            if function is not None:
                service = client.meta.service_model.service_name
                with recorder._lock:
                    for action, resource in needs(service, operation_name, params):
                        recorder.calls[function].append((service, operation_name, action, resource))
            return original(client, operation_name, params)

        BaseClient._make_api_call = recording

    def uninstall(self) -> None:
        BaseClient._make_api_call = self._original

    @contextmanager
    def running(self, function: str):
        """The block runs as Lambda function ``function`` (its calls are attributed to it)."""
        previous, self.current = self.current, function
        try:
            yield
        finally:
            self.current = previous

    def wrap_handlers(self, app: Any, names: list[str], cold_start: Any = None) -> dict[str, Any]:
        """Make the app's event handlers attribute their calls to themselves; returns the originals.

        ``cold_start`` runs before each invocation: every function is its own Lambda process, so
        nothing another function cached (an access token, an account) may hide a call it must make.
        """
        originals = {name: app.handler_map[name] for name in names}
        for name, handler in originals.items():

            def wrapped(event, context=None, _handler=handler, _name=name):
                if cold_start is not None:
                    cold_start()
                with self.running(_name):
                    return _handler(event, context)

            app.handler_map[name] = wrapped
        return originals
