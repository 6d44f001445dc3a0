"""The WeChat HTTP API client: wechatpy's, pointed at ``WECHAT_API_BASE``.

wechatpy 1.8 knows every API area we use (menus, QR codes, messages, users,
OAuth) but hard-codes the legacy ``/cgi-bin/token`` URL and lacks the
``stable_token`` API.  We extend it rather than fork it:

- every call goes to ``{WECHAT_API_BASE}/cgi-bin/...`` so the local stand-in
  (or any WeChat-compatible server) can take WeChat's place;
- the access token comes from a ``TokenProvider`` shared by all functions
  (see ``chalicelib.services.gateway.tokens``) instead of wechatpy's per-process
  session, because WeChat allows one valid token per account at a time;
- ``fetch_stable_token`` implements ``POST /cgi-bin/stable_token``.

Secrets are inputs here: the app secret and the token provider are passed in
by the caller (``chalicelib.services.gateway.tokens.client_for`` reads them), so this
module speaks WeChat's protocol and never reads SSM.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import requests
from wechatpy import WeChatClient, WeChatOAuth
from wechatpy.exceptions import WeChatClientException

from chalicelib.settings import get_settings
from chalicelib.tracing import capture_method
from chalicelib.wechat.errors import TOKEN_ERRORS

HTTP_TIMEOUT_SECONDS = 5


class TokenProvider(Protocol):
    def get(self, appid: str) -> str: ...

    def invalidate(self, appid: str, bad_token: str) -> str: ...


@capture_method
def fetch_stable_token(appid: str, secret: str, *, force_refresh: bool = False) -> tuple[str, int]:
    """``POST /cgi-bin/stable_token``: the token and its remaining lifetime in seconds."""
    response = requests.post(
        f"{get_settings().wechat_api_base}/cgi-bin/stable_token",
        json={"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force_refresh},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    result = response.json()
    if result.get("errcode"):
        raise WeChatClientException(result["errcode"], result.get("errmsg", ""), response=response)
    return result["access_token"], int(result.get("expires_in", 7200))


AppSecretOf = Callable[[str], str | None]  # appid -> the account's app secret


class ProcessTokenProvider:
    """Tokens cached in this process only; replaced in Lambda by the shared DynamoDB provider.

    ``app_secret`` gives the secret for an appid when a token must be fetched.
    """

    def __init__(self, app_secret: AppSecretOf) -> None:
        self._app_secret = app_secret
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}

    def get(self, appid: str) -> str:
        with self._lock:
            token, expires = self._tokens.get(appid, ("", 0.0))
            if token and expires - time.time() > 300:
                return token
            secret = self._app_secret(appid) or ""
            token, ttl = fetch_stable_token(appid, secret)
            self._tokens[appid] = (token, time.time() + ttl)
            return token

    def invalidate(self, appid: str, bad_token: str) -> str:
        with self._lock:
            if self._tokens.get(appid, ("",))[0] == bad_token:
                self._tokens.pop(appid, None)
        return self.get(appid)


class KepuWeChatClient(WeChatClient):
    """wechatpy's client with our base URL and the shared token provider.

    On a token error it asks the provider for a fresh token once and retries
    once — never a loop.
    """

    def __init__(self, appid: str, secret: str | None, tokens: TokenProvider, timeout: int = HTTP_TIMEOUT_SECONDS):
        super().__init__(appid, secret or "", timeout=timeout, auto_retry=False)
        self.API_BASE_URL = f"{get_settings().wechat_api_base}/cgi-bin/"
        self._tokens = tokens
        self._retried = False

    @property
    def access_token(self) -> str:
        return self._tokens.get(self.appid)

    def fetch_access_token(self) -> dict:
        token, expires_in = fetch_stable_token(self.appid, self.secret)
        return {"access_token": token, "expires_in": expires_in}

    @capture_method  # every API call (with its one token retry) in one subsegment
    def _request(self, method, url_or_endpoint, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        if not isinstance(kwargs.get("params"), dict):
            kwargs["params"] = dict(kwargs.get("params") or {})  # shared with wechatpy, so we see the token it used
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        except WeChatClientException as exc:
            if exc.errcode not in TOKEN_ERRORS or self._retried:
                raise
            used = (kwargs.get("params") or {}).get("access_token") or ""
            self._tokens.invalidate(self.appid, used)
            self._retried = True
            try:
                kwargs["params"].pop("access_token", None)
                return super()._request(method, url_or_endpoint, **kwargs)
            finally:
                self._retried = False


class KepuWeChatOAuth(WeChatOAuth):
    """snsapi_base web authorization against ``WECHAT_OAUTH_BASE`` / ``WECHAT_API_BASE``."""

    def __init__(self, appid: str, secret: str, redirect_uri: str, scope: str = "snsapi_base", state: str = ""):
        super().__init__(appid, secret, redirect_uri, scope, state)
        settings = get_settings()
        self.API_BASE_URL = f"{settings.wechat_api_base}/"
        self.OAUTH_BASE_URL = f"{settings.wechat_oauth_base}/connect/"
