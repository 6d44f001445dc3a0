"""What each function may touch, derived from the code it can run.

Every Lambda function gets its own role.  Its statements are worked out from
the *import closure* of its handler's module -- the project modules it
imports, transitively, read as source (nothing is executed):

- tables: the pynamodb models defined in modules of the closure *and named*
  by code of the closure outside their own module (item read/write plus
  ``DescribeTable``, which pynamodb calls, on the table and its indexes; never
  ``*``): a module that defines several models (``models/sessions.py``) does
  not hand all of them to a function that uses one.  ``from chalicelib.models
  import Account`` counts as an import of ``chalicelib.models.accounts``, the
  module the package re-exports it from, not of the package (whose
  ``__init__`` imports every model);
- queues it sends to: ``<key>_queue_name`` settings the closure names
  (``get_settings().push_queue_name``); a consumer names its own queue in its
  decorator, so it may re-enqueue to it (retries with delay);
- the queue it consumes: from its event source (receive/delete/visibility);
- the player bucket: read when the closure names ``player_bucket``, write
  when it also uploads (``put_object``, ``upload_file(obj)``, ``copy_object``,
  ``delete_object``, presigned PUTs), limited to the ``screens/`` and
  ``media/`` prefixes (``player/`` is written only by the deploy);
- secrets: SSM reads under ``${SECRETS_PREFIX}/`` when the closure contains
  ``chalicelib.secrets``; writes to ``accounts/`` when it calls
  ``store_account_secrets``; KMS use only through SSM for those parameters;
- WeChat: a closure with ``chalicelib.wechat.client`` calls WeChat's API, so
  the function goes into the fixed-egress VPC when that option is on; and its
  access tokens come from the shared provider (``chalicelib.services.gateway.tokens``,
  installed at import time by a handler module, not called by the handler), so
  that module's closure (the ``access_tokens`` table) is part of the function's.

``chalicelib.settings`` and ``chalicelib.resources`` describe resources
without using them and are not read for names.  The API handler runs every
route, so its closure is ``app`` itself.  Anything dynamic (a queue chosen by
a computed attribute name) is invisible here: name the setting in code.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.resources import QueueSpec

DESCRIPTIVE_MODULES = {"chalicelib.settings", "chalicelib.resources"}
REEXPORT_PACKAGES = {"chalicelib.models"}  # packages whose __init__ only gathers names from their modules
WECHAT_CLIENT = "chalicelib.wechat.client"
WECHAT_CREDENTIALS_MODULE = "chalicelib.services.gateway.tokens"  # what every WeChat client asks for its access token
S3_WRITE_NAMES = {
    "put_object",
    "upload_file",
    "upload_fileobj",
    "copy_object",
    "delete_object",
    "delete_objects",
    "generate_presigned_post",
}
DATA_PREFIXES = ("screens/*", "media/*", "uploads/*")  # uploads/: staged media, never public
SECRET_WRITERS = {"store_account_secrets": "accounts/*", "ensure_app_signing_key": "app/*"}

DYNAMODB_ACTIONS = sorted(
    [
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:ConditionCheckItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
    ]
)
SQS_SEND = ["sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage"]
SQS_CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]


@dataclass(frozen=True)
class SourceFacts:
    """What one module's source says: the project modules it imports and the names it uses."""

    imports: frozenset[str]
    names: frozenset[str]


@dataclass
class Grants:
    """What one function's code can reach."""

    modules: set[str] = field(default_factory=set)
    models: list[Any] = field(default_factory=list)
    send_queues: list[QueueSpec] = field(default_factory=list)
    consume_queue: QueueSpec | None = None
    bucket_read: bool = False
    bucket_write: bool = False
    secrets_read: bool = False
    secrets_write: list[str] = field(default_factory=list)
    calls_wechat: bool = False


def module_file(project_dir: Path, module: str) -> Path | None:
    """The source file of a project module, or None if it is not one (stdlib, third party)."""
    base = project_dir.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _resolve(package: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    anchor = parts[: len(parts) - node.level + 1]
    return ".".join(anchor + ([node.module] if node.module else []))


def _collect(node: ast.AST, package: str) -> tuple[set[str], set[str]]:
    """Imported modules and used names anywhere under ``node`` (function-level imports count too)."""
    imports: set[str] = set()
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Import):
            imports.update(alias.name for alias in child.names)
        elif isinstance(child, ast.ImportFrom):
            base = _resolve(package, child)
            imports.add(base)
            imports.update(f"{base}.{alias.name}" for alias in child.names)  # ``from pkg import module``
            names.update(alias.name for alias in child.names)
        elif isinstance(child, ast.Attribute):
            names.add(child.attr)
        elif isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.Constant) and isinstance(child.value, str) and child.value.isidentifier():
            names.add(child.value)  # generate_presigned_url("put_object", ...)
    return imports, names


