"""Finish what ``chalice package`` cannot express (Chalice 1.34).

- Every SQS event source gets ``FunctionResponseTypes: [ReportBatchItemFailures]``
  (without it Lambda ignores a handler's ``batchItemFailures`` and retries or
  deletes the whole batch), and points at the queue resource by ``GetAtt`` so
  CloudFormation creates the queue first.  An event source on a queue that
  ``chalicelib.resources.queue_specs`` does not describe is an error.
- Every function gets its explicit name (``kepuscreen-<stage>-<function>``,
  as ``chalice deploy`` names it), memory, timeout and reserved concurrency
  from ``.chalice/config.json`` (``lambda_functions`` first, then the stage,
  then the top level -- Chalice's own precedence).  A queue consumer without
  its own ``lambda_timeout`` gets its queue's ``consumer_timeout``; one with a
  longer timeout than that is an error, because the queue's visibility
  timeout (six times ``consumer_timeout``) would then be too short.
- Every function's role gets the least-privilege policy ``infra.access``
  derives from its code; WeChat-calling functions get the optional VPC.
- Environment values only the stack knows: the bucket's real name, the CDN
  and API base URLs.
- A queue, stream or schedule function with a thin entry module
  (``chalicelib/entries/<function>.py``, ``infra.event_entries``) gets it as
  its handler, so it loads only its own consumer.
"""

from __future__ import annotations

import re
from typing import Any

from chalice.utils import to_cfn_resource_name

from infra import access, alarms, data, domains, event_entries, network, operations, player
from infra.stage import APP_NAME, Target

STREAM_TABLE_RE = re.compile(r":table/(?P<table>[^/]+)/stream/")
STREAM_FAILURES = "StreamFailuresDlq"
# A roll-up batch that keeps failing must not block its shard for the stream's 24 h and then vanish:
# after these retries (halving the batch each time to isolate a bad record) its shard and sequence range
# go to the stream-failures DLQ, which alarms; the roll-ups are then rebuilt from the source records.
STREAM_RETRY = {"MaximumRetryAttempts": 8, "BisectBatchOnFunctionError": True, "MaximumRecordAgeInSeconds": 21600}
STREAM_READ = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
SQS_ARN_RE = re.compile(r"^arn:\$\{AWS::Partition\}:sqs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(?P<name>[\w-]+)$")
FUNCTION_SETTINGS = {
    "lambda_memory_size": "MemorySize",
    "lambda_timeout": "Timeout",
    "reserved_concurrency": "ReservedConcurrentExecutions",
}


class BuildError(Exception):
    """The code and the deployment description disagree; the message says how."""


def function_setting(
    config: dict[str, Any], stage: str, function: str, key: str, *, function_only: bool = False
) -> Any:
    """A setting with Chalice's precedence; ``function_only`` ignores stage/global defaults."""
    stage_config = config.get("stages", {}).get(stage, {})
    chain = [
        stage_config.get("lambda_functions", {}).get(function, {}),
        config.get("lambda_functions", {}).get(function, {}),
    ]
    if not function_only:
        chain = [chain[0], stage_config, chain[1], config]
    for source in chain:
        if source.get(key) is not None:
            return source[key]
    return None


Root = tuple[str, str | None]  # (module, function in it; None = the whole module)


