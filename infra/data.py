"""DynamoDB tables and SQS queues as CloudFormation, generated from the code's own descriptions.

Tables come from the pynamodb models (``ALL_MODELS``) through pynamodb's own
schema -- the same schema ``devstack`` creates locally -- so keys, attribute
types, indexes and projections cannot drift from what the code queries.
Queues come from ``chalicelib.resources.queue_specs``: each with its
dead-letter queue, redrive policy and a visibility timeout of six times its
consumer's timeout.  Tables and dead-letter queues are retained when the stack
is deleted or a resource replaced: they hold data.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.resources import QueueSpec, queue_specs
from chalicelib.settings import Settings, get_settings

DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the SQS maximum: time to notice and replay
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def logical_id(prefix: str, name: str) -> str:
    """A CloudFormation logical id from a resource's short name (``daily_stats`` -> ``TableDailyStats``)."""
    return prefix + "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def table_suffix(model: Any) -> str:
    """The stage-independent part of a model's table name (``kepuscreen-dev-screens`` -> ``screens``)."""
    name, prefix = model.Meta.table_name, get_settings().table_prefix
    if not name.startswith(prefix):
        raise ValueError(
            f"{model.__name__}.Meta.table_name {name!r} does not start with TABLE_PREFIX {prefix!r}; "
            "table names must come from chalicelib.models.base.table_name()"
        )
    return name[len(prefix) :]


def _key_schema(keys: list[dict[str, str]]) -> list[dict[str, str]]:
    # CloudFormation wants HASH before RANGE; pynamodb lists them in attribute order.
    ordered = sorted(keys, key=lambda k: k["KeyType"] != "HASH")
    return [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in ordered]


def table_resource(model: Any, settings: Settings) -> dict[str, Any]:
    """One ``AWS::DynamoDB::Table``: on-demand, point-in-time recovery, TTL on the model's TTLAttribute.

    Encryption at rest is DynamoDB's default (always on, AWS-owned key).
    """
    schema = model._get_schema()  # pynamodb's own description; what create_table sends
    definitions: dict[str, str] = {}
    for item in schema["attribute_definitions"]:
        definitions[item["AttributeName"]] = item["AttributeType"]
    properties: dict[str, Any] = {
        "TableName": f"{settings.table_prefix}{table_suffix(model)}",
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _key_schema(schema["key_schema"]),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
    }
    for kind, prop in (
        ("global_secondary_indexes", "GlobalSecondaryIndexes"),
        ("local_secondary_indexes", "LocalSecondaryIndexes"),
    ):
        indexes = []
        for index in schema[kind]:
            for item in index.get("attribute_definitions", []):
                definitions[item["AttributeName"]] = item["AttributeType"]
            projection = {"ProjectionType": index["projection"]["ProjectionType"]}
            if index["projection"].get("NonKeyAttributes"):
                projection["NonKeyAttributes"] = list(index["projection"]["NonKeyAttributes"])
            indexes.append(
                {
                    "IndexName": index["index_name"],
                    "KeySchema": _key_schema(index["key_schema"]),
                    "Projection": projection,
                }
            )
        if indexes:
            properties[prop] = indexes
    properties["AttributeDefinitions"] = [
        {"AttributeName": name, "AttributeType": kind} for name, kind in definitions.items()
    ]
    stream_view = getattr(model.Meta, "stream_view_type", None)  # consumed by the analytics roll-ups
    if stream_view:
        properties["StreamSpecification"] = {"StreamViewType": stream_view}
    ttl = model._ttl_attribute()  # pynamodb has no public accessor
    if ttl is not None:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl.attr_name, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", **RETAIN, "Properties": properties}


def table_resources(models: list[Any], settings: Settings) -> dict[str, dict[str, Any]]:
    """Logical id -> table resource for every model."""
    resources: dict[str, dict[str, Any]] = {}
    for model in models:
        lid = logical_id("Table", table_suffix(model))
        if lid in resources:
            raise ValueError(f"two models map to the same table resource {lid}")
        resources[lid] = table_resource(model, settings)
    return resources


def queue_logical_ids(spec: QueueSpec) -> tuple[str, str]:
    base = logical_id("Queue", spec.key)
    return base, f"{base}Dlq"


def queue_resources(settings: Settings) -> dict[str, dict[str, Any]]:
    """Each queue with its dead-letter queue; SSE with SQS-owned keys (works in both partitions)."""
    resources: dict[str, dict[str, Any]] = {}
    for spec in queue_specs(settings):
        queue_id, dlq_id = queue_logical_ids(spec)
        resources[dlq_id] = {
            "Type": "AWS::SQS::Queue",
            **RETAIN,
            "Properties": {
                "QueueName": spec.dlq_name,
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
            },
        }
        resources[queue_id] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": spec.name,
                "VisibilityTimeout": spec.visibility_timeout,
                "MessageRetentionPeriod": 4 * 24 * 3600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                    "maxReceiveCount": spec.max_receive_count,
                },
            },
        }
    return resources


def table_arns(models: list[Any]) -> dict[Any, tuple[dict[str, Any], dict[str, Any]]]:
    """Model -> (table ARN, ARN of all its indexes), for IAM statements."""
    result = {}
    for model in models:
        lid = logical_id("Table", table_suffix(model))
        result[model] = ({"Fn::GetAtt": [lid, "Arn"]}, {"Fn::Sub": f"${{{lid}.Arn}}/index/*"})
    return result
