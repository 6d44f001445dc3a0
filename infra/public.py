"""The public surfaces in functions of their own, with roles that hold no admin rights.

Chalice 1.34 puts every route into one API handler function.  The WeChat
callback, the phone pages and the screen API are open to the whole internet,
so the built template moves them out:

- each entry in ``ENTRIES`` is a small Chalice app under ``chalicelib.entries``
  that registers only its own blueprints (so it imports only their code);
- it becomes a function of its own (a copy of the API handler with the entry
  as its handler, its own role and log group, and a permission for API
  Gateway to invoke it);
- the API Gateway methods of the entry's routes are integrated with it
  instead of the API handler;
- the API handler's role is then derived from the routes left to it (the
  admin API), each entry's role from its own routes.

An entry role's table access is item read/write on the tables its code
reaches, except ``READ_ONLY_TABLES`` (the directory it looks accounts, units and
screens up in): those get read actions only.  Its code reaching a table in
``ADMIN_TABLES`` (users, API keys, role grants, audit) fails the build, as does a
route claimed by two entries or an entry route the main app does not have.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import data
from infra.postprocess import BuildError, Root, code_roots

REPO_DIR = Path(__file__).resolve().parent.parent
API_FUNCTION = "APIHandler"
# Tables the public functions may never see, and the ones they may only read (tables.suffix names).
ADMIN_TABLES = frozenset({"users", "api_keys", "role_grants", "audit"})
READ_ONLY_TABLES = frozenset({"accounts", "units"})
READ_ACTIONS = sorted(
    [
        "dynamodb:DescribeTable",
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:Query",
        "dynamodb:ConditionCheckItem",
    ]
)
METHODS = {"get", "put", "post", "delete", "patch", "head"}


@dataclass(frozen=True)
class Entry:
    """One public function: its module (``<module>.app`` is the handler), Chalice-style name, logical id."""

    module: str
    name: str
    logical_id: str

    @property
    def handler(self) -> str:
        return f"{self.module}.app"


ENTRIES = (
    Entry("chalicelib.entries.callback", "wechat_callback", "WeChatCallback"),
    Entry("chalicelib.entries.public", "public_pages", "PublicPages"),
)


@dataclass
class EntryApp:
    entry: Entry
    routes: set[tuple[str, str]]  # (path, lower-case method)
    roots: list[Root]


def route_roots(app: Any, skip: set[tuple[str, str]] = frozenset()) -> tuple[set[tuple[str, str]], list[Root]]:
    """An app's (path, method) pairs and the code its views run, leaving out ``skip``."""
    routes: set[tuple[str, str]] = set()
    roots: set[Root] = set()
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            key = (path, method.lower())
            if key in skip:
                continue
            routes.add(key)
            roots |= code_roots(entry.view_function)
    return routes, sorted(roots, key=str)


def describe_entry(module: str) -> dict[str, Any]:
    """An entry app's routes and roots, as JSON (run in a process of its own: see ``load_entries``)."""
    routes, roots = route_roots(importlib.import_module(module).app)
    # the entry module itself runs at load (e.g. installs the token provider): its imports count too
    return {"routes": sorted(routes), "roots": [*roots, (module, None)]}