def _parse(project_dir: Path, module: str) -> tuple[ast.Module, str]:
    path = module_file(project_dir, module)
    if path is None:
        raise FileNotFoundError(f"no source for module {module} under {project_dir}")
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return ast.parse(path.read_text(), filename=str(path)), package


@cache
def _reexports(project_dir: Path, package: str) -> dict[str, str]:
    """Name -> the module of ``package`` it is imported from in the package's ``__init__``."""
    tree, _ = _parse(project_dir, package)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            module = _resolve(package, node)
            if module.startswith(f"{package}."):
                found.update({alias.asname or alias.name: module for alias in node.names})
    return found


def _through_reexports(project_dir: Path, imports: set[str]) -> set[str]:
    """Replace an import of a re-exporting package by the modules the imported names come from.

    The package stays when something is imported from it that none of its
    modules defines (``ALL_MODELS``): that really needs the whole package.
    """
    imports = set(imports)
    for package in REEXPORT_PACKAGES & imports:
        table = _reexports(project_dir, package)
        prefix = f"{package}."
        named = {m[len(prefix) :] for m in imports if m.startswith(prefix) and "." not in m[len(prefix) :]}
        named -= {n for n in named if module_file(project_dir, f"{package}.{n}") is not None}  # ``import pkg.mod``
        if named and named <= table.keys():
            imports.discard(package)
            imports |= {table[n] for n in named}
    return imports


def _used_by_named(project_dir: Path, module: str, outside: frozenset[str]) -> set[str]:
    """Names used by the top-level functions and classes of ``module`` that ``outside`` names (transitively)."""
    tree, package = _parse(project_dir, module)
    definitions = {
        node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }
    used: set[str] = set()
    todo = [name for name in definitions if name in outside]
    seen = set(todo)
    while todo:
        names = _collect(definitions[todo.pop()], package)[1]
        used |= names
        for name in (names & definitions.keys()) - seen:
            seen.add(name)
            todo.append(name)
    return used


def _project_only(project_dir: Path, imports: set[str], names: set[str]) -> SourceFacts:
    imports = _through_reexports(project_dir, imports)
    return SourceFacts(frozenset(m for m in imports if m and module_file(project_dir, m) is not None), frozenset(names))


@cache
def _facts(project_dir: Path, module: str) -> SourceFacts:
    """A whole module: everything it imports and names."""
    tree, package = _parse(project_dir, module)
    return _project_only(project_dir, *_collect(tree, package))


@cache
def _function_facts(project_dir: Path, module: str, function: str) -> SourceFacts:
    """One handler inside its module: what the function (with its decorators) and the module-level
    functions, classes and assignments it uses import and name -- not its neighbours' needs.
    """
    tree, package = _parse(project_dir, module)
    definitions: dict[str, ast.AST] = {}
    bindings: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            definitions[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    definitions[target.id] = node
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bindings[alias.asname or alias.name.split(".")[0]] = {alias.name}
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(package, node)
            for alias in node.names:
                bindings[alias.asname or alias.name] = {base, f"{base}.{alias.name}"}
    if function not in definitions:
        return _facts(project_dir, module)
    imports: set[str] = set()
    names: set[str] = set()
    used, todo = {function}, [function]
    while todo:
        found_imports, found_names = _collect(definitions[todo.pop()], package)
        imports |= found_imports
        names |= found_names
        for name in (found_names & definitions.keys()) - used:
            used.add(name)
            todo.append(name)
    for name in names & bindings.keys():
        imports |= bindings[name]
    return _project_only(project_dir, imports, names)


def import_closure(project_dir: Path, roots: list[str]) -> set[str]:
    """Every project module reachable from ``roots`` through imports."""
    seen: set[str] = set()
    todo = [m for m in roots if module_file(project_dir, m) is not None]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_facts(project_dir, module).imports - seen)
    return seen


