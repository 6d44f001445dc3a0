"""Who may do what where: roles granted on units, reaching their whole subtree.

A grant of a role on a unit applies to that unit and every unit below it (its
``path`` prefix).  Permissions per role:

=========  ==================================================================
admin      everything in the subtree: units, accounts, screens, users, content
editor     read; create/edit/submit content; publish where no review is needed
reviewer   read; approve or reject content waiting for review
viewer     read
=========  ==================================================================

An object outside every grant of the caller answers 404 (``NotFound``), never
403, so ids cannot be probed across branches.  Inside the caller's read scope
an action his role does not allow answers 403.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import AttributeDeserializationError

from chalicelib.dal import units as unit_repo
from chalicelib.dal.items import find
from chalicelib.models import ApiKey, RoleGrant, Unit, User
from chalicelib.services.shared.errors import Forbidden, NotFound, Unauthorized

READ, EDIT, PUBLISH, REVIEW, MANAGE = "read", "edit", "publish", "review", "manage"
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({READ, EDIT, PUBLISH, REVIEW, MANAGE}),
    "editor": frozenset({READ, EDIT, PUBLISH}),
    "reviewer": frozenset({READ, REVIEW}),
    "viewer": frozenset({READ}),
}
KEY_PREFIX = "ks"


@dataclass(frozen=True)
class Grant:
    unit_id: str
    path: str
    role: str
    root_id: str = ""


@dataclass
class Principal:
    """The authenticated caller with his grants resolved to unit paths."""

    user_id: str
    grants: list[Grant] = field(default_factory=list)
    session_id: str | None = None  # the console session the call came with (None: a bearer key)
    _units: dict[str, Unit] = field(default_factory=dict, repr=False)

    def roles_at(self, path: str) -> set[str]:
        return {g.role for g in self.grants if path.startswith(g.path)}

    def can(self, permission: str, unit: Unit) -> bool:
        return any(permission in PERMISSIONS[role] for role in self.roles_at(unit.path))

    def require(self, permission: str, unit: Unit) -> Unit:
        """404 when the unit is outside the caller's scope, 403 when his role lacks ``permission``."""
        if not self.roles_at(unit.path):
            raise NotFound("unit")
        if not self.can(permission, unit):
            raise Forbidden(f"your role does not allow '{permission}' here")
        return unit

    def top_grants(self, permission: str = READ) -> list[Grant]:
        """Grants allowing ``permission`` that are not inside another such grant (one query each)."""
        allowed = sorted((g for g in self.grants if permission in PERMISSIONS[g.role]), key=lambda g: g.path)
        tops: list[Grant] = []
        for grant in allowed:
            if not any(grant.path.startswith(t.path) for t in tops):
                tops.append(grant)
        return tops

    def unit(self, unit_id: str, permission: str = READ) -> Unit:
        """The unit, checked against ``permission`` (404 / 403 as above); cached per request."""
        found = self._units.get(unit_id)
        if found is None:
            if not isinstance(unit_id, str) or not unit_id or len(unit_id) > 64:
                raise NotFound("unit")
            found = unit_repo.find(unit_id)
            if found is None:
                raise NotFound("unit")
            self._units[unit_id] = found
        return self.require(permission, found)

    def visible(self, unit_id: str) -> bool:
        try:
            self.unit(unit_id)
        except NotFound:
            return False
        return True


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> str | None:
    """The key id inside ``ks_<key_id>_<secret>``, or None if it is not shaped like one."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1].isalnum() or len(key) > 128:
        return None
    return parts[1]


def load_grants(user_id: str) -> list[Grant]:
    return _grants_and_units(user_id)[0]


def _grants_and_units(user_id: str) -> tuple[list[Grant], dict[str, Unit]]:
    grants = list(RoleGrant.query(user_id))
    units = {u.unit_id: u for u in Unit.batch_get([g.unit_id for g in grants])} if grants else {}
    return (
        [
            Grant(g.unit_id, units[g.unit_id].path, g.role, units[g.unit_id].root_id)
            for g in grants
            if g.unit_id in units
        ],
        units,
    )


def principal_with_units(user_id: str, **fields: Any) -> Principal:
    """The user's principal, its per-request unit cache holding the granted units it just read.

    Resolving the grants reads those units anyway; keeping them saves the
    ``Unit.get`` a call on the granted unit itself would make (an analytics
    series of one's own unit: 5 requests instead of 6).  Only the cache is
    filled: every access still goes through ``Principal.unit`` → ``require``.
    """
    grants, units = _grants_and_units(user_id)
    return Principal(user_id, grants, _units=dict(units), **fields)


def authenticate(authorization: str | None) -> Principal:
    """The principal behind ``Authorization: Bearer ks_...``; 401 for anything else."""
    scheme, _, key = (authorization or "").partition(" ")
    key_id = split_key(key.strip()) if scheme.lower() == "bearer" else None
    if not key_id:
        raise Unauthorized("a bearer API key is required")
    record = find(ApiKey, key_id)
    if record is None:
        raise Unauthorized("invalid API key")
    now = datetime.now(UTC)
    if not hmac.compare_digest(record.key_hash, hash_key(key.strip())):
        raise Unauthorized("invalid API key")
    if record.revoked_at is not None or (record.expires_at is not None and record.expires_at <= now):
        raise Unauthorized("API key revoked or expired")
    user = find(User, record.user_id)
    if user is None:
        raise Unauthorized("invalid API key")
    if user.disabled:
        raise Unauthorized("user disabled")
    return principal_with_units(user.user_id)


def fetch_in_scope(
    principal: Principal, model_cls: Any, key: str, what: str, permission: str = READ, *, consistent_read: bool = False
) -> tuple[Any, Unit]:
    """Load one unit-owned object and its unit, as the caller may see it.

    Missing and outside the caller's subtree answer the same 404, so ids cannot
    be probed; visible but not permitted for ``permission`` answers 403.
    """
    try:
        obj = find(model_cls, key, consistent=consistent_read)
    except AttributeDeserializationError:  # a malformed stored item reads as absent
        obj = None
    if obj is None:
        raise NotFound(what)
    if not principal.visible(obj.unit_id):
        raise NotFound(what)
    return obj, principal.unit(obj.unit_id, permission)
