"""A local stand-in for the WeChat official-account API; see :mod:`devstack.wechat_standin.standin`."""

from devstack.wechat_standin.standin import StandInClient, StandInError, WeChatError, WeChatStandIn, main, validate_menu

__all__ = ["StandInClient", "StandInError", "WeChatError", "WeChatStandIn", "main", "validate_menu"]
