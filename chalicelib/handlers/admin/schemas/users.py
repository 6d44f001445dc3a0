"""Console users, their role grants per unit, and their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

from chalicelib.handlers.admin.schemas.common import In, Out, Page, PageQuery, not_null, update_of
from chalicelib.handlers.admin.schemas.fields import Email, Id, PlainText, integral
from chalicelib.models.users import Role


class UserCreate(In):
    unit_id: Id
    name: Annotated[str, PlainText(64)]
    email: Email | None = None


# a user stays in the unit he was created in; disabling is an update, never a create
UserUpdate = update_of(UserCreate, "UserUpdate", omit=("unit_id",), disabled=(bool, not_null()))


class GrantOut(Out):
    unit_id: str
    role: str


class UserOut(Out):
    user_id: str
    unit_id: str
    name: str
    email: str | None
    username: str | None = None
    wechat_bound: bool = False
    disabled: bool
    grants: list[GrantOut]
    revision: int
    created_at: datetime | None
    updated_at: datetime | None


class UserList(Page[UserOut]):
    pass


class UserListQuery(PageQuery):
    unit_id: Id | None = None


class GrantIn(In):
    role: Role


class KeyCreate(In):
    label: Annotated[str, PlainText(64)] | None = None
    expires_in_days: Annotated[int, Field(ge=1, le=3650), BeforeValidator(integral)] | None = None


class KeyOut(Out):
    key_id: str
    user_id: str
    label: str | None
    expires_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime | None


class KeyCreated(Out):
    key: KeyOut
    api_key: str | None = Field(description="shown once; null when replayed for an idempotent retry")


class KeyList(Out):
    items: list[KeyOut]
