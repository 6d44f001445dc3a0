"""Units in a tree: create, read, edit, delete, list a subtree; a move is handed to ``unit_moves``.

A unit's ``path`` is its ancestors' ids and its own, each followed by ``/``;
the ``subtree`` index (``root_id``, ``path``) lists any subtree with one
Query.  Moving a unit rewrites the path (and root) of every unit below it.
Root units are created only by ``tools.create_root_admin`` (``create_root``):
through the API a unit is always created under a parent the caller administers.
"""

from __future__ import annotations

from typing import Any

from chalicelib.dal import units as unit_repo
from chalicelib.models import Account, Content, Screen, Unit, User
from chalicelib.models.unit_of_work import UnitOfWork
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
        from chalicelib.services.access import unit_moves  # it builds on this module's subtree

        return unit_moves.move(principal, unit, new_parent_id, changes, before, rebind_appid)
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


def resolve(unit_id: str) -> Unit:
    unit = unit_repo.find(unit_id)
    if unit is None:
        raise NotFound("unit")
    return unit
