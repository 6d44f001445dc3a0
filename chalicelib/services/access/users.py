"""Admin users, their role grants and their API keys.

A user belongs to a home unit; admins of that unit (or above) manage him.
Roles are granted on units the granting admin administers, so nobody can
grant beyond his own scope.  Keys are shown once and stored hashed; every
user may list, create and revoke his own keys.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from chalicelib.dal.items import find
from chalicelib.models import ApiKey, RoleGrant, Unit, User
from chalicelib.models.unit_of_work import UnitOfWork
from chalicelib.services.access import audit
from chalicelib.services.access import units as units_service
from chalicelib.services.access.grants import KEY_PREFIX, MANAGE, READ, Principal, hash_key, load_grants
from chalicelib.services.access.units import scope_units
from chalicelib.services.shared.errors import NotFound
from chalicelib.services.shared.pagination import Page, page_by_unit
from chalicelib.services.shared.writes import OBJECT_TAG, check_if_match, commit, new_id, now, revise, snap


def public(user: User) -> dict[str, Any]:
    grants = list(RoleGrant.query(user.user_id))
    return {
        "user_id": user.user_id,
        "unit_id": user.unit_id,
        "name": user.name,
        "email": user.email,
        "username": user.username,
        "wechat_bound": bool(user.wechat_login),
        "disabled": bool(user.disabled),
        "grants": [{"unit_id": g.unit_id, "role": g.role} for g in sorted(grants, key=lambda g: g.unit_id)],
        "revision": user.revision,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def key_view(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "user_id": key.user_id,
        "label": key.label,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "created_at": key.created_at,
    }


def _acting(principal: Principal | None, actor: str | None) -> str:
    """Who the audit log names: the given actor (a system job), else the calling principal."""
    if actor:
        return actor
    if principal is None:
        raise ValueError("a call without a principal must name its actor")
    return principal.user_id


def _visible(principal: Principal, user_id: str, permission: str = READ) -> User:
    user = find(User, user_id)
    if user is None:
        raise NotFound("user")
    if user_id == principal.user_id and permission == READ:
        return user
    if not principal.visible(user.unit_id):
        raise NotFound("user")
    principal.unit(user.unit_id, permission)
    return user


def create(principal: Principal | None, data: dict[str, Any], actor: str | None = None) -> User:
    if principal is not None:
        principal.unit(data["unit_id"], MANAGE)
    user = User(new_id("usr"), **data)
    uow = UnitOfWork()
    uow.put(user, condition=User.user_id.does_not_exist(), tag=OBJECT_TAG)
    audit.record(
        uow,
        _acting(principal, actor),
        "user.create",
        user.unit_id,
        "user",
        user.user_id,
        None,
        snap({k: v for k, v in public(user).items() if k != "grants"}),
    )
    commit(uow)
    return user


def get(principal: Principal, user_id: str) -> User:
    return _visible(principal, user_id)


def list_users(principal: Principal, cursor: str | None, limit: int, unit_id: str | None) -> Page:
    units = scope_units(principal, unit_id)
    return page_by_unit(User.by_unit, [u.unit_id for u in units], cursor, limit)


def update(principal: Principal, user_id: str, changes: dict[str, Any], if_match: int | None) -> User:
    user = _visible(principal, user_id, MANAGE)
    check_if_match(if_match, user.revision)
    before = snap({k: v for k, v in public(user).items() if k != "grants"})
    for k, v in changes.items():
        setattr(user, k, v)
    uow = UnitOfWork()
    revise(
        uow, user, [getattr(User, k).set(v) if v is not None else getattr(User, k).remove() for k, v in changes.items()]
    )
    audit.record(
        uow,
        principal.user_id,
        "user.update",
        user.unit_id,
        "user",
        user_id,
        before,
        snap({k: v for k, v in public(user).items() if k != "grants"}),
    )
    commit(uow)
    user.refresh(consistent_read=True)
    return user


def grant(principal: Principal | None, user_id: str, unit_id: str, role: str, actor: str | None = None) -> User:
    """Give ``role`` on ``unit_id`` (replacing any other role the user had on that unit)."""
    user = _visible(principal, user_id, MANAGE) if principal else User.get(user_id)
    unit = principal.unit(unit_id, MANAGE) if principal else units_service.resolve(unit_id)
    actor = _acting(principal, actor)
    uow = UnitOfWork()
    uow.put(RoleGrant(user_id, unit.unit_id, role=role, granted_by=actor))
    audit.record(uow, actor, "user.grant", unit.unit_id, "user", user_id, None, {"unit_id": unit_id, "role": role})
    commit(uow)
    return user


def revoke_grant(principal: Principal, user_id: str, unit_id: str) -> User:
    user = _visible(principal, user_id, READ)
    principal.unit(unit_id, MANAGE)
    existing = find(RoleGrant, user_id, unit_id)
    if existing is None:
        raise NotFound("grant")
    uow = UnitOfWork()
    uow.delete(existing)
    audit.record(
        uow,
        principal.user_id,
        "user.revoke",
        unit_id,
        "user",
        user_id,
        {"unit_id": unit_id, "role": existing.role},
        None,
    )
    commit(uow)
    return user


def issue_key(
    principal: Principal | None,
    user_id: str,
    label: str | None = None,
    expires_in_days: int | None = None,
    actor: str | None = None,
) -> tuple[ApiKey, str]:
    """A new API key for the user; the key itself is returned once and never stored."""
    if principal is not None and user_id != principal.user_id:
        user = _visible(principal, user_id, MANAGE)
    else:
        user = User.get(user_id)
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    record = ApiKey(
        key_id,
        user_id=user.user_id,
        key_hash=hash_key(key),
        label=label,
        expires_at=now() + timedelta(days=expires_in_days) if expires_in_days else None,
        created_by=actor or (principal.user_id if principal else "system"),
    )
    uow = UnitOfWork()
    uow.put(record, condition=ApiKey.key_id.does_not_exist(), tag=OBJECT_TAG)
    audit.record(uow, record.created_by, "user.key", user.unit_id, "user", user.user_id, None, snap(key_view(record)))
    commit(uow)
    return record, key


def list_keys(principal: Principal, user_id: str) -> list[ApiKey]:
    if user_id != principal.user_id:
        _visible(principal, user_id, MANAGE)
    return list(ApiKey.by_user.query(user_id))


def revoke_key(principal: Principal | None, user_id: str, key_id: str, actor: str | None = None) -> ApiKey:
    user = (
        User.get(user_id) if principal is None or user_id == principal.user_id else _visible(principal, user_id, MANAGE)
    )
    record = find(ApiKey, key_id)
    if record is None:
        raise NotFound("key")
    if record.user_id != user_id:
        raise NotFound("key")
    if record.revoked_at is None:
        uow = UnitOfWork()
        uow.update(record, [ApiKey.revoked_at.set(now())], tag=OBJECT_TAG)
        audit.record(
            uow, actor or principal.user_id, "user.key_revoke", user.unit_id, "user", user_id, None, {"key_id": key_id}
        )
        commit(uow)
        record.refresh(consistent_read=True)
    return record


def me(principal: Principal) -> dict[str, Any]:
    return public(User.get(principal.user_id))


def bootstrap_root_admin(
    unit_name: str, user_name: str, kind: str = "association", **unit_fields: Any
) -> tuple[Unit, User, str]:
    """A fresh root unit, its first admin user and his key (``tools.create_root_admin``)."""
    unit = units_service.create_root(unit_name, kind, **unit_fields)
    user = create(None, {"unit_id": unit.unit_id, "name": user_name}, actor="system")
    grant(None, user.user_id, unit.unit_id, "admin", actor="system")
    _record, key = issue_key(None, user.user_id, label="root admin", actor="system")
    return unit, user, key


def principal_for(user_id: str) -> Principal:
    """The principal of a user without a key (local tools and the demo seeding act as a user)."""
    return Principal(user_id, load_grants(user_id))
