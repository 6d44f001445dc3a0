"""The rules every WeChat API area shares: the clock, accounts, tokens, quotas, deliveries.

Why a separate core: the API area modules (token, message, menu …) and the
control operations are plain functions of a :class:`Core`, the way wechatpy's
client API classes share one client.  The core owns the state and the lock;
the server takes the lock around each request and each control call.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from devstack.wechat_standin.errors import WeChatError
from devstack.wechat_standin.state import TOKEN_TTL, Account, Fan, State, Token, beijing_day, new_token
from devstack.wechat_standin.wire import Request

AccountDirectory = Callable[[str], "tuple[str, str] | None"]  # appid -> (app secret, account type), or None

# Daily call quotas WeChat applies by default (per account, per API).
DEFAULT_QUOTAS: dict[str, int] = {
    "/cgi-bin/token": 2000,
    "/cgi-bin/message/template/send": 100000,
    "/cgi-bin/message/custom/send": 500000,
    "/cgi-bin/message/subscribe/bizsend": 100000,
    "/cgi-bin/menu/create": 1000,
    "/cgi-bin/qrcode/create": 100000,
}


def norm_path(path: str | None) -> str | None:
    """Controls accept API paths with or without the leading slash."""
    if path is None:
        return None
    return path if path.startswith("/") else "/" + path


class Core:
    """State, lock and the shared checks of an in-memory api.weixin.qq.com."""

    def __init__(self, seed: int = 0, directory: AccountDirectory | None = None) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self.state = State(seed)
        self.directory = directory

    def now(self) -> float:
        """The stand-in's clock: real time plus what ``advance_clock`` added."""
        return time.time() + self.state.clock_offset

    def next_msgid(self) -> int:
        return next(self.state.msgids)

    # ---- accounts and fans -------------------------------------------------

    def lookup(self, appid: str, refresh: bool = False) -> Account | None:
        """A registered account, or one the directory knows (registered on first sight; ``refresh``
        re-reads its secret and type, after an edit)."""
        account = self.state.accounts.get(appid)
        if (account is None or refresh) and self.directory is not None and appid:
            found = self.directory(appid)
            if found is not None and account is None:
                account = self.state.accounts[appid] = Account(appid, found[0], found[1])
            elif found is not None and account is not None:
                account.secret, account.account_type = found
        return account

    def account(self, appid: str) -> Account:
        account = self.lookup(appid)
        if account is None:
            raise KeyError(f"unknown appid {appid!r}; call register_account first")
        return account

    @staticmethod
    def known_fan(account: Account, openid: Any) -> Fan:
        """40003 unless the openid was ever seen for this account (openids are per appid)."""
        if not isinstance(openid, str) or openid not in account.fans:
            raise WeChatError(40003)
        return account.fans[openid]

    def deliver(self, openid: str, appid: str, channel: str, payload: dict[str, Any], msgid: int) -> None:
        """A message reached the user: it lands in their inbox, which tests read back."""
        self.state.inboxes.setdefault(openid, []).append(
            {"appid": appid, "channel": channel, "payload": copy.deepcopy(payload), "at": self.now(), "msgid": msgid}
        )

    # ---- tokens, credentials, quotas ----------------------------------------

    def issue_token(self, appid: str, ttl: float = TOKEN_TTL) -> Token:
        token = Token(new_token(), appid, self.now() + ttl)
        self.state.tokens[token.value] = token
        return token

    def token_valid(self, value: str | None) -> Token | None:
        token = self.state.tokens.get(value) if value else None
        if token and token.state == "ok" and self.now() < token.expires_at:
            return token
        return None

    def auth(self, request: Request) -> Account:
        """Check ``access_token=`` like WeChat: 41001 missing, 40001 invalid, 42001 expired."""
        value = request.query.get("access_token")
        if not value:
            raise WeChatError(41001)
        token = self.state.tokens.get(value)
        if token is None or token.state == "superseded":
            raise WeChatError(40001)
        if token.state == "expired" or self.now() >= token.expires_at:
            raise WeChatError(42001)
        account = self.account(token.appid)
        self.check_quota(request, account.appid)
        return account

    def credentials(self, request: Request, appid: Any, secret: Any) -> Account:
        """Check an appid and its secret (token and OAuth code exchange), with WeChat's codes."""
        if not appid:
            raise WeChatError(41002)
        account = self.lookup(appid)
        if account is None:
            raise WeChatError(40013)
        if not secret:
            raise WeChatError(41004)
        if secret != account.secret and self.directory is not None:
            account = self.lookup(appid, refresh=True) or account
        if secret != account.secret:
            raise WeChatError(40125)
        self.check_quota(request, account.appid)
        return account

    def check_quota(self, request: Request, appid: str) -> None:
        """Identify the caller for quota counting; 45009 once today's limit is used."""
        request.appid = appid
        limit = self.state.quotas.get((appid, request.path), DEFAULT_QUOTAS.get(request.path))
        used = self.state.usage.get((appid, request.path, beijing_day(self.now())), 0)
        if limit is not None and used >= limit:
            raise WeChatError(45009)

    def count_success(self, request: Request) -> None:
        key = (request.appid or "", request.path, beijing_day(self.now()))
        self.state.usage[key] = self.state.usage.get(key, 0) + 1

    @staticmethod
    def json_body(request: Request) -> dict[str, Any]:
        """The request's JSON object: 44002 if empty, 47001 if not a JSON object."""
        if not request.raw:
            raise WeChatError(44002)
        if request.body_error or not isinstance(request.body, dict):
            raise WeChatError(47001)
        return request.body
