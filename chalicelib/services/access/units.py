"""Units in a tree: create, read, edit, move (with the subtree), delete, list a subtree.

A unit's ``path`` is its ancestors' ids and its own, each followed by ``/``;
the ``subtree`` index (``root_id``, ``path``) lists any subtree with one
Query.  Moving a unit rewrites the path (and root) of every unit below it.
Root units are created only by ``tools.create_root_admin`` (``create_root``):
through the API a unit is always created under a parent the caller administers.
"""

from __future__ import annotations

from typing import Any

from chalicelib.dal import accounts as account_repo
from chalicelib.dal import units as unit_repo
from chalicelib.models import Account, Content, Screen, Unit, User
from chalicelib.models.unit_of_work import MAX_TRANSACTION_ITEMS, UnitOfWork
from chalicelib.services.access import audit
from chalicelib.services.access.grants import MANAGE, READ, Principal
from chalicelib.services.shared.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.services.shared.pagination import Page, page_list
from chalicelib.services.shared.writes import (
    OBJECT_TAG,
    check_if_match,
    commit,
    delete_with_audit,
    new_id,
    revise,
    snap,
)

FIELDS = ("name", "kind", "province", "city", "district", "review_required")


def public(unit: Unit) -> dict[str, Any]:
    return {
        "unit_id": unit.unit_id,
        "parent_id": unit.parent_id,
        "root_id": unit.root_id,
        "path": unit.path,
        "name": unit.name,
        "kind": unit.kind,
        "province": unit.province,
        "city": unit.city,
        "district": unit.district,
        "review_required": bool(unit.review_required),
        "revision": unit.revision,
        "created_at": unit.created_at,
        "updated_at": unit.updated_at,
    }


def subtree(unit: Unit) -> list[Unit]:
    """The unit and every unit below it, ordered by path (one Query, paged through)."""
    return list(Unit.subtree.query(unit.root_id, Unit.path.startswith(unit.path)))


def scope_units(principal: Principal, unit_id: str | None) -> list[Unit]:
    """The units a list covers: one unit's subtree, or every subtree the caller's grants reach."""
    tops = [principal.unit(unit_id)] if unit_id else [principal.unit(g.unit_id) for g in principal.top_grants()]
    return [u for top in tops for u in subtree(top)]


def ancestors(unit: Unit) -> list[Unit]:
    ids = [p for p in unit.path.split("/") if p][:-1]
    found = {u.unit_id: u for u in Unit.batch_get(ids)} if ids else {}
    return [found[i] for i in ids if i in found]


def review_required(unit: Unit) -> bool:
    """A unit requires review when it or any superior unit says so."""
    return bool(unit.review_required) or any(a.review_required for a in ancestors(unit))


def create_root(name: str, kind: str = "association", actor: str = "system", **fields: Any) -> Unit:
    unit_id = new_id("u")
    unit = Unit(unit_id, root_id=unit_id, path=f"{unit_id}/", parent_id=None, name=name, kind=kind, **fields)
    uow = UnitOfWork()
    uow.put(unit, condition=Unit.unit_id.does_not_exist(), tag=OBJECT_TAG)
    audit.record(uow, actor, "unit.create", unit_id, "unit", unit_id, None, _snap(unit))
    commit(uow)
    return unit


def _snap(unit: Unit) -> dict[str, Any]:
    return snap(public(unit))


def create(principal: Principal, data: dict[str, Any]) -> Unit:
    parent = principal.unit(data.pop("parent_id"), MANAGE)
    unit_id = new_id("u")
    unit = Unit(unit_id, root_id=parent.root_id, path=f"{parent.path}{unit_id}/", parent_id=parent.unit_id, **data)
    uow = UnitOfWork()
    uow.put(unit, condition=Unit.unit_id.does_not_exist(), tag=OBJECT_TAG)
    audit.record(uow, principal.user_id, "unit.create", unit_id, "unit", unit_id, None, _snap(unit))
    commit(uow)
    return unit


def get(principal: Principal, unit_id: str) -> Unit:
    return principal.unit(unit_id, READ)