def code_roots(func: Any, depth: int = 0) -> set[Root]:
    """The module-level definitions a registered handler runs: itself, what it wraps (``__wrapped__``) and the
    functions its closure holds -- so a view registered through a wrapper (``@operation(...)`` building a
    ``chalice_view``) is attributed to the wrapper's factory *and* to the user's function.
    """
    roots: set[Root] = set()
    while func is not None and depth < 4:
        module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
        if module and qualname:
            roots.add((module, qualname.split(".")[0]))
        for cell in getattr(func, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if hasattr(value, "__code__"):
                roots |= code_roots(value, depth + 1)
        func = getattr(func, "__wrapped__", None)
        depth += 1
    return roots


def app_functions(app: Any) -> dict[str, tuple[str, list[Root]]]:
    """Lambda handler string -> (Chalice function name, the Python definitions it runs).

    ``app.app`` is the API handler: it runs every route's view (and nothing of
    the event handlers its blueprints also define).  Event handlers are
    ``<module>.<function>``.
    """
    routes: set[Root] = set()
    for methods in app.routes.values():
        for entry in methods.values():
            routes |= code_roots(entry.view_function)
    result: dict[str, tuple[str, list[Root]]] = {"app.app": ("api_handler", sorted(routes, key=str))}
    for name, handler in app.handler_map.items():
        func = getattr(handler, "func", handler)
        module = getattr(func, "__module__", None)
        if module and name != "api_handler":
            result[f"{module}.{func.__name__}"] = (name, sorted(code_roots(func), key=str))
    return result


def functions(template: dict[str, Any]) -> dict[str, str]:
    """CloudFormation logical id -> Lambda handler string, for every function in the template."""
    return {
        lid: resource["Properties"]["Handler"]
        for lid, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def postprocess(
    template: dict[str, Any],
    target: Target,
    handlers: dict[str, tuple[str, list[Root]]],
    models: list[Any],
    entries: list[Any] | None = None,
) -> dict[str, Any]:
    """Apply everything above to the template Chalice produced (in place; also returned).

    ``entries`` (``infra.public.load_entries``) are the public surfaces split off into functions of their own.
    """
    from chalicelib.resources import queue_specs
    from infra import public

    public.split(template, entries or [])
    public_names = {found.entry.name for found in entries or []}

    settings = target.settings
    config = target.chalice_config
    specs = queue_specs(settings)
    by_name = {spec.name: spec for spec in specs}
    queue_ids = {spec.key: data.queue_logical_ids(spec)[0] for spec in specs}
    queue_settings = {
        attr: spec.key
        for spec in specs
        for attr, value in vars(settings).items()
        if attr.endswith("_queue_name") and value == spec.name
    }
    table_arns = data.table_arns(models)
    resources = template["Resources"]

    roles_seen: set[str] = set()
    for lid, handler in functions(template).items():
        if handler not in handlers:
            raise BuildError(f"{lid}: handler {handler} is in the package but not registered on the app")
        name, roots = handlers[handler]
        props = resources[lid]["Properties"]
        function_name = f"{APP_NAME}-{target.stage}-{name}"
        consumed = None
        for key, prop in FUNCTION_SETTINGS.items():
            value = function_setting(config, target.stage, name, key)
            if value is not None:
                props[prop] = value
        streams = []
        for event in (props.get("Events") or {}).values():
            if event["Type"] == "DynamoDB":
                streams.append(_stream_of(event, models, name, settings.table_prefix))
                event["Properties"].update(STREAM_RETRY)
                event["Properties"]["DestinationConfig"] = {
                    "OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": [STREAM_FAILURES, "Arn"]}}
                }
                resources.setdefault(STREAM_FAILURES, _stream_failures_queue(target.stage))
                continue
            if event["Type"] != "SQS":
                continue
            spec = consumed = _queue_of(event, by_name, name)
            event["Properties"]["Queue"] = {"Fn::GetAtt": [queue_ids[spec.key], "Arn"]}
            event["Properties"]["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            event["Properties"]["ScalingConfig"] = {"MaximumConcurrency": operations.maximum_concurrency(spec.key)}
            own_timeout = function_setting(config, target.stage, name, "lambda_timeout", function_only=True)
            if own_timeout is None:
                props["Timeout"] = spec.consumer_timeout
            elif own_timeout > spec.consumer_timeout:
                raise BuildError(
                    f"{name}: lambda_timeout {own_timeout}s exceeds the {spec.key} queue's consumer_timeout "
                    f"{spec.consumer_timeout}s (visibility {spec.visibility_timeout}s must be >= 6x); raise "
                    "CONSUMER_TIMEOUT_SECONDS in chalicelib/resources.py or lower the timeout"
                )

        grants = access.derive_grants(target.project_dir, roots, models, specs, queue_settings)
        grants.consume_queue = consumed
        if props.get("Events") and not handler.endswith(".app"):
            try:
                entry = event_entries.entry_handler(target.project_dir, name, handler)
            except event_entries.EntryError as exc:
                raise BuildError(str(exc)) from exc
            props["Handler"] = entry or handler
        props["FunctionName"] = function_name
        variables = props.setdefault("Environment", {}).setdefault("Variables", {})
        variables["PLAYER_BUCKET"] = {"Ref": player.BUCKET}
        variables["CDN_BASE_URL"] = player.base_url(target.china)
        variables["PUBLIC_BASE_URL"] = {"Ref": "PublicBaseUrl"}
        if grants.calls_wechat:
            props["VpcConfig"] = network.vpc_config()

        role_id = props["Role"]["Fn::GetAtt"][0]
        if role_id in roles_seen:
            raise BuildError(f"{name} shares role {role_id}; set autogen_policy false so each function has its own")
        roles_seen.add(role_id)
        role = resources[role_id]["Properties"]
        role["Policies"] = [
            {
                "PolicyName": f"{to_cfn_resource_name(name)}Access",
                "PolicyDocument": access.policy_document(
                    grants,
                    function_name=function_name,
                    table_arns=table_arns,
                    queue_ids=queue_ids,
                    bucket_id=player.BUCKET,
                    secrets_prefix=settings.secrets_prefix,
                ),
            }
        ]
        if streams:  # a roll-up consumer reads its table's stream (the event source mapping polls it as the role)
            role["Policies"][0]["PolicyDocument"]["Statement"].append(
                {
                    "Sid": "ReadOwnStreams",
                    "Effect": "Allow",
                    "Action": STREAM_READ,
                    "Resource": [{"Fn::GetAtt": [lid_, "StreamArn"]} for lid_ in streams],
                }
            )
            role["Policies"][0]["PolicyDocument"]["Statement"].append(
                {
                    "Sid": "StreamFailuresToDlq",
                    "Effect": "Allow",
                    "Action": ["sqs:SendMessage"],
                    "Resource": [{"Fn::GetAtt": [STREAM_FAILURES, "Arn"]}],
                }
            )
        if name in public_names:
            public.restrict_tables(
                role["Policies"][0]["PolicyDocument"], [data.table_suffix(m) for m in grants.models], name
            )
        if grants.calls_wechat:
            role["ManagedPolicyArns"] = network.vpc_managed_policy()
        resources[role_id].setdefault("Metadata", {})["kepuscreen"] = {
            "function": name,
            "modules": sorted(grants.modules),
            "tables": sorted(data.table_suffix(m) for m in grants.models),
            "sends_to": sorted(q.key for q in grants.send_queues),
            "consumes": grants.consume_queue.key if grants.consume_queue else "",
            "calls_wechat": grants.calls_wechat,
        }
    _name_log_groups(template)
    operations.configure(template, target)
    alarms.add(template, target)
    domains.add(template, target)
    template["Outputs"]["CallbackUrlPattern"] = (
        {
            "Description": "Server address (URL) for the WeChat console; put the account's appid in place of {appid}",
            "Value": {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/wechat/{appid}"},
        }
        if "RestAPI" in resources
        else {"Value": "no API in this app"}
    )
    return template


def _name_log_groups(template: dict[str, Any]) -> None:
    """Give Chalice's log groups the functions' explicit names, and create them before the functions.

    Chalice 1.34 names the API handler's log group after ``${ApiHandler}``, a
    resource that does not exist once it has renamed the function
    ``APIHandler``; literal names avoid that and any ordering question.
    """
    resources = template["Resources"]
    by_ref = {}
    for lid in functions(template):
        by_ref[lid] = lid
        if lid == "APIHandler":
            by_ref["ApiHandler"] = lid
    for log_id, resource in resources.items():
        if resource["Type"] != "AWS::Logs::LogGroup":
            continue
        ref = re.fullmatch(r"/aws/lambda/\$\{(\w+)\}", resource["Properties"]["LogGroupName"].get("Fn::Sub", ""))
        if not ref or ref[1] not in by_ref:
            raise BuildError(f"log group {log_id} does not name a function of this template")
        function = resources[by_ref[ref[1]]]
        resource["Properties"]["LogGroupName"] = f"/aws/lambda/{function['Properties']['FunctionName']}"
        function.setdefault("DependsOn", [])
        function["DependsOn"] = sorted({*function["DependsOn"], log_id})


def _queue_of(event: dict[str, Any], by_name: dict[str, Any], function: str) -> Any:
    queue = event["Properties"]["Queue"]
    match = SQS_ARN_RE.match(queue.get("Fn::Sub", "")) if isinstance(queue, dict) else None
    if not match or match["name"] not in by_name:
        raise BuildError(
            f"{function} consumes {queue!r}, which chalicelib.resources.queue_specs does not describe; "
            "add the queue there so it is created with its dead-letter queue"
        )
    return by_name[match["name"]]


def _stream_failures_queue(stage: str) -> dict[str, Any]:
    """Where Lambda puts a stream batch it gave up on (shard and sequence range; records stay in the stream 24 h)."""
    return {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "QueueName": f"{APP_NAME}-{stage}-stream-failures",
            "MessageRetentionPeriod": 1209600,
            "SqsManagedSseEnabled": True,
        },
    }


def _stream_of(event: dict[str, Any], models: list[Any], function: str, table_prefix: str) -> str:
    """Point a DynamoDB event source at its table's stream by ``GetAtt``; returns the table's logical id."""
    stream = event["Properties"].get("Stream")
    match = STREAM_TABLE_RE.search(stream) if isinstance(stream, str) else None
    suffix = match["table"][len(table_prefix) :] if match and match["table"].startswith(table_prefix) else None
    model = next((m for m in models if suffix and data.table_suffix(m) == suffix), None)
    if model is None or not getattr(model.Meta, "stream_view_type", None):
        raise BuildError(f"{function} consumes the stream {stream!r} of no model with Meta.stream_view_type")
    table_id = data.logical_id("Table", data.table_suffix(model))
    event["Properties"]["Stream"] = {"Fn::GetAtt": [table_id, "StreamArn"]}
    return table_id
