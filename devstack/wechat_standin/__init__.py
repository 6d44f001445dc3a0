"""A local stand-in for the WeChat official-account API (api.weixin.qq.com).

Why it exists: kepuscreen talks to WeChat only through a configurable base URL
(``WECHAT_API_BASE``).  Pointing that URL at this server lets the whole product
run on one machine and in tests with no WeChat account, while still meeting
WeChat's real rules and error codes (token expiry, 48-hour customer-service
windows, template field limits, quotas, duplicate mass sends...).  Tests and the
local runner can also break it on purpose (latency, injected ``-1`` / 5xx,
expired tokens) to prove the retry and dead-letter paths work.

The server is stdlib only (``http.server``), keeps all state in memory and
guards it with one lock.  Responses are shaped like WeChat's: JSON with
``errcode``/``errmsg`` and HTTP 200 even for errors.

Layout, one module per WeChat API area as in wechatpy's client:

==============  ==============================================================
``token``       cgi-bin/token and stable_token
``message``     custom, template, subscription-notice and mass sends
``qrcode``      qrcode/create, showqrcode
``menu``        menu create/get/delete, selfmenu info, menu validation
``user``        user/info, user/get
``datacube``    getusersummary, getusercumulate
``oauth``       connect/oauth2 consent page, sns/oauth2/access_token
``accounts``    controls: accounts, follows, interactions, reset
``faults``      controls: latency, late and lost answers, injected errors, quotas, clock
``log``         the calls log
``controls``    the table of control operations (one declaration each)
``client``      :class:`StandInClient`, generated from that table
``core``        shared rules (clock, tokens, quotas, deliveries); ``state``: the data
``dispatch``    the request pipeline; ``server``: HTTP glue; ``wire``: request/answer
``errors``      WeChat's error codes and wording
==============  ==============================================================

Controls are available in-process (methods of :class:`WeChatStandIn`) and over
HTTP under ``/_standin/...`` for other processes (:class:`StandInClient`); both
are made from one table (:mod:`devstack.wechat_standin.controls`).

wechatpy (1.8.x) note: ``WeChatClient.API_BASE_URL`` can be overridden, but
``fetch_access_token`` hard-codes ``https://api.weixin.qq.com/cgi-bin/token``
and there is no stable-token call, so the product's client subclass must build
token URLs from ``WECHAT_API_BASE`` too (see ``wechatpy_client`` in the tests).
For ``WeChatOAuth`` set both ``API_BASE_URL`` and ``OAUTH_BASE_URL``.

Run standalone::

    python -m devstack.wechat_standin --port 8901 --account wxdemo:secret:service
"""

from devstack.wechat_standin.cli import main
from devstack.wechat_standin.client import StandInClient
from devstack.wechat_standin.controls import CONTROLS
from devstack.wechat_standin.core import AccountDirectory
from devstack.wechat_standin.errors import StandInError, WeChatError
from devstack.wechat_standin.menu import validate_menu
from devstack.wechat_standin.standin import WeChatStandIn

__all__ = [
    "CONTROLS",
    "AccountDirectory",
    "StandInClient",
    "StandInError",
    "WeChatError",
    "WeChatStandIn",
    "main",
    "validate_menu",
]