def derive_grants(
    project_dir: Path,
    roots: list[tuple[str, str | None]],
    models: list[Any],
    queues: list[QueueSpec],
    queue_settings: dict[str, str],
) -> Grants:
    """The grants of a Lambda function that runs the Python functions ``roots`` ((module, function) pairs;
    function None means the whole module).

    ``queue_settings`` maps each queue's settings attribute (``push_queue_name``)
    to its queue key (``push``).
    """
    root_imports: set[str] = set()
    root_names: set[str] = set()
    roots = [(module, function) for module, function in roots if module_file(project_dir, module) is not None]
    for module, function in roots:
        facts = _function_facts(project_dir, module, function) if function else _facts(project_dir, module)
        root_imports |= facts.imports
        root_names |= facts.names
    root_modules = {module for module, _ in roots}
    closure = import_closure(project_dir, sorted(root_imports - root_modules))
    if WECHAT_CLIENT in closure:  # the token provider is installed at import, invisible from the handler
        closure |= import_closure(project_dir, [WECHAT_CREDENTIALS_MODULE])

    def names_of(modules: set[str]) -> set[str]:
        found = set(root_names)
        for other in modules:
            found |= _facts(project_dir, other).names
        return found

    names = names_of(closure - DESCRIPTIVE_MODULES - root_modules)
    secrets_names = names_of(closure - root_modules - {"chalicelib.secrets"})
    closure |= root_modules
    by_key = {spec.key: spec for spec in queues}
    grants = Grants(modules=closure)
    outside_of: dict[str, frozenset[str]] = {}  # per model module: the names the rest of the closure uses

    def named_outside_its_module(model: Any) -> bool:
        """The model, or a function or class of its module that uses it, is named by other code of the closure."""
        module = model.__module__
        if module not in outside_of:
            outside_of[module] = frozenset(
                root_names.union(*(_facts(project_dir, other).names for other in closure - {module}))
            )
        outside = outside_of[module]
        return model.__name__ in outside or model.__name__ in _used_by_named(project_dir, module, outside)

    grants.models = [
        m
        for m in models
        if (m.__module__ in closure - root_modules and named_outside_its_module(m))
        or (m.__module__ in root_modules and m.__name__ in root_names)
    ]
    grants.send_queues = [by_key[key] for attr, key in queue_settings.items() if attr in names]
    grants.bucket_read = "player_bucket" in names
    grants.bucket_write = grants.bucket_read and bool(names & S3_WRITE_NAMES)
    grants.secrets_read = "chalicelib.secrets" in closure
    grants.secrets_write = sorted(path for fn, path in SECRET_WRITERS.items() if fn in secrets_names)
    grants.calls_wechat = WECHAT_CLIENT in closure
    return grants


def _arn(service: str, resource: str, *, region: bool = True, account: bool = True) -> dict[str, str]:
    return {
        "Fn::Sub": f"arn:${{AWS::Partition}}:{service}:{'${AWS::Region}' if region else ''}:"
        f"{'${AWS::AccountId}' if account else ''}:{resource}"
    }


def policy_document(
    grants: Grants,
    *,
    function_name: str,
    table_arns: dict[Any, tuple[Any, Any]],
    queue_ids: dict[str, str],
    bucket_id: str,
    secrets_prefix: str,
) -> dict[str, Any]:
    """The role policy of one function: only what ``grants`` says, every resource named."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": _arn("logs", f"log-group:/aws/lambda/{function_name}:*"),
        }
    ]
    if grants.models:
        resources: list[Any] = []
        for model in grants.models:
            resources.extend(table_arns[model])
        statements.append({"Sid": "Tables", "Effect": "Allow", "Action": DYNAMODB_ACTIONS, "Resource": resources})
    if grants.consume_queue is not None:
        statements.append(
            {
                "Sid": "ConsumeQueue",
                "Effect": "Allow",
                "Action": SQS_CONSUME,
                "Resource": {"Fn::GetAtt": [queue_ids[grants.consume_queue.key], "Arn"]},
            }
        )
    if grants.send_queues:
        statements.append(
            {
                "Sid": "SendQueues",
                "Effect": "Allow",
                "Action": SQS_SEND,
                "Resource": [{"Fn::GetAtt": [queue_ids[q.key], "Arn"]} for q in grants.send_queues],
            }
        )
    if grants.bucket_read:
        statements.append(
            {
                "Sid": "ListPlayerBucket",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": {"Fn::GetAtt": [bucket_id, "Arn"]},
            }
        )  # 404 rather than 403 for missing keys
        statements.append(
            {
                "Sid": "ReadPlayerData",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [{"Fn::Sub": f"${{{bucket_id}.Arn}}/{p}"} for p in DATA_PREFIXES],
            }
        )
    if grants.bucket_write:
        statements.append(
            {
                "Sid": "WritePlayerData",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": [{"Fn::Sub": f"${{{bucket_id}.Arn}}/{p}"} for p in DATA_PREFIXES],
            }
        )
    if grants.secrets_read or grants.secrets_write:
        parameter_arn = _arn("ssm", f"parameter{secrets_prefix}/*")
        statements.append(
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                "Resource": parameter_arn,
            }
        )
        kms_actions = ["kms:Decrypt"]
        if grants.secrets_write:
            statements.append(
                {
                    "Sid": "WriteSecrets",
                    "Effect": "Allow",
                    "Action": ["ssm:PutParameter", "ssm:DeleteParameter"],
                    "Resource": [_arn("ssm", f"parameter{secrets_prefix}/{p}") for p in grants.secrets_write],
                }
            )
            kms_actions.append("kms:Encrypt")
        # SecureStrings use the account's aws/ssm key; allow it only when SSM asks on our behalf, and only
        # for our parameters (SSM puts the parameter's ARN in the encryption context).
        statements.append(
            {
                "Sid": "SecretsKeyViaSsm",
                "Effect": "Allow",
                "Action": kms_actions,
                "Resource": _arn("kms", "key/*"),
                "Condition": {
                    "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.${AWS::URLSuffix}"}},
                    "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": parameter_arn},
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