def list_units(
    principal: Principal, cursor: str | None, limit: int, under: str | None = None, parent_id: str | None = None
) -> Page:
    """Units in the caller's scope (or under one unit of it), ordered by path."""
    tops = (
        [principal.unit(under)]
        if under
        else [Unit(g.unit_id, root_id=g.root_id, path=g.path) for g in principal.top_grants(READ)]
    )
    units: list[Unit] = []
    for top in tops:
        units.extend(subtree(top))
    if parent_id is not None:
        units = [u for u in units if u.parent_id == parent_id]
    return page_list(units, cursor, limit, key=lambda u: u.path)


def update(principal: Principal, unit_id: str, changes: dict[str, Any], if_match: int | None) -> Unit:
    unit = principal.unit(unit_id, MANAGE)
    check_if_match(if_match, unit.revision)
    new_parent_id = changes.pop("parent_id", None)
    rebind_appid = changes.pop("rebind_appid", None)
    before = _snap(unit)
    if new_parent_id and new_parent_id != unit.parent_id:
        return _move(principal, unit, new_parent_id, changes, before, rebind_appid)
    if rebind_appid:
        raise BadRequest("rebind_appid applies only to a move (with a new parent_id)", field="rebind_appid")
    uow = UnitOfWork()
    revise(uow, unit, [getattr(Unit, k).set(v) for k, v in changes.items()])
    for k, v in changes.items():
        setattr(unit, k, v)
    unit.revision += 1
    audit.record(uow, principal.user_id, "unit.update", unit.unit_id, "unit", unit.unit_id, before, _snap(unit))
    commit(uow)
    unit.refresh(consistent_read=True)
    return unit


def _move(
    principal: Principal,
    unit: Unit,
    parent_id: str,
    changes: dict[str, Any],
    before: dict,
    rebind_appid: str | None = None,
) -> Unit:
    """Re-parent ``unit``: its subtree follows (paths and root rewritten).

    Refused (409) when screens would end up bound to an account that is not
    of their unit or a superior, unless ``rebind_appid`` names an account
    valid for all of them: they are re-bound to it after the move.
    """
    if unit.parent_id is None:
        raise Forbidden("a root unit cannot be moved")
    parent = principal.unit(parent_id, MANAGE)
    if parent.path.startswith(unit.path):
        raise BadRequest("a unit cannot move below itself", field="parent_id")
    old_path, new_path = unit.path, f"{parent.path}{unit.unit_id}/"
    members = subtree(unit)
    stranded = stranded_screens(members, old_path, new_path)
    rebind_to = _rebind_target(principal, rebind_appid, stranded, members, old_path, new_path)
    chunks = [members[i : i + MAX_TRANSACTION_ITEMS - 2] for i in range(0, len(members), MAX_TRANSACTION_ITEMS - 2)]
    for n, chunk in enumerate(chunks):  # one transaction when the subtree fits (< 98 units), else several
        uow = UnitOfWork()
        _move_members(uow, chunk, unit, parent, new_path, changes)
        if n == 0:
            after = dict(before, parent_id=parent.unit_id, path=new_path, root_id=parent.root_id, **changes)
            audit.record(
                uow,
                principal.user_id,
                "unit.move",
                unit.unit_id,
                "unit",
                unit.unit_id,
                before,
                after,
                note=f"{len(members)} units moved",
            )
        commit(uow)
    _follow_move(principal, unit, parent, old_path, members, stranded, rebind_to)
    unit.refresh(consistent_read=True)
    return unit


def stranded_screens(members: list[Unit], old_path: str, new_path: str) -> list[Screen]:
    """Screens of a moving subtree whose account would no longer belong to their unit or a superior of it.

    Accounts inside the subtree move with it; accounts elsewhere stay where
    they are, so a screen bound to a superior's account outside the new
    ancestry would break "a screen's account belongs to its unit or a superior".
    """
    moved = {m.unit_id: new_path + m.path[len(old_path) :] for m in members}
    account_paths: dict[str, str | None] = {}
    stranded = []
    for member in members:
        for screen in Screen.by_unit.query(member.unit_id):
            if screen.appid not in account_paths:
                account_paths[screen.appid] = _account_path(screen.appid, moved)
            owner_path = account_paths[screen.appid]
            if owner_path is None or not moved[member.unit_id].startswith(owner_path):
                stranded.append(screen)
    return stranded


