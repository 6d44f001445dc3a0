"""``/api/v1/screens``: screens, their QR codes, player keys and statistics."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.admin import schemas as s
from chalicelib.handlers.admin.api import Call, operation
from chalicelib.handlers.admin.units import page_body
from chalicelib.handlers.admin.wire import Reply
from chalicelib.services import analytics
from chalicelib.services.screens import live as screen_live
from chalicelib.services.screens import registry as service

bp = Blueprint(__name__)
TAG = "screens"


def _without_key(body: dict) -> dict:
    return {**body, "player_key": None}


@operation(
    bp,
    "POST",
    "/screens",
    summary="Register a screen; returns its player key once and its QR code",
    tag=TAG,
    body=s.ScreenCreate,
    response=s.ScreenCreated,
    status=201,
    idempotent=True,
    redact=_without_key,
)
def create_screen(call: Call):
    screen, player_key = service.create(call.principal, call.data)
    return {"screen": service.public(screen), "player_key": player_key}


@operation(
    bp,
    "GET",
    "/screens",
    summary="List screens in your scope (filter by unit subtree, tag or status), "
    "with what each plays now and its plays today",
    tag=TAG,
    query=s.ScreenListQuery,
    response=s.ScreenList,
)
def list_screens(call: Call):
    q = call.query
    page = service.list_screens(call.principal, q.cursor, q.limit, q.unit_id, q.tag, q.status)
    live = screen_live.columns(page.items)
    return page_body(page, lambda screen: {**service.public(screen), **live.get(screen.screen_id, {})})


@operation(bp, "GET", "/screens/{screen_id}", summary="Read a screen", tag=TAG, response=s.ScreenOut)
def get_screen(call: Call, screen_id: str):
    return service.public(service.get(call.principal, screen_id.upper()))


@operation(
    bp,
    "PATCH",
    "/screens/{screen_id}",
    summary="Edit or move a screen",
    tag=TAG,
    body=s.ScreenUpdate,
    response=s.ScreenOut,
)
def update_screen(call: Call, screen_id: str):
    return service.public(service.update(call.principal, screen_id.upper(), call.data, call.if_match))


@operation(bp, "DELETE", "/screens/{screen_id}", summary="Remove a screen without subscribers", tag=TAG, status=204)
def delete_screen(call: Call, screen_id: str):
    service.delete(call.principal, screen_id.upper(), call.if_match)
    return Reply(None, 204)


@operation(
    bp,
    "POST",
    "/screens/{screen_id}/qrcode",
    summary="Create (or retry) the screen's permanent QR code",
    tag=TAG,
    response=s.ScreenOut,
)
def create_qrcode(call: Call, screen_id: str):
    screen, ok = service.create_qrcode(call.principal, screen_id.upper())
    return Reply(service.public(screen), 200 if ok else 502)


@operation(
    bp,
    "POST",
    "/screens/{screen_id}/player-key",
    summary="Rotate the player key (shown once)",
    tag=TAG,
    response=s.PlayerKeyOut,
)
def rotate_player_key(call: Call, screen_id: str):
    screen, player_key = service.rotate_player_key(call.principal, screen_id.upper())
    return {"screen": service.public(screen), "player_key": player_key}


@operation(
    bp,
    "GET",
    "/screens/{screen_id}/stats",
    summary="Daily fans by source, unsubscriptions, plays, reads",
    tag=TAG,
    query=s.StatsQuery,
    response=s.StatsOut,
)
def screen_stats(call: Call, screen_id: str):
    q = call.query
    return analytics.screen_stats(call.principal, screen_id.upper(), q.from_, q.to)
