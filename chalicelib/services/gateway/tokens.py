"""Access tokens shared by every function: a DynamoDB-backed ``TokenProvider``.

Why: each Lambda process fetching its own token would make WeChat issue
tokens behind the others' backs (and burn the account's daily token quota);
a forced refresh leaves the previous token only 30 seconds.  So one item per
appid (``AccessToken``) holds the current token with its real expiry, and
every worker follows the same protocol:

``get(appid)``
    1. the process cache, while more than ``REFRESH_MARGIN`` (5 min) is left;
    2. otherwise a consistent read of the item; a token with more than the
       margin left is cached and used;
    3. otherwise take the refresh *lease* with a conditional write (only when
       the lease is free and the stored token still needs refreshing), call
       ``stable_token`` once and store the result (conditional on still
       holding the lease).  Losers of the lease keep using the stored token
       while it is still valid, or wait (bounded, with back-off) for the
       winner's token.

``invalidate(appid, bad_token)``
    WeChat said 40001/42001 for ``bad_token``.  Compare-and-swap: the lease is
    taken only if the stored token *is still* ``bad_token``; the winner fetches
    a new token (``force_refresh`` only when ``stable_token`` hands back the bad
    one again) and bumps ``generation``.  Everyone else waits for a token that
    differs from the bad one.  The caller (``KepuWeChatClient``) retries once.

Waits are bounded (``WAIT_SECONDS``) and end in ``TokenUnavailable``, which
the push sender treats as a transient failure.

``client_for`` is where a WeChat client gets its inputs: the app secret
(SSM) and the process's token provider; ``chalicelib.wechat.client`` itself
reads no secrets.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
import uuid
from collections.abc import Callable

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import observability
from chalicelib.dal.items import find
from chalicelib.models.tokens import AccessToken
from chalicelib.secrets import load_account_secrets
from chalicelib.wechat import client as wechat_client

REFRESH_MARGIN = 300  # refresh when five minutes or less remain
LEASE_SECONDS = 10  # a refresher that dies frees the lease after this
WAIT_SECONDS = 8.0  # longest a caller waits for another worker's refresh
MIN_USABLE = 30  # a token with less than this left is not handed out while waiting


class TokenUnavailable(RuntimeError):
    """No valid token could be obtained within the wait bound."""


Fetch = Callable[..., tuple[str, int]]


def _is_conditional_failure(exc: Exception) -> bool:
    cause = getattr(exc, "cause_response_code", None)
    return cause == "ConditionalCheckFailedException"


class DynamoTokenProvider:
    """The shared token provider; thread-safe, one instance per process."""

    def __init__(
        self, *, fetch: Fetch | None = None, clock: Callable[[], float] = time.time, wait_seconds: float = WAIT_SECONDS
    ) -> None:
        self._fetch = fetch or wechat_client.fetch_stable_token
        self._clock = clock
        self._wait_seconds = wait_seconds
        self._owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._cache: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # ------------------------------------------------------------ protocol

    def get(self, appid: str) -> str:
        token = self._cached(appid)
        if token:
            return token
        with self._lock_for(appid):  # threads of one process share one read/refresh
            token = self._cached(appid)
            if token:
                return token
            return self._obtain(appid, bad_token=None)

    def invalidate(self, appid: str, bad_token: str) -> str:
        with self._lock_for(appid):
            with self._guard:
                cached = self._cache.get(appid)
                if cached and cached[0] == bad_token:
                    del self._cache[appid]
            token = self._cached(appid)
            if token and token != bad_token:
                return token  # another thread of this process already swapped it
            return self._obtain(appid, bad_token=bad_token)

    # ------------------------------------------------------------ internals

    def _lock_for(self, appid: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(appid, threading.Lock())

    def _cached(self, appid: str) -> str | None:
        # Read on every WeChat call of every send thread: no lock.  A dict lookup is atomic in CPython and
        # entries are replaced whole (token, expiry) under ``_guard``, so a reader sees the old or the new pair.
        hit = self._cache.get(appid)
        if hit and hit[1] - self._clock() > REFRESH_MARGIN:
            return hit[0]
        return None

    def _remember(self, appid: str, token: str, expires_at: float) -> str:
        with self._guard:
            self._cache[appid] = (token, expires_at)
        return token

    def _obtain(self, appid: str, bad_token: str | None) -> str:
        deadline = self._clock() + self._wait_seconds
        delay = 0.05
        while True:
            now = self._clock()
            item = self._read(appid)
            good = item is not None and bool(item.token) and item.token != bad_token
            if good and item is not None and item.expires_at - now > REFRESH_MARGIN:
                return self._remember(appid, item.token, item.expires_at)
            if self._take_lease(appid, item, bad_token, now):
                return self._refresh(appid, item, bad_token)
            if good and item is not None and item.expires_at - now > MIN_USABLE:
                # Inside the refresh margin while someone else refreshes: the old token still works.
                return item.token
            if now >= deadline:
                raise TokenUnavailable(f"no access token for {appid} within {self._wait_seconds:.0f}s")
            time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not security
            delay = min(delay * 2, 1.0)

    @staticmethod
    def _read(appid: str) -> AccessToken | None:
        return find(AccessToken, appid, consistent=True)

    def _take_lease(self, appid: str, item: AccessToken | None, bad_token: str | None, now: float) -> bool:
        """Conditional write: lease free AND the stored token still needs replacing."""
        lease_free = (AccessToken.lease_until < now) | AccessToken.lease_until.does_not_exist()
        if bad_token is None:
            needs = AccessToken.token.does_not_exist() | (AccessToken.expires_at < now + REFRESH_MARGIN)
        else:
            needs = (
                AccessToken.token.does_not_exist()
                | (AccessToken.token == bad_token)
                | (AccessToken.expires_at < now + REFRESH_MARGIN)
            )
        condition = AccessToken.appid.does_not_exist() | (lease_free & needs)
        try:
            AccessToken(appid).update(
                actions=[AccessToken.lease_owner.set(self._owner), AccessToken.lease_until.set(now + LEASE_SECONDS)],
                condition=condition,
            )
            return True
        except UpdateError as exc:
            if _is_conditional_failure(exc):
                return False
            raise

    def _refresh(self, appid: str, item: AccessToken | None, bad_token: str | None) -> str:
        secret = app_secret(appid) or ""
        try:
            token, ttl = self._fetch(appid, secret)
            if bad_token and token == bad_token:
                token, ttl = self._fetch(appid, secret, force_refresh=True)
        except Exception:
            self._release(appid)
            observability.count("TokenRefreshes", outcome="failed")
            raise
        observability.count("TokenRefreshes", outcome="ok")
        expires_at = self._clock() + ttl
        generation = (item.generation if item else 0) + 1
        try:
            AccessToken(
                appid, token=token, expires_at=expires_at, lease_owner=None, lease_until=0, generation=generation
            ).save(condition=AccessToken.lease_owner == self._owner)
        except PutError as exc:
            if not _is_conditional_failure(exc):
                raise
            # Our lease ran out and another worker took over; the token we got is still valid (stable_token).
        return self._remember(appid, token, expires_at)

    def _release(self, appid: str) -> None:
        with contextlib.suppress(UpdateError):  # the lease then simply runs out
            AccessToken(appid).update(
                actions=[AccessToken.lease_until.set(0)], condition=AccessToken.lease_owner == self._owner
            )


_installed: DynamoTokenProvider | None = None
_current: wechat_client.TokenProvider | None = None  # what ``client_for`` hands to clients in this process


def app_secret(appid: str) -> str | None:
    """The account's app secret, read from SSM (cached by ``chalicelib.secrets``)."""
    return load_account_secrets(appid).app_secret


def use_provider(provider: wechat_client.TokenProvider) -> None:
    """Make ``provider`` the one ``client_for`` gives every client of this process."""
    global _current
    _current = provider


def current_provider() -> wechat_client.TokenProvider:
    """The installed provider; a process-local one until a handler installs the shared one."""
    if _current is None:
        use_provider(wechat_client.ProcessTokenProvider(app_secret))
    assert _current is not None
    return _current


def install_shared_provider() -> DynamoTokenProvider:
    """Make the shared provider the process default for ``client_for`` (idempotent)."""
    global _installed
    if _installed is None:
        _installed = DynamoTokenProvider()
    use_provider(_installed)
    return _installed


def client_for(appid: str) -> wechat_client.KepuWeChatClient:
    """A WeChat API client for one official account: its app secret (SSM) and this process's token provider."""
    return wechat_client.KepuWeChatClient(appid, app_secret(appid), current_provider())
