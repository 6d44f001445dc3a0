"""Just enough IAM evaluation to ask a generated role "may it do X to Y?".

Intrinsics are rendered with fixed stand-ins (partition ``aws-cn``, region,
account), every ``<LogicalId>.Arn`` as the ARN that resource type would have,
then actions and resources are matched the way IAM matches them (``*`` and
``?`` wildcards, case-insensitive actions).  Only Allow statements exist in
these templates; a Condition narrows, never widens, so ignoring it can only
over-report what a role may do -- the safe direction for a "cannot" test.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

PARTITION, REGION, ACCOUNT = "aws-cn", "cn-north-1", "123456789012"


def resource_arn(template: dict[str, Any], lid: str) -> str:
    resource = template["Resources"][lid]
    kind, props = resource["Type"], resource.get("Properties", {})
    if kind == "AWS::DynamoDB::Table":
        return f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{props['TableName']}"
    if kind == "AWS::SQS::Queue":
        return f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{props['QueueName']}"
    if kind == "AWS::S3::Bucket":
        return f"arn:{PARTITION}:s3:::bucket-{lid.lower()}"
    if kind == "AWS::SNS::Topic":
        return f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{lid}"
    return f"arn:{PARTITION}:other:{REGION}:{ACCOUNT}:{lid}"


def render(template: dict[str, Any], value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return resource_arn(template, value["Fn::GetAtt"][0])
    if "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        pseudo = {
            "AWS::Partition": PARTITION,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::URLSuffix": "amazonaws.com.cn",
        }

        def one(match: re.Match[str]) -> str:
            name = match[1]
            if name in pseudo:
                return pseudo[name]
            return resource_arn(template, name.removesuffix(".Arn"))

        return re.sub(r"\$\{([^}]+)\}", one, text)
    raise ValueError(f"cannot render {value!r}")


def statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in template["Resources"][role_id]["Properties"].get("Policies", []):
        found.extend(policy["PolicyDocument"]["Statement"])
    return found


def allows(template: dict[str, Any], role_id: str, action: str, resource: str) -> bool:
    for statement in statements(template, role_id):
        if statement["Effect"] != "Allow":
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in actions):
            continue
        if any(fnmatch.fnmatchcase(resource, render(template, r)) for r in resources):
            return True
    return False
