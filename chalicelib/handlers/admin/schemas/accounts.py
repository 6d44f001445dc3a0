"""Official accounts: their settings, write-only secrets, and how other units' content reaches their fans."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from chalicelib.handlers.admin.schemas.common import In, Out, Page, PageQuery, update_of
from chalicelib.handlers.admin.schemas.fields import (
    AesKey,
    AppId,
    AppSecret,
    CallbackToken,
    Id,
    MpVerifyContent,
    MpVerifyFile,
    OriginalId,
    PlainText,
    TemplateId,
)
from chalicelib.models.accounts import AccountType, MessageMode

CrossUnit = Annotated[
    Literal["push", "unread", "none"],
    Field(
        description="content of units that are neither in this account's unit subtree nor superior to its unit: "
        "push (sent like own content), unread (default: listed in the fan's 最新 reply and on the phone "
        "pages, not pushed), none"
    ),
]


class AccountCreate(In):
    appid: AppId
    unit_id: Id
    name: Annotated[str, PlainText(64)]
    account_type: AccountType = "service"
    certified: bool = True
    original_id: OriginalId
    template_id: TemplateId | None = None
    subscribe_template_id: TemplateId | None = None
    cross_unit: CrossUnit = "unread"
    app_secret: AppSecret
    token: CallbackToken
    aes_key: AesKey | None = None
    message_mode: MessageMode | None = Field(
        None,
        description="消息加解密方式 as set in the WeChat console; unset = safe once aes_key is set. "
        "Safe refuses unencrypted callbacks: declare compatible while switching.",
    )
    mp_verify_file: MpVerifyFile | None = None
    mp_verify_content: MpVerifyContent | None = None


AccountUpdate = update_of(AccountCreate, "AccountUpdate", omit=("appid",))


class SecretsSet(Out):
    app_secret: bool
    token: bool
    aes_key: bool
    aes_key_previous: bool


class AccountOut(Out):
    appid: str
    unit_id: str
    name: str
    account_type: str
    certified: bool
    original_id: str
    template_id: str | None
    subscribe_template_id: str | None
    cross_unit: CrossUnit
    secrets: SecretsSet
    message_mode: str
    callback_url: str
    mp_verify_file: str | None = None
    mp_verify_content: str | None = None
    menu_created_at: datetime | None
    revision: int
    created_at: datetime | None
    updated_at: datetime | None


class AccountList(Page[AccountOut]):
    pass


class AccountListQuery(PageQuery):
    unit_id: Id | None = None


class MenuOut(Out):
    account: AccountOut
    menu: dict[str, Any]
