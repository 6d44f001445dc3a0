"""The click keys of kepuscreen's custom menu: what the menu sends and the callback answers.

Why here: the default menu (``services.accounts``), the admin menu schema and
the gateway's routes all spell these keys; one definition keeps a renamed key
from leaving a button the callback no longer understands.
"""

from __future__ import annotations

from enum import StrEnum


class MenuKey(StrEnum):
    """``EventKey`` of a CLICK event from our menu."""

    MY_SCREENS = "MY_SCREENS"
    LATEST = "LATEST"
    HOW_TO_SUBSCRIBE = "HOW_TO_SUBSCRIBE"


MENU_KEYS: tuple[str, ...] = tuple(key.value for key in MenuKey)
