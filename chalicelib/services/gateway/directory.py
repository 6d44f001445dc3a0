"""Cached look-ups that every callback needs: the account and its keys, screens.

A Lambda process serves many callbacks; reading the account item and its SSM
secrets for each would add two round trips inside WeChat's 5-second budget.
They change rarely: the account comes from the accounts repository's process
cache (a minute; ``dal.accounts.forget`` drops it at once in the process that
changed it), its secrets from Powertools' cache, screens from a cache here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import TTLCache

from chalicelib.dal import accounts
from chalicelib.models.accounts import Account
from chalicelib.models.screens import Screen
from chalicelib.secrets import load_account_secrets
from chalicelib.wechat.callback import CallbackKeys

CACHE_SECONDS = 60
_lock = threading.Lock()
_screens: TTLCache = TTLCache(maxsize=4096, ttl=CACHE_SECONDS)


@dataclass(frozen=True)
class ScreenSummary:
    """What replies show about a screen."""

    screen_id: str
    name: str
    unit_id: str
    address: str | None


def callback_account(appid: str) -> tuple[Account, CallbackKeys] | None:
    """The account for ``appid`` and its callback keys; None when unknown or not configured."""
    account = accounts.find(appid, max_age=CACHE_SECONDS)
    if account is None:
        return None
    secrets = load_account_secrets(appid)
    if not secrets.token:
        return None
    return account, CallbackKeys(secrets.token, secrets.aes_key, secrets.aes_key_previous, mode=account.message_mode)


def remember_screen(screen: Screen) -> ScreenSummary:
    summary = ScreenSummary(screen.screen_id, screen.name, screen.unit_id, screen.address)
    with _lock:
        _screens[screen.screen_id] = summary
    return summary


def screen_summaries(screen_ids: set[str] | list[str]) -> dict[str, ScreenSummary]:
    """Summaries of several screens: cached ones free, the rest in one BatchGetItem."""
    wanted = sorted(set(screen_ids))
    found: dict[str, ScreenSummary] = {}
    with _lock:
        for sid in wanted:
            if sid in _screens:
                found[sid] = _screens[sid]
    missing = [sid for sid in wanted if sid not in found]
    if missing:
        for screen in Screen.batch_get(missing):
            found[screen.screen_id] = remember_screen(screen)
    return found


def clear() -> None:
    """Drop every cached screen (tests, and after bulk admin changes)."""
    with _lock:
        _screens.clear()
