"""``/api/v1/audit/{object_type}/{object_id}``: one object's history."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.admin import schemas as s
from chalicelib.handlers.admin.api import Call, operation
from chalicelib.handlers.admin.units import audit_view, page_body
from chalicelib.services.access import audit

bp = Blueprint(__name__)


@operation(
    bp,
    "GET",
    "/audit/{object_type}/{object_id}",
    summary="An object's audit log, newest first",
    tag="audit",
    query=s.PageQuery,
    response=s.AuditList,
)
def object_audit(call: Call, object_type: str, object_id: str):
    q = call.query
    return page_body(audit.for_object(call.principal, object_type, object_id, q.cursor, q.limit), audit_view)
