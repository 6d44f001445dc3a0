"""``/api/v1/content``: content, its review workflow, and media uploads."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.admin import schemas as s
from chalicelib.handlers.admin.api import Call, operation
from chalicelib.handlers.admin.units import page_body
from chalicelib.handlers.admin.wire import Reply
from chalicelib.services.access.grants import EDIT
from chalicelib.services.content import media
from chalicelib.services.content import preview as content_preview
from chalicelib.services.content import workflow as service
from chalicelib.services.push import outcomes as push_outcomes
from chalicelib.services.shared.errors import BadRequest

bp = Blueprint(__name__)
TAG = "content"
MAX_CONTENT_BODY = 128 * 1024
IF_MATCH_REQUIRED = ("approve", "publish")


@operation(
    bp,
    "POST",
    "/content",
    summary="Create content (a draft)",
    tag=TAG,
    body=s.ContentCreate,
    response=s.ContentOut,
    status=201,
    idempotent=True,
    max_body=MAX_CONTENT_BODY,
)
def create_content(call: Call):
    return service.public(service.create(call.principal, call.data))


@operation(
    bp,
    "GET",
    "/content",
    summary="List content in your scope, newest first",
    tag=TAG,
    query=s.ContentListQuery,
    response=s.ContentList,
)
def list_content(call: Call):
    q = call.query
    return page_body(service.list_content(call.principal, q.cursor, q.limit, q.unit_id, q.status), service.public)


@operation(bp, "GET", "/content/{content_id}", summary="Read content", tag=TAG, response=s.ContentOut)
def get_content(call: Call, content_id: str):
    return _with_push_status(service.get(call.principal, content_id))


def _with_push_status(content):
    return dict(service.public(content), push_status=push_outcomes.status(content))


@operation(
    bp,
    "PATCH",
    "/content/{content_id}",
    summary="Edit content (published content may go back to review)",
    tag=TAG,
    body=s.ContentUpdate,
    response=s.ContentOut,
    max_body=MAX_CONTENT_BODY,
)
def update_content(call: Call, content_id: str):
    return service.public(service.update(call.principal, content_id, call.data, call.if_match))


@operation(
    bp, "DELETE", "/content/{content_id}", summary="Delete a draft, rejected or withdrawn item", tag=TAG, status=204
)
def delete_content(call: Call, content_id: str):
    service.delete(call.principal, content_id, call.if_match)
    return Reply(None, 204)


def _transition(action: str, summary: str, body=None):
    def view(call: Call, content_id: str):
        reason = call.body.reason if call.body is not None else None
        done = service.transition(call.principal, content_id, action, call.if_match, reason)
        return _with_push_status(done) if action == "publish" else service.public(done)

    view.__name__ = f"{action}_content"
    # approving or publishing vouches for a text: the caller must name the revision he read (428 without)
    return operation(
        bp,
        "POST",
        f"/content/{{content_id}}/{action}",
        summary=summary,
        tag=TAG,
        body=body,
        response=s.ContentOut,
        if_match_required=action in IF_MATCH_REQUIRED,
    )(view)


for _action, _summary, _body in (
    ("submit", "Submit for review", None),
    ("approve", "Approve (a reviewer of the unit or above; not the author)", None),
    ("reject", "Reject with a reason", s.RejectIn),
    (
        "publish",
        "Publish: enqueue the push job and manifest rebuilds (idempotent); the answer's push_status "
        "forecasts the push per account and channel; 422 no_push_channel when push is on and no "
        "account can carry it",
        None,
    ),
    ("withdraw", "Withdraw from screens (idempotent)", None),
):
    _transition(_action, _summary, _body)


@operation(
    bp,
    "POST",
    "/content/forecast",
    summary="Forecast a push before publishing: targets resolved as publish "
    "does, recipients per account and channel (exact up to 2,000 followers, from counters beyond)",
    tag=TAG,
    body=s.ContentForecastIn,
    response=s.ContentForecastOut,
)
def forecast_content(call: Call):
    return content_preview.forecast(call.principal, call.data)


@operation(
    bp,
    "POST",
    "/content/phone-preview",
    summary="Render a draft with the phone's content page (sanitised, with its own CSP; nothing is saved)",
    tag=TAG,
    body=s.PhonePreviewIn,
    response=s.PhonePreviewOut,
    max_body=MAX_CONTENT_BODY,
)
def preview_content_phone(call: Call):
    return content_preview.phone_page(call.principal, call.data)


@operation(
    bp,
    "POST",
    "/media/uploads",
    summary="Get a pre-signed POST to upload a media file by its sha256",
    tag=TAG,
    body=s.MediaUploadIn,
    response=s.MediaUploadOut,
)
def create_upload(call: Call):
    data = call.data
    call.principal.unit(data["unit_id"], EDIT)
    try:
        return media.presign(data["sha256"], data["size"], data["type"])
    except media.MediaError as exc:
        raise BadRequest(str(exc), field="size") from None
