"""``/api/v1/users`` and ``/api/v1/me``: users, their roles on units and their API keys."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.admin import schemas as s
from chalicelib.handlers.admin.api import Call, operation
from chalicelib.handlers.admin.units import page_body
from chalicelib.services.access import users as service

bp = Blueprint(__name__)
TAG = "users"


def _without_key(body: dict) -> dict:
    return {**body, "api_key": None}


@operation(bp, "GET", "/me", summary="The caller: user and role grants", tag=TAG, response=s.UserOut)
def me(call: Call):
    return service.me(call.principal)


@operation(
    bp,
    "POST",
    "/users",
    summary="Create a user in a unit you administer",
    tag=TAG,
    body=s.UserCreate,
    response=s.UserOut,
    status=201,
    idempotent=True,
)
def create_user(call: Call):
    return service.public(service.create(call.principal, call.data))


@operation(
    bp,
    "GET",
    "/users",
    summary="List users of the units in your scope",
    tag=TAG,
    query=s.UserListQuery,
    response=s.UserList,
)
def list_users(call: Call):
    q = call.query
    return page_body(service.list_users(call.principal, q.cursor, q.limit, q.unit_id), service.public)


@operation(bp, "GET", "/users/{user_id}", summary="Read a user", tag=TAG, response=s.UserOut)
def get_user(call: Call, user_id: str):
    return service.public(service.get(call.principal, user_id))


@operation(
    bp, "PATCH", "/users/{user_id}", summary="Edit or disable a user", tag=TAG, body=s.UserUpdate, response=s.UserOut
)
def update_user(call: Call, user_id: str):
    return service.public(service.update(call.principal, user_id, call.data, call.if_match))


@operation(
    bp,
    "PUT",
    "/users/{user_id}/grants/{unit_id}",
    summary="Grant a role on a unit (and its subtree)",
    tag=TAG,
    body=s.GrantIn,
    response=s.UserOut,
)
def put_grant(call: Call, user_id: str, unit_id: str):
    return service.public(service.grant(call.principal, user_id, unit_id, call.body.role))


@operation(
    bp, "DELETE", "/users/{user_id}/grants/{unit_id}", summary="Remove a role grant", tag=TAG, response=s.UserOut
)
def delete_grant(call: Call, user_id: str, unit_id: str):
    return service.public(service.revoke_grant(call.principal, user_id, unit_id))


@operation(
    bp,
    "POST",
    "/users/{user_id}/keys",
    summary="Issue an API key (shown once)",
    tag=TAG,
    body=s.KeyCreate,
    response=s.KeyCreated,
    status=201,
    idempotent=True,
    redact=_without_key,
)
def create_key(call: Call, user_id: str):
    data = call.data
    record, key = service.issue_key(call.principal, user_id, data.get("label"), data.get("expires_in_days"))
    return {"key": service.key_view(record), "api_key": key}


@operation(
    bp,
    "GET",
    "/users/{user_id}/keys",
    summary="List a user's API keys (never the keys themselves)",
    tag=TAG,
    response=s.KeyList,
)
def list_keys(call: Call, user_id: str):
    return {"items": [service.key_view(k) for k in service.list_keys(call.principal, user_id)]}


@operation(bp, "DELETE", "/users/{user_id}/keys/{key_id}", summary="Revoke an API key", tag=TAG, response=s.KeyOut)
def revoke_key(call: Call, user_id: str, key_id: str):
    return service.key_view(service.revoke_key(call.principal, user_id, key_id))
