"""The text commands a fan can type to an account, read from a text message's content.

A pure function of the text, so the route (which screen to read) and the
decision (what to do) read the same command without the emulator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.models.screens import normalise_screen_code

SUBSCRIBE, UNSUBSCRIBE, MINE, LATEST, HELP = "subscribe", "unsubscribe", "mine", "latest", "help"
ERASE_ASK, ERASE, UNKNOWN = "erase_ask", "erase", "unknown"

_SUBSCRIBE_RE = re.compile(r"^(?:订阅|subscribe|sub)\s*[:：]?\s*(\S+)$", re.IGNORECASE)
_UNSUBSCRIBE_RE = re.compile(r"^(?:退订|取消订阅|unsubscribe|unsub)\s*[:：]?\s*(\S+)$", re.IGNORECASE)
_BY_LOWERED_TEXT = {
    **dict.fromkeys(("我的订阅", "我的大屏", "my screens", "myscreens", "list"), MINE),
    **dict.fromkeys(("最新", "最新内容", "latest", "new"), LATEST),
    **dict.fromkeys(("帮助", "help", "?", "？", "菜单"), HELP),
}
_BY_EXACT_TEXT = {
    **dict.fromkeys(("删除我的数据", "删除数据"), ERASE_ASK),
    "确认删除我的数据": ERASE,
}


@dataclass(frozen=True)
class Command:
    """What the fan asked for; ``arg`` is the screen code typed (subscribe/unsubscribe) or the unknown text."""

    name: str
    arg: str | None = None

    @property
    def screen_code(self) -> str | None:
        """The normalised code of a (un)subscribe command; None for the others or a code that cannot be one."""
        if self.name not in (SUBSCRIBE, UNSUBSCRIBE):
            return None
        return normalise_screen_code(self.arg or "")


def parse(content: str) -> Command:
    """The command a text message's content asks for (``unknown`` with the text when none)."""
    text = content.strip()
    if m := _SUBSCRIBE_RE.match(text):
        return Command(SUBSCRIBE, m.group(1))
    if m := _UNSUBSCRIBE_RE.match(text):
        return Command(UNSUBSCRIBE, m.group(1))
    name = _BY_LOWERED_TEXT.get(text.lower()) or _BY_EXACT_TEXT.get(text)
    if name:
        return Command(name)
    return Command(UNKNOWN, text)
