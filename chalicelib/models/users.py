"""Admin users, their API keys and their role grants.

A user holds bearer API keys and roles granted on units.  A role granted on a
unit reaches the unit's whole subtree (see ``chalicelib.services.access.grants``).

API keys are ``ks_<key_id>_<secret>``: ``key_id`` is the table's hash key (so
a request costs one GetItem), and only the SHA-256 of the whole key is stored;
the key itself is shown once, when it is made.  A high-entropy random key needs
no slow password hash: there is nothing to brute-force.
"""

from __future__ import annotations

from typing import Literal, get_args

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow

Role = Literal["admin", "editor", "reviewer", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)  # derived: the schemas type fields with the Literal


class UsersByUnitIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)


class User(Model):
    """A person (or a system) using the admin API; ``unit_id`` is the home unit that manages him."""

    class Meta:
        table_name = table_name("users")
        region = region()

    user_id = UnicodeAttribute(hash_key=True)
    unit_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    username = UnicodeAttribute(null=True)  # console sign-in name (its Credential's key)
    wechat_login = UnicodeAttribute(null=True)  # "<appid>:<openid>" bound for scan-to-sign-in
    disabled = BooleanAttribute(default=False)
    revision = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_unit = UsersByUnitIndex()


class KeysByUserIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKey(Model):
    class Meta:
        table_name = table_name("api_keys")
        region = region()

    key_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    key_hash = UnicodeAttribute()  # sha256 hex of the whole key
    label = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    last_used_at = UTCDateTimeAttribute(null=True)
    created_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)

    by_user = KeysByUserIndex()


class GrantsByUnitIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_id = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(range_key=True)


class RoleGrant(Model):
    """One role of one user on one unit (and so on its subtree); one role per user and unit."""

    class Meta:
        table_name = table_name("role_grants")
        region = region()

    user_id = UnicodeAttribute(hash_key=True)
    unit_id = UnicodeAttribute(range_key=True)
    role = UnicodeAttribute()
    granted_by = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)

    by_unit = GrantsByUnitIndex()
