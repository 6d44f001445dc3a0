"""WeChat official accounts connected to kepuscreen.

Secrets (app secret, callback token, EncodingAESKeys) are *not* attributes
here: they live in SSM Parameter Store as SecureStrings (see
``chalicelib.secrets``).  The table only records which of them are set.
"""

from __future__ import annotations

from typing import Literal, get_args

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import region, table_name, utcnow

# A Literal holds the values, for the admin schemas' fields (mypy takes only literal values in a Literal[...]);
# the tuple is derived from it, so they are written once.
AccountType = Literal[
    "service",  # 服务号: template messages and subscription notices
    "subscription",  # 订阅号: customer-service messages inside WeChat's windows only
]
ACCOUNT_TYPES: tuple[str, ...] = get_args(AccountType)
SERVICE, SUBSCRIPTION = ACCOUNT_TYPES
MessageMode = Literal["plain", "compatible", "safe"]  # 消息加解密方式 chosen in the WeChat console
MESSAGE_MODES: tuple[str, ...] = get_args(MessageMode)


class AccountsByUnitIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_unit"
        projection = AllProjection()

    unit_id = UnicodeAttribute(hash_key=True)
    appid = UnicodeAttribute(range_key=True)


class Account(Model):
    class Meta:
        table_name = table_name("accounts")
        region = region()

    appid = UnicodeAttribute(hash_key=True)
    unit_id = UnicodeAttribute()
    name = UnicodeAttribute()
    account_type = UnicodeAttribute(default=SERVICE)
    certified = BooleanAttribute(default=True)
    original_id = UnicodeAttribute()  # gh_xxx: the ToUserName of every callback message
    template_id = UnicodeAttribute(null=True)  # template message used for pushes
    subscribe_template_id = UnicodeAttribute(null=True)  # 订阅通知 template
    digest_tag_id = NumberAttribute(null=True)  # tag for the daily mass-send digest, if allowed
    template_quota = NumberAttribute(null=True)  # template messages per day; WeChat's default 100,000 when unset
    cross_unit = UnicodeAttribute(null=True)  # content of other units: push | unread | none (unset = unread)
    secrets_set = UnicodeSetAttribute(null=True)
    # As set in the WeChat console; unset means "safe" once an EncodingAESKey is registered, else
    # "plain".  Safe refuses plaintext posts; declare "compatible" while switching modes.
    message_mode = UnicodeAttribute(null=True)
    mp_verify_file = UnicodeAttribute(null=True)  # MP_verify_xxx.txt: WeChat's check of the OAuth domain
    mp_verify_content = UnicodeAttribute(null=True)
    menu_created_at = UTCDateTimeAttribute(null=True)
    menu = JSONAttribute(null=True)  # the custom menu last published through the API (unset: the default menu)
    revision = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute(default_for_new=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_unit = AccountsByUnitIndex()

    @property
    def is_service(self) -> bool:
        return self.account_type == SERVICE
