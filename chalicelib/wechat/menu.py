"""The click keys of kepuscreen's custom menu: what the menu sends and the callback answers.

Why here: the default menu (``services.accounts``), the admin menu schema and
the gateway's routes all spell these keys; one definition keeps a renamed key
from leaving a button the callback no longer understands.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args


class MenuKey(StrEnum):
    """``EventKey`` of a CLICK event from our menu."""

    MY_SCREENS = "MY_SCREENS"
    LATEST = "LATEST"
    HOW_TO_SUBSCRIBE = "HOW_TO_SUBSCRIBE"


# The admin menu schema types a button's key with this Literal (mypy takes only literal values in a
# Literal[...], and a Literal of the enum's members would hand the service MenuKey objects, not strings).
ClickKey = Literal["MY_SCREENS", "LATEST", "HOW_TO_SUBSCRIBE"]
MENU_KEYS: tuple[str, ...] = get_args(ClickKey)
if tuple(key.value for key in MenuKey) != MENU_KEYS:  # the keys are written twice, so checked on import
    raise RuntimeError(f"ClickKey {MENU_KEYS} and MenuKey {tuple(key.value for key in MenuKey)} differ")
