"""The admin API's request pipeline, shared by every route, and its route registry.

``operation`` registers a Chalice route and records it (method, path, models)
for the OpenAPI document, so the document is generated from the same
declarations that serve requests.  Each request goes through the same steps:
authenticate the bearer key or the console's session cookie (with
its CSRF header on writes) → cap the body size → parse JSON → validate body
and query with pydantic → parse ``If-Match`` → run the view (once per
``Idempotency-Key`` on create calls) → shape the response through its model
and add an ``ETag``.  Every failure is ``{"error": {"code", "message", "field"}}``.
The translation between HTTP and the models (parsing, errors, answers) is in
``wire``; this module decides the order of the steps and who may call.
Nothing here logs a request body, so secrets in it never reach a log line.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel

from chalicelib.handlers.admin import wire
from chalicelib.handlers.request_body import body_bytes
from chalicelib.logs import logger
from chalicelib.services.access.grants import Principal
from chalicelib.services.access.sessions import authenticate_request
from chalicelib.services.shared import idempotency
from chalicelib.services.shared.errors import ApiError, NotFound, PreconditionRequired, Unauthorized

PREFIX = "/api/v1"
DEFAULT_MAX_BODY = 16 * 1024
PATH_PARAM = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass
class Operation:
    method: str
    path: str
    name: str
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    idempotent: bool = False
    public: bool = False
    max_body: int = DEFAULT_MAX_BODY
    redact: Callable[[dict], dict] | None = None
    errors: tuple[int, ...] = field(default=(400, 401, 403, 404))
    if_match_required: bool = False


REGISTRY: list[Operation] = []


@dataclass
class Call:
    """What a view gets: the caller, the validated body and query, the If-Match revision."""

    caller: Principal | None  # None only for a public operation
    body: Any
    query: Any
    if_match: int | None
    headers: dict[str, str]
    source_ip: str | None = None

    @property
    def principal(self) -> Principal:
        """The authenticated caller; a public operation has none, and asking for it there is a 401."""
        if self.caller is None:
            raise Unauthorized("this call needs a signed-in caller")
        return self.caller

    @property
    def data(self) -> dict[str, Any]:
        """The body's fields that were sent (PATCH semantics), secrets unwrapped for the service."""
        return _unwrap(self.body.model_dump(exclude_unset=True)) if self.body is not None else {}


def _unwrap(value: Any) -> Any:
    if hasattr(value, "get_secret_value"):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _call(op: Operation, request: Any, headers: dict[str, str], params: dict[str, str]) -> Call:
    """The request's checks up to the view, in order: path, caller, size, body, query, If-Match."""
    for value in params.values():
        if not PATH_PARAM.match(value or ""):
            raise NotFound()
    principal = None if op.public else authenticate_request(headers, op.method)
    raw = body_bytes(request)
    if len(raw) > op.max_body:
        raise wire.PayloadTooLarge(f"the body exceeds {op.max_body} bytes")
    source_ip = ((request.context or {}).get("identity") or {}).get("sourceIp")
    call = Call(
        principal,
        wire.parse_body(op.body, raw),
        wire.parse_query(op.query, dict(request.query_params or {})),
        wire.if_match(headers),
        headers,
        source_ip,
    )
    if op.if_match_required and call.if_match is None:
        raise PreconditionRequired("send If-Match with the ETag of the revision you read", field="If-Match")
    return call


def _run(
    op: Operation,
    request: Any,
    call: Call,
    view: Callable[..., Any],
    params: dict[str, str],
    reply_headers: dict[str, str],
) -> tuple[int, Any, dict[str, str]]:
    """Run the view (once per Idempotency-Key on idempotent calls): status, shaped payload, extra headers."""

    def run() -> tuple[int, Any]:
        result = view(call, **params)
        if isinstance(result, wire.Download):
            return 200, result
        reply = result if isinstance(result, wire.Reply) else wire.Reply(result)
        reply_headers.update(reply.headers)
        return reply.status or op.status, wire.shape(op.response, reply.body, op.name)

    key = call.headers.get("idempotency-key")
    if not op.idempotent or key is None:
        return *run(), {}
    context = getattr(request, "lambda_context", None)
    remaining = context.get_remaining_time_in_millis() if context is not None else None
    status, payload, replayed = idempotency.run(
        call.principal.user_id,
        op.name,
        key,
        body_bytes(request),
        run,
        op.redact,
        path_params=params,
        remaining_ms=remaining,
    )
    return status, payload, {"Idempotency-Replayed": "true"} if replayed else {}


def _refusal(op: Operation, error: ApiError) -> Response:
    """An ApiError as the uniform error body, with the headers its status calls for."""
    if error.status >= 500:
        logger.warning("admin call failed upstream", route=op.name, code=error.code)
    extra = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    if error.retry_after:
        extra["Retry-After"] = str(error.retry_after)
    return wire.error_response(error, extra or None)


def _handle(bp: Blueprint, op: Operation, view: Callable[..., Any], params: dict[str, str]) -> Response:
    request = bp.current_request
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    try:
        call = _call(op, request, headers, params)
        reply_headers: dict[str, str] = {}
        status, payload, extra = _run(op, request, call, view, params, reply_headers)
        return wire.respond(status, payload, {**extra, **reply_headers})
    except ApiError as error:
        return _refusal(op, error)
    except Exception:
        logger.exception("admin call failed", route=op.name)
        return wire.error_response(_Internal())


class _Internal(ApiError):
    status, code = 500, "internal"

    def __init__(self) -> None:
        super().__init__("internal error")


def operation(
    bp: Blueprint,
    method: str,
    path: str,
    *,
    summary: str,
    tag: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    idempotent: bool = False,
    public: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
    redact: Callable[[dict], dict] | None = None,
    if_match_required: bool = False,
) -> Callable:
    """Declare one admin route; see the module docstring."""
    full_path = f"{PREFIX}{path}"

    def register(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(
            method,
            full_path,
            view.__name__,
            summary,
            tag,
            body,
            query,
            response,
            status,
            idempotent,
            public,
            max_body,
            redact,
            if_match_required=if_match_required,
        )
        REGISTRY.append(op)

        def chalice_view(**params: str) -> Response:
            return _handle(bp, op, view, params)

        chalice_view.__name__ = f"admin_{view.__name__}"
        chalice_view.__doc__ = summary
        bp.route(full_path, methods=[method])(chalice_view)
        return view

    return register
