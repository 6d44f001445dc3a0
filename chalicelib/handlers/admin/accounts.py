"""``/api/v1/accounts``: official accounts, their secrets (write-only) and their menu."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.admin import schemas as s
from chalicelib.handlers.admin.api import Call, operation
from chalicelib.handlers.admin.units import page_body
from chalicelib.handlers.admin.wire import Reply
from chalicelib.services.gateway import accounts as service
from chalicelib.services.subscriptions import resident_requests

bp = Blueprint(__name__)
TAG = "accounts"


@operation(
    bp,
    "POST",
    "/accounts",
    summary="Register an official account (secrets go to SSM)",
    tag=TAG,
    body=s.AccountCreate,
    response=s.AccountOut,
    status=201,
    idempotent=True,
)
def create_account(call: Call):
    return service.public(service.create(call.principal, call.data))


@operation(
    bp,
    "GET",
    "/accounts",
    summary="List accounts in your scope",
    tag=TAG,
    query=s.AccountListQuery,
    response=s.AccountList,
)
def list_accounts(call: Call):
    q = call.query
    return page_body(service.list_accounts(call.principal, q.cursor, q.limit, q.unit_id), service.public)


@operation(
    bp,
    "GET",
    "/accounts/{appid}",
    summary="Read an account (secrets shown only as set or not)",
    tag=TAG,
    response=s.AccountOut,
)
def get_account(call: Call, appid: str):
    return service.public(service.get(call.principal, appid))


@operation(
    bp,
    "PATCH",
    "/accounts/{appid}",
    summary="Edit an account or rotate its secrets",
    tag=TAG,
    body=s.AccountUpdate,
    response=s.AccountOut,
)
def update_account(call: Call, appid: str):
    return service.public(service.update(call.principal, appid, call.data, call.if_match))


@operation(bp, "DELETE", "/accounts/{appid}", summary="Remove an account no screen uses", tag=TAG, status=204)
def delete_account(call: Call, appid: str):
    service.delete(call.principal, appid, call.if_match)
    return Reply(None, 204)


@operation(
    bp,
    "GET",
    "/accounts/{appid}/menu",
    summary="Read the account's custom menu as last published",
    tag=TAG,
    response=s.MenuCurrent,
)
def get_menu(call: Call, appid: str):
    return service.current_menu(call.principal, appid)


@operation(
    bp,
    "POST",
    "/accounts/{appid}/menu",
    summary="Publish the account's custom menu through the WeChat API "
    "(the body's buttons, or the product's default menu without a body)",
    tag=TAG,
    body=s.MenuIn,
    response=s.MenuOut,
)
def create_menu(call: Call, appid: str):
    account, menu = service.create_menu(call.principal, appid, call.data.get("button") if call.data else None)
    return {"account": service.public(account), "menu": menu}


@operation(
    bp,
    "POST",
    "/accounts/{appid}/residents/export",
    summary="Export everything stored about one resident of the account (PIPL access request; audited)",
    tag=TAG,
    body=s.ResidentRequest,
    response=s.ResidentExportOut,
)
def export_resident(call: Call, appid: str):
    return {"data": resident_requests.export(call.principal, appid, call.data["openid"], call.data.get("reason"))}


@operation(
    bp,
    "POST",
    "/accounts/{appid}/residents/erasure",
    summary="Erase one resident's data, counting his subscriptions as lost (PIPL request; audited)",
    tag=TAG,
    body=s.ResidentRequest,
    response=s.ResidentErasureOut,
)
def erase_resident(call: Call, appid: str):
    return resident_requests.erase(call.principal, appid, call.data["openid"], call.data.get("reason"))
