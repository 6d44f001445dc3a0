"""Screens: registration with a player key and a permanent WeChat QR code, edits, moves.

The screen's id is its human code.  Its player key is shown once (at creation
or rotation) and stored as a SHA-256 hash.  Its QR code is a permanent
``QR_LIMIT_STR_SCENE`` code whose scene is the screen id, created through the
WeChat API of the screen's account and cached on the screen; when WeChat fails
the screen is kept and ``create_qrcode`` (``POST .../qrcode``) fills it later.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.contracts import player_keys
from chalicelib.dal import accounts as account_repo
from chalicelib.dal import units as unit_repo
from chalicelib.logs import logger
from chalicelib.models import Screen, Unit
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.access import audit
from chalicelib.services.access.grants import MANAGE, READ, Principal, fetch_in_scope
from chalicelib.services.access.units import scope_units, subtree
from chalicelib.services.content import outbox
from chalicelib.services.content import targets as content_targets
from chalicelib.services.gateway.tokens import client_for
from chalicelib.services.screens.reports import screen_status
from chalicelib.services.shared.errors import BadRequest, Conflict
from chalicelib.services.shared.pagination import Page, page_by_unit, readable
from chalicelib.services.shared.writes import OBJECT_TAG, check_if_match, commit, delete_with_audit, now, revise, snap


def public(screen: Screen) -> dict[str, Any]:
    return {
        "screen_id": screen.screen_id,
        "unit_id": screen.unit_id,
        "name": screen.name,
        "address": screen.address,
        "province": screen.province,
        "city": screen.city,
        "district": screen.district,
        "tags": sorted(screen.tags or ()),
        "appid": screen.appid,
        "qr": {
            "ticket": screen.qr_ticket,
            "url": screen.qr_url,
            "error": screen.qr_error,
            "ready": bool(screen.qr_url),
        },
        "player_key_set": bool(screen.player_key_hash),
        "fan_count": int(screen.fan_count or 0),
        "status": screen_status(screen),
        "online": screen_status(screen) == "online",
        "last_seen": screen.last_seen,
        "revision": screen.revision,
        "created_at": screen.created_at,
        "updated_at": screen.updated_at,
    }


UNAVAILABLE = "screen id unavailable"  # the same for a code taken in any branch: ids are global, branches private
NO_ACCOUNT = "no such official account for the screen's unit or a superior unit"


def _check_account(appid: str, unit: Unit) -> None:
    """A screen subscribes through an account of its own unit or of a superior unit.

    An account elsewhere answers exactly like one that does not exist, so appids
    of other branches cannot be probed through this check.
    """
    account = account_repo.read(appid)
    owner = unit_repo.find(account.unit_id) if account is not None else None
    if account is None or owner is None:
        raise BadRequest(NO_ACCOUNT, field="appid")
    if not unit.path.startswith(owner.path):
        raise BadRequest(NO_ACCOUNT, field="appid")


def _visible(principal: Principal, screen_id: str, permission: str = READ) -> Screen:
    return fetch_in_scope(principal, Screen, screen_id, "screen", permission)[0]


def create(principal: Principal, data: dict[str, Any]) -> tuple[Screen, str]:
    """A new screen and its player key (returned once)."""
    unit = principal.unit(data["unit_id"], MANAGE)
    _check_account(data["appid"], unit)
    player_key, key_hash = player_keys.mint()
    tags = set(data.pop("tags", None) or ()) or None
    screen = Screen(data.pop("screen_id"), tags=tags, player_key_hash=key_hash, **data)
    uow = UnitOfWork()
    uow.put(screen, condition=Screen.screen_id.does_not_exist(), tag=OBJECT_TAG)
    audit.record(
        uow, principal.user_id, "screen.create", screen.unit_id, "screen", screen.screen_id, None, snap(public(screen))
    )
    commit(uow, Conflict(UNAVAILABLE, field="screen_id", code="unavailable"))
    _fill_qrcode(screen)
    outbox.send(outbox.manifest_messages([screen.screen_id], "screen_updated"))
    content_targets.follow_screen(screen.screen_id)  # content already published to its unit or tags
    screen.refresh(consistent_read=True)
    return screen, player_key


def _fill_qrcode(screen: Screen) -> bool:
    """Ask WeChat for the permanent code; record the ticket or the error.  True when the code is ready."""
    try:
        result = client_for(screen.appid).qrcode.create(
            {
                "action_name": "QR_LIMIT_STR_SCENE",
                "action_info": {"scene": {"scene_str": screen.screen_id}},
            }
        )
        actions = [Screen.qr_ticket.set(result["ticket"]), Screen.qr_url.set(result["url"]), Screen.qr_error.remove()]
        ok = True
    except Exception as exc:  # WeChat error, timeout, 5xx: keep the screen, remember why, retry later
        errcode = getattr(exc, "errcode", None)
        reason = f"{errcode} {getattr(exc, 'errmsg', '')}".strip() if errcode else type(exc).__name__
        logger.warning("screen QR code not created", screen_id=screen.screen_id, appid=screen.appid, reason=reason)
        actions = [Screen.qr_error.set(reason[:200])]
        ok = False
    screen.update(actions=[*actions, Screen.updated_at.set(now())])
    return ok


def create_qrcode(principal: Principal, screen_id: str) -> tuple[Screen, bool]:
    screen = _visible(principal, screen_id, MANAGE)
    ok = _fill_qrcode(screen)
    if ok:
        outbox.send(outbox.manifest_messages([screen.screen_id], "screen_updated"))
    screen.refresh(consistent_read=True)
    return screen, ok


def rotate_player_key(principal: Principal, screen_id: str) -> tuple[Screen, str]:
    screen = _visible(principal, screen_id, MANAGE)
    player_key, key_hash = player_keys.mint()
    uow = UnitOfWork()
    uow.update(screen, [Screen.player_key_hash.set(key_hash), Screen.updated_at.set(now())], tag=OBJECT_TAG)
    audit.record(
        uow, principal.user_id, "screen.player_key", screen.unit_id, "screen", screen_id, note="player key rotated"
    )
    commit(uow)
    screen.refresh(consistent_read=True)
    return screen, player_key


def get(principal: Principal, screen_id: str) -> Screen:
    return _visible(principal, screen_id)


def screens_in(unit: Unit) -> list[Screen]:
    """Every screen of a unit's subtree: one index Query per unit, no scan."""
    return [s for u in subtree(unit) for s in readable(Screen.by_unit.query(u.unit_id))]