def load_entries(main_app: Any, project_dir: Path) -> list[EntryApp]:
    """Each entry app's routes and code, checked against the main app's.

    A Chalice blueprint can be registered with one app per process only (its
    deferred registrations consume their own arguments), and the build has
    already imported ``app.py``: so each entry is imported in a fresh
    interpreter -- as its Lambda function will import it.
    """
    claimed: dict[tuple[str, str], str] = {}
    main_routes, _ = route_roots(main_app)
    found = []
    for entry in ENTRIES:
        script = f"import json, infra.public as p; print(json.dumps(p.describe_entry({entry.module!r})))"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(project_dir), str(REPO_DIR), os.environ.get("PYTHONPATH", "")]),
        }
        result = subprocess.run(  # noqa: S603 -- fixed argv
            [sys.executable, "-c", script],
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise BuildError(f"importing {entry.module} failed:\n{result.stderr[-2000:]}")
        described = json.loads(result.stdout.strip().splitlines()[-1])
        routes = {tuple(route) for route in described["routes"]}
        roots = [tuple(root) for root in described["roots"]]
        for route in routes:
            if route in claimed:
                raise BuildError(f"{route} is served by both {claimed[route]} and {entry.name}")
            if route not in main_routes:
                raise BuildError(f"{entry.name} serves {route}, which app.py does not register")
            claimed[route] = entry.name
        found.append(EntryApp(entry, routes, roots))
    return found


def handlers(
    main_app: Any, entries: list[EntryApp], base: dict[str, tuple[str, list[Root]]]
) -> dict[str, tuple[str, list[Root]]]:
    """``base`` (from ``postprocess.app_functions``) with the API handler narrowed to the routes left to it,
    plus one handler per entry."""
    moved = set().union(*(e.routes for e in entries)) if entries else set()
    result = dict(base)
    _routes, admin_roots = route_roots(main_app, skip=moved)
    result["app.app"] = (base["app.app"][0], admin_roots)
    for found in entries:
        result[found.entry.handler] = (found.entry.name, found.roots)
    return result


def split(template: dict[str, Any], entries: list[EntryApp]) -> None:
    """Add each entry's function, role, log group and invoke permission; route its paths to it."""
    resources = template["Resources"]
    if API_FUNCTION not in resources or "RestAPI" not in resources:
        return
    api = resources[API_FUNCTION]
    api_role = api["Properties"]["Role"]["Fn::GetAtt"][0]
    api_log_names = {f"/aws/lambda/${{{name}}}" for name in (API_FUNCTION, "ApiHandler")}  # Chalice uses both
    log_group = next(
        (
            lid
            for lid, r in resources.items()
            if r["Type"] == "AWS::Logs::LogGroup" and r["Properties"]["LogGroupName"].get("Fn::Sub") in api_log_names
        ),
        None,
    )
    paths = resources["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for found in entries:
        lid = found.entry.logical_id
        function = copy.deepcopy(api)
        function["Properties"]["Handler"] = found.entry.handler
        function["Properties"]["Role"] = {"Fn::GetAtt": [f"{lid}Role", "Arn"]}
        function.pop("DependsOn", None)
        resources[lid] = function
        resources[f"{lid}Role"] = copy.deepcopy(resources[api_role])
        if log_group:
            group = copy.deepcopy(resources[log_group])
            group["Properties"]["LogGroupName"] = {"Fn::Sub": f"/aws/lambda/${{{lid}}}"}
            resources[f"{lid}LogGroup"] = group
        permission = copy.deepcopy(resources[f"{API_FUNCTION}InvokePermission"])
        permission["Properties"]["FunctionName"] = {"Ref": lid}
        resources[f"{lid}InvokePermission"] = permission
        for path, method in found.routes:
            integration = paths[path][method]["x-amazon-apigateway-integration"]
            integration["uri"] = {
                "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                f"2015-03-31/functions/${{{lid}.Arn}}/invocations"
            }


def restrict_tables(policy: dict[str, Any], tables: list[str], function: str) -> None:
    """Make the ``READ_ONLY_TABLES`` of a public function's ``Tables`` statement read-only."""
    reached_admin = ADMIN_TABLES & set(tables)
    if reached_admin:
        raise BuildError(
            f"public function {function} reaches admin tables {sorted(reached_admin)}; "
            "move that code out of the public routes"
        )
    statements = policy["Statement"]
    table_statement = next((s for s in statements if s["Sid"] == "Tables"), None)
    if table_statement is None:
        return

    def table_of(resource: Any) -> str:
        ref = resource.get("Fn::GetAtt", [None])[0] if "Fn::GetAtt" in resource else resource["Fn::Sub"][2:]
        return ref.split(".")[0]

    read_only_ids = {data.logical_id("Table", name) for name in READ_ONLY_TABLES}
    writable = [r for r in table_statement["Resource"] if table_of(r) not in read_only_ids]
    readable = [r for r in table_statement["Resource"] if table_of(r) in read_only_ids]
    index = statements.index(table_statement)
    replaced = []
    if writable:
        replaced.append({**table_statement, "Resource": writable})
    if readable:
        replaced.append({"Sid": "ReadDirectoryTables", "Effect": "Allow", "Action": READ_ACTIONS, "Resource": readable})
    statements[index : index + 1] = replaced
