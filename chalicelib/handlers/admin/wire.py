"""The admin API on the wire: what a request's body, query and If-Match become, and what an answer looks like.

Apart from the pipeline (``api``), which decides the order of the steps and
who may call: here is only the translation between HTTP and the models, so
every error has the one shape ``{"error": {"code", "message", "field"}}`` and
every answer is shaped by its response model (undeclared fields never leave).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, get_args

from chalice import Response
from pydantic import BaseModel, ValidationError

from chalicelib.logs import logger
from chalicelib.services.shared.errors import ApiError, BadRequest

JSON_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
ETAG = re.compile(r'^(?:W/)?"?(\d{1,12})"?$')


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


@dataclass
class Reply:
    body: Any
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Download:
    """A file answer (CSV export): sent as is, not shaped as JSON."""

    body: str
    filename: str
    content_type: str = "text/csv; charset=utf-8"


def error_response(error: ApiError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(error.body(), ensure_ascii=False),
        status_code=error.status,
        headers={**JSON_HEADERS, **(headers or {})},
    )


def validation_error(exc: ValidationError, where: str = "") -> BadRequest:
    first = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in first.get("loc", ()))
    code = {"extra_forbidden": "unknown_field", "missing": "required"}.get(first["type"], "invalid")
    message = first["msg"] if code != "unknown_field" else "unknown field"
    if first.get("input", ...) is None and code == "invalid":
        message = "may not be null"
    return BadRequest(message, field=f"{where}{loc}" or None, code=code)


def if_match(headers: dict[str, str]) -> int | None:
    raw = headers.get("if-match")
    if raw is None:
        return None
    match = ETAG.match(raw.strip())
    if not match:
        raise BadRequest('If-Match must be an ETag from this API, e.g. "3"', field="If-Match")
    return int(match.group(1))


def shape(response: type[BaseModel] | None, payload: Any, route: str) -> Any:
    """The payload as its response model declares it: undeclared fields never leave."""
    if response is None or payload is None:
        return payload
    try:
        return response.model_validate(payload).model_dump(mode="json", by_alias=True)
    except ValidationError:
        items = response.model_fields.get("items")
        if items is None or not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
            raise
    # one malformed stored item must not break a list: leave it out (and say so in the log)
    item_model = get_args(items.annotation)[0]  # list[Item]
    kept = []
    for item in payload["items"]:
        try:
            item_model.model_validate(item)
        except ValidationError as exc:
            logger.warning("malformed item left out of a list", route=route, errors=exc.error_count())
            continue
        kept.append(item)
    return response.model_validate({**payload, "items": kept}).model_dump(mode="json", by_alias=True)


def parse_body(model: type[BaseModel] | None, raw: bytes) -> Any:
    if model is None:
        if raw.strip() not in (b"", b"{}", b"null"):
            raise BadRequest("this call takes no request body", code="unexpected_body")
        return None
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise BadRequest("the body is not valid JSON", code="invalid_json") from None
        raise validation_error(exc) from None


def parse_query(model: type[BaseModel] | None, params: dict[str, str]) -> Any:
    if model is None:
        if params:
            raise BadRequest("unknown query parameter", field=next(iter(params)), code="unknown_field")
        return None
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise validation_error(exc) from None


def respond(status: int, payload: Any, headers: dict[str, str]) -> Response:
    """The JSON answer (with the ETag of a revisioned object), or a file download as it is."""
    if isinstance(payload, Download):
        return Response(
            body=payload.body,
            status_code=200,
            headers={
                "Content-Type": payload.content_type,
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'attachment; filename="{payload.filename}"',
            },
        )
    etag = {"ETag": f'"{payload["revision"]}"'} if isinstance(payload, dict) and "revision" in payload else {}
    body = "" if status == 204 else json.dumps(payload, ensure_ascii=False)
    return Response(body=body, status_code=status, headers={**JSON_HEADERS, **etag, **headers})
