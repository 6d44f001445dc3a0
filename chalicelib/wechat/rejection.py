"""The one refusal every check on a WeChat callback raises: ``CallbackRejected``, always a 4xx.

Why a module of its own: the signature checks (``chalicelib.wechat.signature``),
the message checks (``chalicelib.wechat.callback``) and the gateway's replay
checks (``chalicelib.services.gateway.engine``) all refuse a request the same
way, and none of them should import another just for the exception.  The
status is a 4xx because a 5xx would make WeChat retry.
"""

from __future__ import annotations


class CallbackRejected(Exception):
    """A request that must be refused; ``status`` is always a 4xx."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason
