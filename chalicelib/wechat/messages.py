"""Reading wechatpy's typed messages: the few fields the gateway needs, always as text.

wechatpy (``parse_message``, through xmltodict) gives a field's text with
surrounding whitespace trimmed, ``None`` when the field is absent and a dict
when a hostile sender nests elements inside it: ``as_text`` turns the last two
into "" so no decision ever sees anything but a string.
"""

from __future__ import annotations

from typing import Any

from wechatpy.events import ScanEvent, SubscribeEvent, SubscribeScanEvent, SubscribeScanProductEvent
from wechatpy.messages import BaseMessage

QR_SCENE_PREFIX = "qrscene_"  # WeChat prefixes a follow-by-QR event's EventKey with it


def as_text(value: Any) -> str:
    """A field's value as text: "" for an absent or nested field."""
    return value if isinstance(value, str) else ""


def qr_scene(message: BaseMessage) -> str:
    """The QR scene of a follow or scan event: its EventKey with WeChat's ``qrscene_`` prefix removed once.

    wechatpy removes the prefix itself when it makes a ``SubscribeScanEvent``;
    a plain follow has no prefix (else it would be one), and a scan's EventKey
    is the scene as it is (a prefix there is removed all the same).
    """
    if isinstance(message, SubscribeScanEvent):
        return as_text(message.scene_id)
    if isinstance(message, ScanEvent):
        return as_text(message.scene_id).removeprefix(QR_SCENE_PREFIX)
    if isinstance(message, SubscribeScanProductEvent):
        return as_text(message.event_key)
    if isinstance(message, SubscribeEvent):
        return as_text(message.key)
    return ""