LOOSE_ONLINE = timedelta(minutes=10)  # wider than any screen's two heartbeat intervals; the page is then exact


def list_screens(
    principal: Principal,
    cursor: str | None,
    limit: int,
    unit_id: str | None,
    tag: str | None,
    status: str | None = None,
) -> Page:
    """Screens of the scope, by unit; ``status`` (online / offline / never) filters in the query, then exactly.

    Online is a heartbeat within the screen's own two intervals, which a
    DynamoDB filter cannot compare: the filter keeps screens seen within
    ``LOOSE_ONLINE`` (or ever, for offline), and ``screen_status`` decides on
    the page.  A page may then hold fewer than ``limit`` screens; its cursor
    still continues where the query stopped.
    """
    units = scope_units(principal, unit_id)
    conditions: list[Condition] = [Screen.tags.contains(tag)] if tag else []
    if status == "never":
        conditions.append(Screen.last_seen.does_not_exist())
    elif status == "online":
        conditions.append(Screen.last_seen >= now() - LOOSE_ONLINE)
    elif status == "offline":
        conditions.append(Screen.last_seen.exists())
    condition = None
    for c in conditions:
        condition = c if condition is None else condition & c
    page = page_by_unit(Screen.by_unit, [u.unit_id for u in units], cursor, limit, filter_condition=condition)
    if status in ("online", "offline"):
        page.items = [s for s in page.items if screen_status(s) == status]
    return page


def update(principal: Principal, screen_id: str, changes: dict[str, Any], if_match: int | None) -> Screen:
    screen = _visible(principal, screen_id, MANAGE)
    check_if_match(if_match, screen.revision)
    unit = principal.unit(changes.get("unit_id") or screen.unit_id, MANAGE)
    if "appid" in changes or "unit_id" in changes:
        _check_account(changes.get("appid") or screen.appid, unit)
    before = snap(public(screen))
    if "tags" in changes:
        changes["tags"] = set(changes["tags"] or ()) or None
    new_account = changes.get("appid") not in (None, screen.appid)
    actions = [getattr(Screen, k).set(v) if v is not None else getattr(Screen, k).remove() for k, v in changes.items()]
    if new_account:  # the old code subscribes through the old account
        actions += [Screen.qr_ticket.remove(), Screen.qr_url.remove()]
    for k, v in changes.items():
        setattr(screen, k, v)
    uow = UnitOfWork()
    revise(uow, screen, actions)
    screen.revision += 1
    audit.record(
        uow, principal.user_id, "screen.update", screen.unit_id, "screen", screen_id, before, snap(public(screen))
    )
    commit(uow)
    if new_account:
        screen.refresh(consistent_read=True)
        _fill_qrcode(screen)
    outbox.send(outbox.manifest_messages([screen_id], "screen_updated"))
    if "unit_id" in changes or "tags" in changes:
        content_targets.follow_screen(screen_id)  # targets by unit, subtree or tag follow the screen
    screen.refresh(consistent_read=True)
    return screen


def rebind_account(principal: Principal, screen: Screen, appid: str, note: str) -> Screen:
    """Bind the screen to another account (a unit move asked for it): a new QR code and manifest follow."""
    principal.unit(screen.unit_id, MANAGE)
    before = snap(public(screen))
    uow = UnitOfWork()
    revise(uow, screen, [Screen.appid.set(appid), Screen.qr_ticket.remove(), Screen.qr_url.remove()], locked=False)
    screen.appid = appid
    audit.record(
        uow,
        principal.user_id,
        "screen.update",
        screen.unit_id,
        "screen",
        screen.screen_id,
        before,
        snap(public(screen)),
        note=note,
    )
    commit(uow)
    screen.refresh(consistent_read=True)
    _fill_qrcode(screen)
    outbox.send(outbox.manifest_messages([screen.screen_id], "screen_updated"))
    screen.refresh(consistent_read=True)
    return screen


def delete(principal: Principal, screen_id: str, if_match: int | None) -> None:
    screen = _visible(principal, screen_id, MANAGE)
    check_if_match(if_match, screen.revision)
    if int(screen.fan_count or 0) > 0:
        raise Conflict("the screen still has subscribers", code="in_use")
    delete_with_audit(
        screen, principal.user_id, "screen.delete", screen.unit_id, "screen", screen_id, snap(public(screen))
    )
