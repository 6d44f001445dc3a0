"""The merge template: everything the stack holds besides Chalice's functions and API."""

from __future__ import annotations

from typing import Any

from infra import data, network, player
from infra.stage import Target


def merge_template(target: Target, models: list[Any]) -> dict[str, Any]:
    """Tables, queues, player bucket + CDN, optional egress network; parameters, conditions, outputs."""
    settings = target.settings
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"kepuscreen {target.stage} ({target.partition}): WeChat callbacks, admin API, push, player",
        "Parameters": {
            "PublicBaseUrl": {
                "Type": "String",
                "Default": "",
                "Description": "Base URL of the API as fans and WeChat reach it, e.g. https://api.example.cn/api "
                "(make deploy fills in the execute-api URL when empty)",
            },
            **player.parameters(target.china),
            **network.parameters(),
        },
        "Conditions": {**player.conditions(target.china), **network.conditions()},
        "Resources": {
            **data.table_resources(models, settings),
            **data.queue_resources(settings),
            **player.resources(settings, target.china),
            **network.resources(),
        },
        "Outputs": {
            **player.outputs(target.china),
            **network.outputs(),
            "SecretsPrefix": {"Value": settings.secrets_prefix},
        },
    }
