"""pynamodb models: the one definition of every table.

``ALL_MODELS`` is what ``devstack`` creates locally and what the deployment
template is generated from.
"""

from chalicelib.models.accounts import Account
from chalicelib.models.audit import AuditEntry
from chalicelib.models.callbacks import CallbackRecord
from chalicelib.models.content import Content
from chalicelib.models.fans import Fan
from chalicelib.models.home import HomeEntry
from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.models.push import PushBatch, PushJob, PushMsgRoute, PushQuota
from chalicelib.models.reads import ReadMark
from chalicelib.models.receipts import DeliveryReceipt
from chalicelib.models.rollups import AnalyticsRollup, FanScope
from chalicelib.models.screen_links import ScreenContentLink
from chalicelib.models.screen_reports import ScreenReportRecord
from chalicelib.models.screens import Screen
from chalicelib.models.sessions import ConsoleSession, Credential, LoginTicket, WechatBinding
from chalicelib.models.stats import DailyStat
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.tokens import AccessToken
from chalicelib.models.units import Unit
from chalicelib.models.users import ApiKey, RoleGrant, User

ALL_MODELS = [Unit, Account, Screen, Subscription, Fan, CallbackRecord, DailyStat, DeliveryReceipt, Content, ReadMark]
ALL_MODELS += [User, ApiKey, RoleGrant, AuditEntry, IdempotencyRecord]  # admin API
ALL_MODELS += [ScreenContentLink, ScreenReportRecord]  # player and screen API
ALL_MODELS += [AccessToken, PushJob, PushBatch, PushQuota, PushMsgRoute]  # push pipeline
ALL_MODELS += [Credential, ConsoleSession, LoginTicket, WechatBinding]  # console sign-in
ALL_MODELS += [AnalyticsRollup, FanScope]  # analytics roll-ups
ALL_MODELS += [HomeEntry]  # the console's home page feed

__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS"]
