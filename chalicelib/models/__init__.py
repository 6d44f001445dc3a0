"""pynamodb models: the one definition of every table.

``ALL_MODELS`` is what ``devstack`` creates locally and what the deployment
template is generated from.
"""

from chalicelib.models.accounts import Account
from chalicelib.models.callbacks import CallbackRecord
from chalicelib.models.content import Content
from chalicelib.models.fans import Fan
from chalicelib.models.push import PushBatch, PushJob, PushMsgRoute, PushQuota
from chalicelib.models.receipts import DeliveryReceipt
from chalicelib.models.screens import Screen
from chalicelib.models.stats import DailyStat
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.tokens import AccessToken
from chalicelib.models.units import Unit

ALL_MODELS = [Unit, Account, Screen, Subscription, Fan, CallbackRecord, DailyStat, DeliveryReceipt, Content]
ALL_MODELS += [AccessToken, PushJob, PushBatch, PushQuota, PushMsgRoute]

__all__ = [m.__name__ for m in ALL_MODELS] + ["ALL_MODELS"]
