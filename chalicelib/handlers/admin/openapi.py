"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document, generated from the route registry.

Schemas come from the same pydantic models that validate requests and shape
responses, so the document cannot drift from the code (and a test checks
every Chalice route against it).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from chalice import Blueprint
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.handlers.admin import schemas as s
from chalicelib.handlers.admin.api import PATH_PARAM, REGISTRY, Call, operation
from chalicelib.handlers.admin.wire import ETAG
from chalicelib.services.access.audit import OBJECT_TYPES

bp = Blueprint(__name__)
REF = "#/components/schemas/{model}"
# path parameters the pipeline checks (anything else is a 404) and those a view restricts further
PATH_SCHEMA = {"type": "string", "pattern": PATH_PARAM.pattern}
PATH_SCHEMAS = {"object_type": {"type": "string", "enum": list(OBJECT_TYPES)}}


def _query_parameters(model) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


@cache
def document() -> dict[str, Any]:
    models: set[type[BaseModel]] = {s.ErrorOut}
    for op in REGISTRY:
        models |= {m for m in (op.body, op.response) if m is not None}
    ordered = sorted(models, key=lambda m: m.__name__)
    refs, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=REF, by_alias=True)
    error_schema = {"schema": {"$ref": REF.format(model="ErrorOut")}}
    error = {"description": "error", "content": {"application/json": error_schema}}
    paths: dict[str, Any] = {}
    for op in REGISTRY:
        params = [
            {"name": n, "in": "path", "required": True, "schema": PATH_SCHEMAS.get(n, PATH_SCHEMA)}
            for n in re.findall(r"{(\w+)}", op.path)
        ]
        if op.query is not None:
            params += _query_parameters(op.query)
        if op.method in ("PATCH", "DELETE", "PUT") or op.path.endswith(
            ("/submit", "/approve", "/reject", "/publish", "/withdraw")
        ):
            params.append(
                {
                    "name": "If-Match",
                    "in": "header",
                    "required": op.if_match_required,
                    "schema": {"type": "string", "pattern": ETAG.pattern},
                    "description": "the ETag (revision) you read; 412 when it is no longer current"
                    + ("; required (428 without)" if op.if_match_required else ""),
                }
            )
        if op.idempotent:
            params.append(
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[ -~]{1,128}$"},
                    "description": "a retried request with the same key creates one object",
                }
            )
        entry: dict[str, Any] = {"operationId": op.name, "summary": op.summary, "tags": [op.tag], "parameters": params}
        if not op.public:
            entry["security"] = [{"bearer": []}, {"session": []}]
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": refs[(op.body, "validation")]["$ref"]}}},
            }
        ok: dict[str, Any] = {"description": "success"}
        if op.response is not None:
            ok["content"] = {"application/json": {"schema": {"$ref": refs[(op.response, "validation")]["$ref"]}}}
        responses = {str(op.status): ok}
        for code in (
            (400, 401, 403, 404, 409, 412, 413, 422)
            + ((428,) if op.if_match_required else ())
            + ((423, 429) if op.tag == "auth" else ())
        ):
            responses.setdefault(str(code), error)
        entry["responses"] = responses
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kepuscreen admin API",
            "version": "1.0.0",
            "description": "Units, official accounts, screens, content with review, users, audit, analytics.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "ks_<key_id>_<secret> API key"},
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "kepu_session",
                    "description": "the console's session from POST "
                    "/api/v1/auth/login; writes also need "
                    "the X-CSRF-Token header",
                },
            },
        },
    }


@operation(bp, "GET", "/openapi.json", summary="This API's OpenAPI 3 document", tag="meta", public=True)
def openapi(call: Call):
    return document()