def _account_path(appid: str, moved: dict[str, str]) -> str | None:
    """The path of the account's unit after the move; None when account or unit is gone."""
    account = account_repo.read(appid)
    if account is None:
        return None
    if account.unit_id in moved:
        return moved[account.unit_id]
    owner = unit_repo.find(account.unit_id)
    return owner.path if owner is not None else None


def _rebind_target(
    principal: Principal, appid: str | None, stranded: list[Screen], members: list[Unit], old_path: str, new_path: str
) -> Account | None:
    """Refuse a move that strands screens, unless the request names an account valid for all of them."""
    if not stranded:
        return None
    names = ", ".join(f"{s.screen_id} ({s.appid})" for s in stranded[:20])
    more = f" and {len(stranded) - 20} more" if len(stranded) > 20 else ""
    if appid is None:
        raise Conflict(
            f"the move would leave screens bound to an account outside their unit's superiors: "
            f"{names}{more}. Re-bind them to another account with rebind_appid, or move them first",
            field="parent_id",
            code="screens_lose_account",
        )
    account = account_repo.read(appid)
    if account is None:
        raise BadRequest("no such official account", field="rebind_appid")
    owner = principal.unit(account.unit_id, READ)
    owner_path = new_path + owner.path[len(old_path) :] if owner.path.startswith(old_path) else owner.path
    moved = {m.unit_id: new_path + m.path[len(old_path) :] for m in members}
    if not all(moved[s.unit_id].startswith(owner_path) for s in stranded):
        raise BadRequest(
            f"the account must belong to the unit or a superior of every screen: {names}{more}", field="rebind_appid"
        )
    return account


def delete(principal: Principal, unit_id: str, if_match: int | None) -> None:
    unit = principal.unit(unit_id, MANAGE)
    check_if_match(if_match, unit.revision)
    if unit.parent_id is None:
        raise Forbidden("a root unit cannot be deleted")
    if len(subtree(unit)) > 1:
        raise Conflict("the unit still has subordinate units", code="not_empty")
    for index, what in (
        (Screen.by_unit, "screens"),
        (Account.by_unit, "accounts"),
        (Content.by_unit, "content"),
        (User.by_unit, "users"),
    ):
        if next(iter(index.query(unit.unit_id, limit=1)), None) is not None:
            raise Conflict(f"the unit still has {what}", code="not_empty")
    delete_with_audit(unit, principal.user_id, "unit.delete", unit.parent_id, "unit", unit.unit_id, _snap(unit))


def _move_members(
    uow: UnitOfWork, chunk: list[Unit], unit: Unit, parent: Unit, new_path: str, changes: dict[str, Any]
) -> None:
    """Rewrite path and root of each member; the moved unit itself also gets its parent and the changes."""
    old_path = unit.path
    for member in chunk:
        actions = [Unit.path.set(new_path + member.path[len(old_path) :]), Unit.root_id.set(parent.root_id)]
        if member.unit_id == unit.unit_id:  # the caller's copy: locked on the revision he checked
            actions += [Unit.parent_id.set(parent.unit_id)]
            revise(uow, unit, actions + [getattr(Unit, k).set(v) for k, v in changes.items()])
        else:
            uow.update(member, actions, condition=Unit.path == member.path, tag=f"member:{member.unit_id}")


def _follow_move(
    principal: Principal,
    unit: Unit,
    parent: Unit,
    old_path: str,
    members: list[Unit],
    stranded: list[Screen],
    rebind_to: Account | None,
) -> None:
    """What follows a committed move: the home feed, re-bound screens, content targets of the members' screens."""
    from chalicelib.services.analytics import home_feed
    from chalicelib.services.content import targets as content_targets
    from chalicelib.services.screens.registry import rebind_account

    home_feed.move_subtree(unit.unit_id, old_path[: -len(unit.unit_id) - 1], parent.path)
    if rebind_to is not None:
        for screen in stranded:
            rebind_account(principal, screen, rebind_to.appid, note=f"unit {unit.unit_id} moved")
    for member in members:  # content of the old superiors leaves, content of the new ones arrives
        for screen in Screen.by_unit.query(member.unit_id):
            content_targets.follow_screen(screen.screen_id)


def resolve(unit_id: str) -> Unit:
    unit = unit_repo.find(unit_id)
    if unit is None:
        raise NotFound("unit")
    return unit
