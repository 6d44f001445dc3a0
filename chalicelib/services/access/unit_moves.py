"""Moving a unit under another parent: its whole subtree, and everything that hangs on the units' paths.

A move rewrites the path and root of every unit of the subtree, in one
transaction when the subtree fits (else in several), audited once.  Before it,
``stranded_screens`` finds the subtree's screens whose account would end up
outside their unit's superiors (accounts inside the subtree move with it,
accounts elsewhere stay): the move is refused unless the request names an
account valid for all of them.  After it, the home feed's entries move to
the new superiors, stranded screens are re-bound, and the content targets of
every moved screen are worked out again.  ``units.update`` hands a change of
``parent_id`` here.
"""

from __future__ import annotations

from typing import Any

from chalicelib.dal import accounts as account_repo
from chalicelib.dal import units as unit_repo
from chalicelib.models import Account, Screen, Unit
from chalicelib.models.unit_of_work import MAX_TRANSACTION_ITEMS, UnitOfWork
from chalicelib.services.access import audit
from chalicelib.services.access.grants import MANAGE, READ, Principal
from chalicelib.services.access.units import subtree
from chalicelib.services.shared.errors import BadRequest, Conflict, Forbidden
from chalicelib.services.shared.writes import commit, revise


def move(
    principal: Principal,
    unit: Unit,
    parent_id: str,
    changes: dict[str, Any],
    before: dict,
    rebind_appid: str | None = None,
) -> Unit:
    """Re-parent ``unit`` (``units.update`` with a new parent): its subtree follows (paths and root rewritten).

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
    moved = {m.unit_id: new_path + m.path[len(old_path) :] for m in members}  # each member's path after the move
    stranded = stranded_screens(members, moved)
    rebind_to = _rebind_target(principal, rebind_appid, stranded, moved, old_path, new_path)
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


def stranded_screens(members: list[Unit], moved: dict[str, str]) -> list[Screen]:
    """Screens of a moving subtree whose account would no longer belong to their unit or a superior of it.

    Accounts inside the subtree move with it; accounts elsewhere stay where
    they are, so a screen bound to a superior's account outside the new
    ancestry would break "a screen's account belongs to its unit or a superior".
    ``moved`` is each member's path after the move.
    """
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
    principal: Principal,
    appid: str | None,
    stranded: list[Screen],
    moved: dict[str, str],
    old_path: str,
    new_path: str,
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
    if not all(moved[s.unit_id].startswith(owner_path) for s in stranded):
        raise BadRequest(
            f"the account must belong to the unit or a superior of every screen: {names}{more}", field="rebind_appid"
        )
    return account


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
