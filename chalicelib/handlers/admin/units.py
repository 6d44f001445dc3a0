"""``/api/v1/units``: the unit tree, rankings of subordinates and a unit's audit log."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.admin import schemas as s
from chalicelib.handlers.admin.api import Call, operation
from chalicelib.handlers.admin.wire import Reply
from chalicelib.logs import logger
from chalicelib.services import analytics
from chalicelib.services.access import audit
from chalicelib.services.access import units as service
from chalicelib.services.analytics import home

bp = Blueprint(__name__)
TAG = "units"


def page_body(page, view) -> dict:
    """A page of public views; an item whose view fails (a malformed stored item) is left out, not a 500."""
    items = []
    for item in page.items:
        try:
            items.append(view(item))
        except Exception:
            logger.warning("malformed item left out of a list", kind=type(item).__name__)
    return {"items": items, "next_cursor": page.next_cursor}


@operation(
    bp,
    "POST",
    "/units",
    summary="Create a unit under a parent you administer",
    tag=TAG,
    body=s.UnitCreate,
    response=s.UnitOut,
    status=201,
    idempotent=True,
)
def create_unit(call: Call):
    return service.public(service.create(call.principal, call.data))


@operation(
    bp,
    "GET",
    "/units",
    summary="List the units in your scope (or under one unit)",
    tag=TAG,
    query=s.UnitListQuery,
    response=s.UnitList,
)
def list_units(call: Call):
    q = call.query
    return page_body(service.list_units(call.principal, q.cursor, q.limit, q.under, q.parent_id), service.public)


@operation(bp, "GET", "/units/{unit_id}", summary="Read a unit", tag=TAG, response=s.UnitOut)
def get_unit(call: Call, unit_id: str):
    return service.public(service.get(call.principal, unit_id))


@operation(
    bp,
    "PATCH",
    "/units/{unit_id}",
    summary="Edit a unit; a new parent_id moves its subtree",
    tag=TAG,
    body=s.UnitUpdate,
    response=s.UnitOut,
)
def update_unit(call: Call, unit_id: str):
    return service.public(service.update(call.principal, unit_id, call.data, call.if_match))


@operation(bp, "DELETE", "/units/{unit_id}", summary="Delete an empty unit", tag=TAG, status=204)
def delete_unit(call: Call, unit_id: str):
    service.delete(call.principal, unit_id, call.if_match)
    return Reply(None, 204)


@operation(
    bp,
    "GET",
    "/units/{unit_id}/ranking",
    summary="Rank the unit's direct subordinates by a metric",
    tag=TAG,
    query=s.RankingQuery,
    response=s.UnitRankingOut,
)
def unit_ranking(call: Call, unit_id: str):
    q = call.query
    return analytics.ranking(call.principal, unit_id, q.metric, q.from_, q.to)


@operation(
    bp,
    "GET",
    "/units/{unit_id}/summary",
    summary="The console's home page for the unit's subtree: screens "
    "online, fans, growth, review queue, recent publishes, alerts (from counters: a fixed few DynamoDB "
    "requests whatever the subtree's size)",
    tag=TAG,
    response=s.UnitSummaryOut,
)
def unit_summary(call: Call, unit_id: str):
    return home.summary(call.principal, unit_id)


@operation(
    bp,
    "GET",
    "/units/{unit_id}/audit",
    summary="The unit's audit log, newest first",
    tag="audit",
    query=s.PageQuery,
    response=s.AuditList,
)
def unit_audit(call: Call, unit_id: str):
    q = call.query
    return page_body(audit.for_unit(call.principal, unit_id, q.cursor, q.limit), audit_view)


def audit_view(entry) -> dict:
    return {
        "entry_id": entry.entry_id,
        "unit_id": entry.unit_id,
        "object_key": entry.object_key,
        "action": entry.action,
        "actor": entry.actor,
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
        "at": entry.at,
    }
